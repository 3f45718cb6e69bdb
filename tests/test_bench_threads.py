"""``benchmarks/_threads.py``: --threads is read before NumPy loads, in both spellings."""
import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "_threads", Path(__file__).resolve().parents[1] / "benchmarks" / "_threads.py")
threads = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(threads)


@pytest.mark.parametrize("argv,default,expect", [
    (["--threads", "3"], 1, 3), (["--quick", "--threads=5"], None, 5), (["--quick"], 1, 1)])
def test_threads_from_argv(argv, default, expect):
    assert threads.threads_from_argv(argv, default) == expect


def test_default_none_means_every_core(monkeypatch):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 7)
    assert threads.threads_from_argv([], None) == 7


@pytest.mark.parametrize("argv", [["--threads", "two"], ["--threads=0"], ["--threads"]])
def test_bad_values_stop_with_a_message(argv):
    with pytest.raises(SystemExit, match="--threads"):
        threads.threads_from_argv(argv)


def test_pin_threads_exports_the_count(monkeypatch):
    for var in threads.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    assert threads.pin_threads(default=1, argv=["--threads", "2"]) == 2
    assert all(threads.os.environ[v] == "2" for v in threads.ENV_VARS)

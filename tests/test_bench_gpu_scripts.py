"""The GPU benchmark scripts' harness parts, checked on the CPU: their timer (with a
stand-in CuPy, see test_bench_progress_cuda) and the record each writes from its rows."""
import importlib.util
import sys
import time
from pathlib import Path

import pytest

from course_lib.bench import machine_record, machine_slug, read_record

from test_bench_progress_cuda import _FakeCupy

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ROWS = {
    "bench_conv_gpu": ("conv_gpu", {"forward": [{"layer": "res2 3x3", "x": (8, 64, 56, 56),
                                                 "ms": {"tiled": 2.0, "cudnn": 0.5},
                                                 "TFLOPs": {"tiled": 1.8, "cudnn": 7.4},
                                                 "max_abs_err": {"tiled": 1e-5},
                                                 "errors": {"naive": "wrong result"},
                                                 "pct_of_cudnn": {"tiled": 25.0}}],
                                    "ceilings": {"d2d_copy_GBps": 4000.0}, "stage_errors": {}}),
    "bench_attention_gpu": ("attention_gpu", {"softmax": [{"rows": 4096, "n": 1024,
                                                           "ms": {"ours": 0.1}, "GBps": {"ours": 300.0},
                                                           "max_abs_err": {}, "errors": {}}],
                                              "copy_GBps": 4000.0, "stage_errors": {}}),
    "bench_rnn_gpu": ("rnn_gpu", {"rows": [{"kind": "lstm", "T": 100, "B": 32, "H": 256,
                                            "ms": {"cudnn": 1.0, "stepwise": 9.0},
                                            "errors": {}}]}),
}


@pytest.mark.parametrize("script", sorted(ROWS))
def test_record_from_the_rows(script, tmp_path):
    mod = _load(script)
    bench, result = ROWS[script]
    result = dict(result, env={"machine": machine_record()})
    path = mod.write_harness_record(result, True, tmp_path)
    assert path == tmp_path / machine_slug(result["env"]["machine"]) / f"{bench}_quick.json"
    rec = read_record(path)
    rows = [r for part in ("forward", "softmax", "rows") for r in result.get(part, [])]
    expect = {(k, v) for r in rows for k, v in r["ms"].items()}
    assert {(r["name"], r["median_ms"]) for r in rec["results"] if "median_ms" in r} == expect
    if script == "bench_conv_gpu":
        tiled = next(r for r in rec["results"] if r["name"] == "tiled")
        assert tiled["TFLOPs"] == 1.8 and tiled["params"]["layer"] == "res2 3x3"
        assert any(r["name"] == "naive" and r["errors"] for r in rec["results"])


@pytest.mark.parametrize("script", ["bench_conv_gpu", "bench_attention_gpu", "bench_rnn_gpu"])
def test_time_gpu_goes_through_the_harness_timer(script, monkeypatch):
    mod = _load(script)
    monkeypatch.setitem(sys.modules, "cupy", _FakeCupy())
    ms = mod.time_gpu(lambda: time.sleep(0.002), trials=3)
    assert 1.9 <= ms < 20


@pytest.mark.parametrize("script,parts", [
    ("bench_conv_gpu", ("kernel_attributes", "bench_forward", "ceilings", "bench_backward")),
    ("bench_attention_gpu", ("copy_bandwidth", "bench_softmax", "bench_layernorm",
                             "bench_attention"))])
def test_main_runs_every_part_and_keeps_going_after_a_failure(script, parts, monkeypatch,
                                                              tmp_path):
    """The parts loop of a GPU script, with the GPU work replaced: every part runs, a part that
    raises is reported in stage_errors (and the exit status), the files hold the others."""
    import json

    import course_lib.cuda
    mod = _load(script)
    monkeypatch.setattr(course_lib.cuda, "gpu_available", lambda: True)
    monkeypatch.setattr(mod, "environment", lambda: {"machine": machine_record()})
    monkeypatch.setattr(mod, "to_markdown", lambda result: "report\n")
    for name in parts:
        monkeypatch.setattr(mod, name, lambda *a, **k: [])
    monkeypatch.setattr(mod, parts[1], lambda *a, **k: 1 / 0)
    assert mod.main(["--out", str(tmp_path), "--quick"]) == 1
    result = json.loads((tmp_path / f"{script}.json").read_text())
    assert list(result["stage_errors"]) != [] and "ZeroDivisionError" in "".join(
        result["stage_errors"].values())
    assert len(result["stage_errors"]) == 1          # only the planted part failed
    assert (tmp_path / f"{script}.md").read_text() == "report\n"


@pytest.mark.parametrize("script", ["bench_rnn_gpu", "bench_flash_gpu"])
def test_dry_run_on_the_cpu(script):
    """--dry-run runs the whole script on the CPU (emulator kernels, torch CPU, tiny sizes):
    every one of our kernels must run and agree with torch (exit status 0)."""
    import subprocess
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), "--dry-run"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr

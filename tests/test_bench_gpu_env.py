"""``gpu_environment``: the device and versions a GPU report names; what is missing is
recorded with its reason, never raised."""
import sys
import types

import torch

from course_lib.bench.gpu_env import gpu_environment

MACHINE = {"cpu": "test cpu"}


def _fake_cupy(name=b"NVIDIA Test GPU", major=9, minor=0):
    rt = types.SimpleNamespace(
        getDeviceProperties=lambda i: {"name": name, "major": major, "minor": minor},
        driverGetVersion=lambda: 12080, runtimeGetVersion=lambda: 12060)
    return types.SimpleNamespace(__version__="13.9.9", cuda=types.SimpleNamespace(runtime=rt))


def test_without_cupy_the_reason_is_recorded(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)        # import cupy -> ImportError
    env = gpu_environment(machine=MACHINE)
    assert env["machine"] is MACHINE and env["python"] and "host" in env
    assert "cupy" in env["cupy_error"] and "gpu" not in env
    assert env["torch"] == torch.__version__


def test_device_fields_from_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    env = gpu_environment(machine=MACHINE)
    assert env["gpu"] == "NVIDIA Test GPU" and env["sm"] == "sm_90"
    assert (env["driver"], env["cuda_runtime"], env["cupy"]) == (12080, 12060, "13.9.9")
    assert "cupy_error" not in env


def test_a_broken_device_query_is_recorded(monkeypatch):
    bad = _fake_cupy()
    bad.cuda.runtime.getDeviceProperties = lambda i: (_ for _ in ()).throw(
        RuntimeError("cudaErrorNoDevice"))
    monkeypatch.setitem(sys.modules, "cupy", bad)
    env = gpu_environment(machine=MACHINE)
    assert "cudaErrorNoDevice" in env["cupy_error"] and "gpu" not in env

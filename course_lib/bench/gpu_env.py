"""What a GPU benchmark records about its device and software, in one place.

Every GPU script heads its report with the device and the versions that produced the
numbers::

    {"host", "python", "machine": machine_record(),
     "gpu": "NVIDIA H200", "sm": "sm_90", "driver": 12080, "cuda_runtime": 12080,
     "cupy": "13.6.0", "torch": "2.11.0+cu130", "cudnn": 91900}

A piece that cannot be read (no CuPy, no CUDA torch) is left out and the reason kept
under ``cupy_error`` / ``torch_error``, so a report says what was missing instead of
failing.  Importable without CuPy or torch.
"""
from __future__ import annotations

import platform

from .machine import machine_record


def _cupy_part() -> dict:
    import cupy
    rt = cupy.cuda.runtime
    props = rt.getDeviceProperties(0)
    name = props["name"]
    return {"gpu": name.decode() if isinstance(name, bytes) else str(name),
            "sm": f"sm_{props['major']}{props['minor']}",
            "driver": rt.driverGetVersion(), "cuda_runtime": rt.runtimeGetVersion(),
            "cupy": cupy.__version__}


def _torch_part() -> dict:
    import torch
    out = {"torch": torch.__version__}
    if torch.cuda.is_available():
        out["cudnn"] = torch.backends.cudnn.version()
        out["torch_gpu"] = torch.cuda.get_device_name(0)
    return out


def gpu_environment(machine: dict | None = None) -> dict:
    """The record above for device 0 (``machine``: a machine record already taken)."""
    env = {"host": platform.node(), "python": platform.python_version(),
           "machine": machine_record() if machine is None else machine}
    for key, part in (("cupy_error", _cupy_part), ("torch_error", _torch_part)):
        try:
            env.update(part())
        except Exception as exc:       # recorded, not raised: the report names what is missing
            env[key] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if "gpu" not in env and "torch_gpu" in env:
        env["gpu"] = env["torch_gpu"]
    return env

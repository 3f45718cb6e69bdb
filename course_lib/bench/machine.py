"""A record of the machine a benchmark ran on.

Every committed result names its machine with this record: CPU model and cores, memory,
load average at the time, GPU / driver / CUDA when present, the versions of the
libraries that did the work, and the thread counts (NumPy's BLAS, torch) -- a 2x
difference between two runs is often just a thread count.

Sources: ``/proc/cpuinfo`` (else ``lscpu``, else :func:`platform.processor`) for the
CPU; ``/proc/meminfo`` for memory; BLAS threads from :mod:`threadpoolctl` if installed,
else by asking the OpenBLAS library NumPy loaded (``*openblas_get_num_threads*`` via
ctypes), else from the environment variables; the GPU from torch, else CuPy, else
``nvidia-smi``.  A field is None only when this machine does not have the thing
(no GPU) or the information cannot be read.
"""
from __future__ import annotations

import ctypes
import importlib
import os
import platform
import re
import shutil
import subprocess
import time

LIBRARIES = ("numpy", "scipy", "torch", "cupy", "matplotlib")
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cpu_model() -> str:
    """The CPU's model name."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if shutil.which("lscpu"):
        try:
            out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
            m = re.search(r"^Model name:\s*(.+)$", out, re.M)
            if m:
                return m.group(1).strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown CPU"


def memory_total_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return 1024 * int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = importlib.import_module(name).__version__
        except Exception:  # noqa: BLE001 - not installed or broken: not recorded
            continue
    return out


def _openblas_from_loaded_library() -> dict | None:
    """Threads and config of the OpenBLAS that NumPy loaded, asked through ctypes."""
    try:
        import numpy  # noqa: F401 - makes sure the library is loaded
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()
                     and line.split()[-1].startswith("/")}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("", ""), ("scipy_", "")):
            try:
                nthreads = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}")
                config = getattr(lib, f"{prefix}openblas_get_config{suffix}")
            except AttributeError:
                continue
            nthreads.restype, config.restype = ctypes.c_int, ctypes.c_char_p
            return {"name": "openblas", "threads": int(nthreads()),
                    "config": config().decode(errors="replace").strip(),
                    "library": os.path.basename(path), "how": "ctypes"}
    return None


def blas_info() -> dict:
    """NumPy's BLAS: name, version, threads, and how it was found."""
    try:
        from threadpoolctl import threadpool_info
        for d in threadpool_info():
            if d.get("user_api") == "blas":
                return {"name": d.get("internal_api"), "version": d.get("version"),
                        "threads": d.get("num_threads"),
                        "config": d.get("architecture"),
                        "library": os.path.basename(d.get("filepath", "")),
                        "how": "threadpoolctl"}
    except ImportError:
        pass
    info = _openblas_from_loaded_library() or {"name": None, "threads": None,
                                               "how": "numpy build config"}
    try:
        import numpy as np
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info.setdefault("version", cfg.get("version"))
        info["build_name"] = cfg.get("name")
        if info.get("name") is None:
            info["name"] = cfg.get("name")
    except Exception:  # noqa: BLE001 - older NumPy: leave what we have
        pass
    if info.get("threads") is None:      # last resort: what the environment asked for
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            if os.environ.get(var, "").isdigit():
                info["threads"] = int(os.environ[var])
                break
    return info


def _torch_threads() -> dict | None:
    try:
        import torch
    except ImportError:
        return None
    return {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}


def gpu_info() -> list[dict] | None:
    """One dict per visible CUDA GPU (name, compute capability, memory, driver, CUDA),
    None when there is none."""
    try:
        import torch
        if torch.cuda.is_available():
            out = []
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                out.append({"name": p.name, "capability": f"{p.major}.{p.minor}",
                            "memory_bytes": int(p.total_memory),
                            "multiprocessors": int(p.multi_processor_count),
                            "cuda_runtime": torch.version.cuda,
                            "cudnn": torch.backends.cudnn.version(), "via": "torch"})
            _add_driver(out)
            return out
    except ImportError:
        pass
    try:
        import cupy
        n = cupy.cuda.runtime.getDeviceCount()
        out = []
        for i in range(n):
            p = cupy.cuda.runtime.getDeviceProperties(i)
            name = p["name"].decode() if isinstance(p["name"], bytes) else p["name"]
            rt = cupy.cuda.runtime.runtimeGetVersion()
            out.append({"name": name, "capability": f"{p['major']}.{p['minor']}",
                        "memory_bytes": int(p["totalGlobalMem"]),
                        "multiprocessors": int(p["multiProcessorCount"]),
                        "cuda_runtime": f"{rt // 1000}.{rt % 1000 // 10}", "via": "cupy"})
        if out:
            _add_driver(out)
            return out
    except Exception:  # noqa: BLE001 - no CuPy, or CuPy without a driver
        pass
    return None


def _add_driver(gpus: list[dict]) -> None:
    driver = None
    if shutil.which("nvidia-smi"):
        try:
            driver = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=10).stdout.split("\n")[0].strip() or None
        except (OSError, subprocess.SubprocessError):
            pass
    if driver is None:
        try:
            import cupy
            v = cupy.cuda.runtime.driverGetVersion()
            driver = f"CUDA driver API {v // 1000}.{v % 1000 // 10}"
        except Exception:  # noqa: BLE001
            pass
    for g in gpus:
        g["driver"] = driver


def machine_record() -> dict:
    """Everything about this machine that a benchmark result depends on (JSON-ready)."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = os.cpu_count()
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        load = None
    blas = blas_info()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "memory_bytes": memory_total_bytes(),
        "load_average": load,
        "os": platform.platform(),
        "versions": _versions(),
        "blas": blas,
        "threads": {"blas": blas.get("threads"), "torch": _torch_threads(),
                    "env": {k: os.environ[k] for k in THREAD_ENV if k in os.environ}},
        "gpus": gpu_info(),
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _slug(text: str) -> str:
    text = re.sub(r"\((R|TM|tm|r)\)|\bCPU\b|\bProcessor\b|@.*$", " ", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def machine_slug(record: dict | None = None) -> str:
    """A folder name for results: the GPU when there is one (``nvidia-h200``), else the
    CPU model and core count (``amd-epyc-2c``)."""
    rec = machine_record() if record is None else record
    if rec.get("gpus"):
        return _slug(rec["gpus"][0]["name"])
    return f"{_slug(rec['cpu'])}-{rec['cores']}c"


def legacy_machine_dict(record: dict | None = None) -> dict:
    """The ``"machine"`` entry of the result files written before the harness
    (keys ``cpu``, ``cores``, ``python``, ``numpy``, ``scipy``, ``torch``,
    ``torch_threads``, ``blas``, ``env``), which the chapters read."""
    rec = machine_record() if record is None else record
    v, b = rec["versions"], rec["blas"]
    torch_threads = (rec["threads"]["torch"] or {}).get("intra_op")
    blas = f"{b.get('name')} {b.get('version')} ({b.get('threads')} threads, via {b.get('how')})"
    return {"cpu": rec["cpu"], "cores": rec["cores"], "python": v["python"],
            "numpy": v.get("numpy"), "torch": v.get("torch"), "torch_threads": torch_threads,
            "scipy": v.get("scipy"), "blas": blas, "env": dict(rec["threads"]["env"])}

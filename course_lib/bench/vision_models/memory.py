"""Peak memory of one forward: the resident set in a fresh Python process on the CPU
(:func:`forward_peak_memory`; the child runs ``python -m course_lib.bench.vision_models
--peak '<workload JSON>'``), the caching allocator's peak on a GPU
(:func:`cuda_forward_memory`).  Imports torch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from ..memory import peak_rss_bytes, reset_peak_rss, rss_bytes
from ..torchvision_import import import_torchvision
from .build import build, example_input, weights_bytes
from .configs import get_spec

ROOT = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------- peak memory (CPU)

def peak_memory_subprocess(workload: dict, *, timeout: float = 900) -> dict:
    """Run ``workload`` in a fresh Python process and return its memory figures.

    A fresh process because the allocator reuses memory freed by earlier work without
    growing the resident set: in a long-lived process a second measurement reads low.
    ``workload``: ``{"kind": "forward", "model", "batch", "image_size", "dtype",
    "threads"}`` or ``{"kind": "allocate", "nbytes"}`` (a known workload, to check the
    method).  Returned bytes (all resident-set figures, page granularity):
    ``peak_bytes`` -- high-water mark during the call minus the baseline taken after
    the imports, before the model was built (weights + input + the forward's working
    memory); ``forward_peak_bytes`` -- the high-water mark minus the resident set just
    before the call (the call's own working memory); plus the raw readings.
    """
    if workload.get("kind") not in ("forward", "allocate"):
        raise ValueError(f"workload['kind'] must be 'forward' or 'allocate', got "
                         f"{workload.get('kind')!r}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]]
                                                       if env.get("PYTHONPATH") else []))
    proc = subprocess.run([sys.executable, "-m", "course_lib.bench.vision_models", "--peak",
                           json.dumps(workload)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"memory subprocess for {workload} failed (exit {proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def forward_peak_memory(name: str, batch: int, *, image_size: int = 224,
                        dtype: str = "float32", threads: int | None = None,
                        timeout: float = 900) -> dict:
    """Resident-set peak of one forward of ``name`` at ``batch`` (fresh process; see
    :func:`peak_memory_subprocess`).  Adds ``weights_bytes`` and ``input_bytes``."""
    get_spec(name)
    if dtype not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"dtype must be 'float32', 'float16' or 'bfloat16', got {dtype!r}")
    return peak_memory_subprocess({"kind": "forward", "model": name, "batch": batch,
                                   "image_size": image_size, "dtype": dtype,
                                   "threads": threads or torch.get_num_threads()},
                                  timeout=timeout)


def allocation_peak_memory(nbytes: int) -> dict:
    """The same measurement around allocating and filling ``nbytes`` bytes (a check
    of the method: ``forward_peak_bytes`` should come out close to ``nbytes``)."""
    if not isinstance(nbytes, int) or nbytes < 1:
        raise ValueError(f"nbytes must be a positive int, got {nbytes!r}")
    return peak_memory_subprocess({"kind": "allocate", "nbytes": nbytes})


def _measure_in_this_process(workload: dict) -> dict:
    """The child's side of :func:`peak_memory_subprocess`."""
    if workload["kind"] == "allocate":
        baseline = rss_bytes()
        can_reset = reset_peak_rss()
        before = rss_bytes()
        buf = torch.empty(int(workload["nbytes"]), dtype=torch.uint8)
        buf.fill_(1)                     # touch every page: untouched pages are not resident
        peak = peak_rss_bytes()
        extra = {"nbytes": int(workload["nbytes"])}
    else:
        torch.set_num_threads(int(workload["threads"]))
        import_torchvision()             # library code loaded before the baseline
        dtype = getattr(torch, workload["dtype"])
        baseline = rss_bytes()
        model = build(workload["model"], dtype=dtype, image_size=int(workload["image_size"]))
        x = example_input(int(workload["batch"]), int(workload["image_size"]), dtype=dtype)
        can_reset = reset_peak_rss()
        before = rss_bytes()
        with torch.inference_mode():
            model(x)
        peak = peak_rss_bytes()
        extra = {"weights_bytes": weights_bytes(model),
                 "input_bytes": x.numel() * x.element_size(),
                 "threads": torch.get_num_threads()}
    ok = None not in (baseline, before, peak)
    return {"baseline_rss_bytes": baseline, "before_call_rss_bytes": before,
            "peak_rss_bytes": peak, "hwm_reset": can_reset,
            "peak_bytes": peak - baseline if ok else None,
            "forward_peak_bytes": peak - before if ok and can_reset else None, **extra}


# ---------------------------------------------------------------- peak memory (CUDA)

def cuda_forward_memory(model: torch.nn.Module, x: torch.Tensor) -> dict:
    """Allocator peak of one forward on the GPU: ``peak_bytes`` = everything allocated
    at the peak (weights + input + activations and workspaces), ``forward_peak_bytes``
    = the part above what was allocated before the call.  Needs CUDA."""
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    with torch.inference_mode():
        model(x)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    return {"peak_bytes": int(peak), "forward_peak_bytes": int(peak - before),
            "source": "torch.cuda.max_memory_allocated"}

"""Timing on a CUDA GPU with events: warm-up, synchronisation, peak memory, L2 flush.

A kernel launch returns before the kernel finishes, so a host clock around it times
the launch, not the work.  :func:`time_cuda` records a CUDA event before and after
each call on the current stream and reads the elapsed time between them once the
device has synchronised.  Before timing it runs ``warmup`` calls (module loading,
cuDNN/cuBLAS algorithm selection, allocator growth) and resets the allocator's
peak-memory counter, so ``peak_bytes`` is the peak of the timed calls above what
was already allocated (inputs, the flush buffer).

``flush_l2=True`` writes a buffer twice the size of the L2 cache before each call
(outside the timed interval), so every call starts cold -- the right choice for
kernels that run once per step on fresh data; without it, repeats of a small
kernel read their inputs from L2 and look faster than they will in a model.

This module imports neither torch nor CuPy at import time: it can be imported (and
its CPU-side helpers tested) on a machine without a GPU.  ``backend="torch"`` uses
``torch.cuda.Event`` and ``torch.cuda.max_memory_allocated``; ``backend="cupy"``
uses ``cupy.cuda.Event`` and the default memory pool (CuPy keeps no peak counter: the
pool's size after the calls, minus the bytes in use before them, bounds the peak from
above; the pool is not emptied, which would make the timed calls pay for cudaMalloc).

A kernel much shorter than the launch overhead is timed as a run of ``number``
back-to-back calls between one pair of events (``target_ms`` picks ``number`` so that
a run lasts about that long, at most 200 calls), so Python's launch cost overlaps the
GPU work; each sample is the run's time divided by ``number``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .timing import Timing, _check_counts

DEFAULT_L2_BYTES = 64 * 2 ** 20      # larger than any current L2 (H100: 50 MiB)


def cuda_available(backend: str = "torch") -> bool:
    """True if ``backend`` ("torch" or "cupy") is installed and sees a CUDA device."""
    _check_backend(backend)
    try:
        if backend == "torch":
            import torch
            return bool(torch.cuda.is_available())
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - not installed, or no driver
        return False


def _check_backend(backend: str) -> None:
    if backend not in ("torch", "cupy"):
        raise ValueError(f"backend must be 'torch' or 'cupy', got {backend!r}")


@dataclass(frozen=True)
class CudaTiming:
    """``timing``: seconds per call from CUDA events; ``peak_bytes``: allocator peak
    during the timed calls above what was allocated before them (torch: max
    allocated; CuPy: pool size);
    ``l2_flushed``: whether each call started with a cold L2."""

    timing: Timing
    peak_bytes: int | None
    l2_flushed: bool
    backend: str

    def to_dict(self) -> dict:
        return {"timing": self.timing.to_dict(), "peak_bytes": self.peak_bytes,
                "l2_flushed": self.l2_flushed, "backend": self.backend}


def l2_size_bytes(backend: str = "torch") -> int:
    """The current device's L2 size (falls back to :data:`DEFAULT_L2_BYTES`)."""
    try:
        if backend == "cupy":
            import cupy
            dev = cupy.cuda.runtime.getDevice()
            return int(cupy.cuda.runtime.getDeviceProperties(dev)["l2CacheSize"])
        import torch
        return int(torch.cuda.get_device_properties(torch.cuda.current_device()).L2_cache_size)
    except Exception:  # noqa: BLE001 - older torch without L2_cache_size
        return DEFAULT_L2_BYTES


def time_cuda(fn: Callable[[], object], repeats: int = 20, warmup: int = 3,
              backend: str = "torch", flush_l2: bool = False, number: int = 1,
              target_ms: float | None = None) -> CudaTiming:
    """Time ``fn()`` on the GPU with events (see the module doc).  Needs a GPU.

    ``number`` calls per sample, or ``target_ms`` to choose it from one timed call.
    With ``flush_l2`` the flush runs before each sample, so only the first of its
    ``number`` calls starts cold: use ``number=1`` for cold-cache times.
    """
    _check_backend(backend)
    _check_counts(repeats, warmup, number)
    if not cuda_available(backend):
        raise RuntimeError(f"time_cuda(backend={backend!r}) needs a CUDA GPU; none is visible")
    if backend == "torch":
        import torch
        sync, Event = torch.cuda.synchronize, (lambda: torch.cuda.Event(enable_timing=True))
        flush_buf = (torch.empty(2 * l2_size_bytes("torch"), dtype=torch.uint8, device="cuda")
                     if flush_l2 else None)
        flush = (lambda: flush_buf.zero_()) if flush_l2 else None

        def reset_peak():
            torch.cuda.reset_peak_memory_stats()
            return int(torch.cuda.memory_allocated())

        def peak():
            return int(torch.cuda.max_memory_allocated())

        def elapsed_s(start, stop):
            return start.elapsed_time(stop) / 1e3
    else:
        import cupy
        sync = cupy.cuda.Device().synchronize
        Event = cupy.cuda.Event
        flush_buf = cupy.empty(2 * l2_size_bytes("cupy"), dtype=cupy.uint8) if flush_l2 else None
        flush = (lambda: flush_buf.fill(0)) if flush_l2 else None
        pool = cupy.get_default_memory_pool()

        def reset_peak():
            return int(pool.used_bytes())

        def peak():
            return int(pool.total_bytes())

        def elapsed_s(start, stop):
            return cupy.cuda.get_elapsed_time(start, stop) / 1e3
    for _ in range(warmup):
        fn()
    sync()
    baseline = reset_peak()          # what is held already (inputs, the flush buffer)
    if target_ms is not None:        # one timed call decides the calls per sample
        start, stop = Event(), Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        one_ms = max(1e3 * elapsed_s(start, stop), 1e-3)
        number = int(min(200, max(1, target_ms / one_ms)))
    samples = []
    for _ in range(repeats):
        if flush is not None:
            flush()
        start, stop = Event(), Event()
        start.record()
        for _ in range(number):
            fn()
        stop.record()
        stop.synchronize()
        samples.append(elapsed_s(start, stop) / number)
    sync()
    return CudaTiming(Timing(tuple(samples), warmup, number), max(0, peak() - baseline),
                      flush_l2, backend)

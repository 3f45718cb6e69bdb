"""Peak extra memory of a call, measured with :mod:`tracemalloc`.

NumPy reports its data buffers to tracemalloc, so the peak covers every array a
NumPy implementation allocates (workspaces, temporaries, the output).  Memory
allocated outside Python's tracker -- PyTorch tensors, BLAS internal buffers,
a GPU -- is *not* seen; report those as unknown rather than zero.
"""
from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class MemoryReport:
    """``peak_bytes``: highest traced allocation above the level at the call's start
    (includes the output).  ``retained_bytes``: still allocated when the call returned
    (normally the output)."""

    result: Any
    peak_bytes: int
    retained_bytes: int

    @property
    def workspace_bytes(self) -> int:
        """Peak minus what the call kept (the output): temporary memory only."""
        return self.peak_bytes - self.retained_bytes


def peak_memory(fn: Callable, *args, **kwargs) -> MemoryReport:
    """Run ``fn(*args, **kwargs)`` and measure its peak traced allocation.

    Works whether or not tracemalloc is already running (it is left as found).
    """
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn(*args, **kwargs)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        if started_here:
            tracemalloc.stop()
    return MemoryReport(result, max(0, peak - base), max(0, current - base))

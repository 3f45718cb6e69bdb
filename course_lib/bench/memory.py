"""Peak memory of one call on the CPU: what NumPy allocated and what the process held.

Two views, because neither sees everything:

* **traced** (:mod:`tracemalloc`, via :func:`course_lib.memory.peak_memory`): every
  NumPy buffer and Python object, byte-exact, but blind to memory allocated outside
  Python's tracker (PyTorch tensors, BLAS workspaces).
* **resident** (Linux ``/proc/self/status``): the process's resident set.  Its
  high-water mark ``VmHWM`` is reset before the call (writing ``5`` to
  ``/proc/self/clear_refs``), so ``peak_rss - rss_before`` is the call's peak growth,
  whoever allocated it -- but only at page granularity, and memory that the allocator
  kept from earlier calls is reused without showing up.  None where unavailable.

On a GPU use :func:`course_lib.bench.cuda_timing.time_cuda`, which reads the
allocator's own peak counter.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from ..memory import peak_memory


@dataclass(frozen=True)
class MemoryFigures:
    """Peaks of one call, in bytes above the level at its start (None: not measurable).

    ``traced_peak``/``traced_retained``: tracemalloc (peak includes the output;
    retained is what the call kept, normally the output).  ``rss_peak``: growth of the
    resident set's high-water mark during the call.
    """

    result: Any
    traced_peak: int
    traced_retained: int
    rss_peak: int | None

    @property
    def traced_workspace(self) -> int:
        """Temporary memory only: traced peak minus what the call kept."""
        return self.traced_peak - self.traced_retained

    def to_dict(self) -> dict:
        return {"traced_peak_bytes": self.traced_peak,
                "traced_retained_bytes": self.traced_retained,
                "traced_workspace_bytes": self.traced_workspace,
                "rss_peak_bytes": self.rss_peak}


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def rss_bytes() -> int | None:
    """Current resident set size of this process (None off Linux)."""
    kib = _status_kib("VmRSS")
    return None if kib is None else 1024 * kib


def peak_rss_bytes() -> int | None:
    """High-water mark of the resident set since start or the last :func:`reset_peak_rss`."""
    kib = _status_kib("VmHWM")
    if kib is not None:
        return 1024 * kib
    try:
        import resource
        # ru_maxrss: KiB on Linux, bytes on macOS; it cannot be reset
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r if os.uname().sysname == "Darwin" else 1024 * r
    except (ImportError, OSError):
        return None


def reset_peak_rss() -> bool:
    """Reset the resident high-water mark to the current RSS (Linux); True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure_memory(fn: Callable, *args, **kwargs) -> MemoryFigures:
    """Run ``fn(*args, **kwargs)`` once and return its traced and resident peaks.

    The call runs under tracemalloc, which slows Python-level allocation: time it
    separately.
    """
    can_reset = reset_peak_rss()
    before = rss_bytes()
    rep = peak_memory(fn, *args, **kwargs)
    peak = peak_rss_bytes()
    rss_peak = None
    if can_reset and before is not None and peak is not None:
        rss_peak = max(0, peak - before)
    return MemoryFigures(rep.result, rep.peak_bytes, rep.retained_bytes, rss_peak)

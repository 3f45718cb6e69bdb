"""Wall-clock timing on the CPU: warm-up, repeats, median and spread.

A single time says little on a shared machine.  :func:`time_cpu` runs the callable
``warmup`` times untimed (first-call costs: page faults, BLAS thread start-up, caches),
then ``repeats`` times, and keeps every sample; :class:`Timing` reports the median with
the interquartile range and min/max as the spread.  The minimum is the least disturbed
run (other processes only ever add time); the median is the typical one.

:func:`time_interleaved` times several callables round-robin, so a change of load during
the run hits all of them alike and their ratios stay meaningful.

Cost: ``warmup + repeats`` calls (x ``number`` inner calls per sample).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Mapping


@dataclass(frozen=True)
class Timing:
    """Samples of one measurement, in seconds per call.

    ``samples``: every timed repeat; ``warmup``: untimed calls before them;
    ``number``: calls per sample (the sample is the mean of those).
    """

    samples: tuple[float, ...]
    warmup: int = 1
    number: int = 1

    def __post_init__(self):
        if not self.samples:
            raise ValueError("a Timing needs at least one sample, got none")

    @property
    def repeats(self) -> int:
        return len(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def quartiles(self) -> tuple[float, float]:
        """(q1, q3) by linear interpolation between samples (q1 = q3 = the sample if one)."""
        s = sorted(self.samples)
        return _quantile(s, 0.25), _quantile(s, 0.75)

    @property
    def iqr(self) -> float:
        q1, q3 = self.quartiles
        return q3 - q1

    @property
    def ms(self) -> float:
        """Median in milliseconds."""
        return 1e3 * self.median

    def to_dict(self) -> dict:
        """JSON-ready: the samples and the summary (seconds)."""
        q1, q3 = self.quartiles
        return {"median_s": self.median, "q1_s": q1, "q3_s": q3, "min_s": self.min,
                "max_s": self.max, "repeats": self.repeats, "warmup": self.warmup,
                "number": self.number, "samples_s": list(self.samples)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Timing":
        return cls(tuple(float(v) for v in d["samples_s"]), int(d.get("warmup", 1)),
                   int(d.get("number", 1)))


def _quantile(sorted_samples, q: float) -> float:
    n = len(sorted_samples)
    pos = q * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    return sorted_samples[lo] + (pos - lo) * (sorted_samples[hi] - sorted_samples[lo])


def _check_counts(repeats: int, warmup: int, number: int) -> None:
    for name, v, low in (("repeats", repeats, 1), ("warmup", warmup, 0), ("number", number, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise ValueError(f"{name} must be an int >= {low}, got {v!r}")


def auto_repeats(first_s: float, quick: bool = False) -> int:
    """Repeats for a call whose first run took ``first_s`` seconds: more for short calls,
    ~1-3 s per measurement in total; 2 in ``quick`` mode (smoke tests)."""
    if quick:
        return 2
    return 9 if first_s < 0.05 else 7 if first_s < 0.3 else 5 if first_s < 1.5 else 2


def time_cpu(fn: Callable[[], object], repeats: int | None = None, warmup: int = 1,
             number: int = 1, quick: bool = False) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` samples of ``number`` calls.

    ``repeats=None`` picks it from the first warm-up call (:func:`auto_repeats`; one
    warm-up is then always done).  Returns a :class:`Timing` (seconds per call).
    """
    if repeats is None:
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        repeats, warmup = auto_repeats(first, quick), max(warmup - 1, 0)
        done = 1
    else:
        done = 0
    _check_counts(repeats, warmup, number)
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return Timing(tuple(samples), warmup + done, number)


def time_interleaved(fns: Mapping[str, Callable[[], object]], repeats: int,
                     warmup: int = 1) -> dict[str, Timing]:
    """Time several callables round-robin (A B C A B C ...), after ``warmup`` calls each.

    Each round runs every callable once, so slow spells of a shared machine fall on all
    of them; compare their ``min`` or ``median``.  Returns ``{name: Timing}``.
    """
    _check_counts(repeats, warmup, 1)
    if not fns:
        raise ValueError("fns must hold at least one callable")
    for f in fns.values():
        for _ in range(warmup):
            f()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: Timing(tuple(v), warmup, 1) for k, v in times.items()}

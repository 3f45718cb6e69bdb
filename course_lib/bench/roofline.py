"""The roofline model with this machine's measured ceilings.

A kernel doing ``F`` FLOPs while moving ``Q`` bytes has arithmetic intensity
``I = F / Q``.  On a machine that computes at most ``P`` FLOP/s and moves at most
``W`` bytes/s it cannot exceed

    attainable(I) = min(P, I * W)

-- memory-bound left of the ridge ``I* = P / W``, compute-bound right of it.

The ceilings are *measured* here, not taken from a datasheet: ``P`` is the float32
matmul rate NumPy's BLAS reaches on a large square product, ``W`` the bandwidth of a
large array copy (read + write bytes over time).  Both are what this software stack
achieves, so a kernel above the ceiling means the count model is wrong -- or that the
ceilings were measured while other processes held the cores (best of a few repeats
cannot undo a busy machine; ``quick`` ceilings on small arrays are the most exposed).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .timing import time_cpu


@dataclass(frozen=True)
class Ceilings:
    """``peak_gflops``: matmul GFLOP/s; ``bandwidth_gbs``: copy GB/s (1e9 bytes/s)."""

    peak_gflops: float
    bandwidth_gbs: float
    how: str = ""

    def __post_init__(self):
        if not (self.peak_gflops > 0 and self.bandwidth_gbs > 0):
            raise ValueError(f"ceilings must be > 0, got peak_gflops={self.peak_gflops!r}, "
                             f"bandwidth_gbs={self.bandwidth_gbs!r}")

    @property
    def ridge(self) -> float:
        return ridge_intensity(self.peak_gflops, self.bandwidth_gbs)

    def to_dict(self) -> dict:
        return {"peak_gflops": self.peak_gflops, "bandwidth_gbs": self.bandwidth_gbs,
                "ridge_flop_per_byte": self.ridge, "how": self.how}

    @classmethod
    def from_dict(cls, d: dict) -> "Ceilings":
        return cls(float(d["peak_gflops"]), float(d["bandwidth_gbs"]), d.get("how", ""))


def attainable_gflops(intensity, peak_gflops: float, bandwidth_gbs: float):
    """``min(peak, intensity * bandwidth)`` (GFLOP/s; intensity in FLOP/byte, array ok)."""
    i = np.asarray(intensity, dtype=float)
    if np.any(i < 0):
        raise ValueError("intensity must be >= 0")
    out = np.minimum(peak_gflops, i * bandwidth_gbs)
    return float(out) if out.ndim == 0 else out


def ridge_intensity(peak_gflops: float, bandwidth_gbs: float) -> float:
    """Intensity where the two ceilings meet: ``peak / bandwidth`` FLOP/byte."""
    return peak_gflops / bandwidth_gbs


def place(name: str, flops: float, nbytes: float, seconds: float, ceilings: Ceilings) -> dict:
    """A kernel's point on the roofline: intensity, achieved GFLOP/s, the attainable
    rate at that intensity, the fraction reached, and which ceiling binds."""
    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, got {seconds!r}")
    ai = flops / nbytes
    got = flops / seconds / 1e9
    roof = attainable_gflops(ai, ceilings.peak_gflops, ceilings.bandwidth_gbs)
    return {"name": name, "flops": flops, "bytes": nbytes, "seconds": seconds,
            "intensity": ai, "gflops": got, "attainable_gflops": roof,
            "fraction_of_roof": got / roof,
            "bound": "memory" if ai < ceilings.ridge else "compute"}


def measure_ceilings(quick: bool = False, dtype=np.float32) -> Ceilings:
    """Measure the matmul rate (n = 2048, quick: 512) and copy bandwidth (64 MiB,
    quick: 16 MiB arrays); best of a few repeats, about 1 s (quick: 0.1 s)."""
    n = 512 if quick else 2048
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    t = time_cpu(lambda: a @ a, repeats=3 if quick else 5)
    peak = 2 * n ** 3 / t.min / 1e9
    nbytes = (16 if quick else 64) * 2 ** 20
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    tc = time_cpu(lambda: np.copyto(dst, src), repeats=3 if quick else 7)
    bw = 2 * nbytes / tc.min / 1e9
    how = (f"float32 matmul {n}x{n} (best of {t.repeats}); copy of {nbytes >> 20} MiB "
           f"(read + write, best of {tc.repeats}); measured {time.strftime('%Y-%m-%d')}")
    return Ceilings(peak, bw, how)

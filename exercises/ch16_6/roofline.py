"""Exercise 16.6c -- the roofline model.

An operation doing ``flops`` floating-point operations while moving ``nbytes`` bytes
between memory and the chip has arithmetic intensity ``I = flops / nbytes`` (FLOP/byte).
A machine computing at most ``peak_gflops`` GFLOP/s and moving at most ``bandwidth_gbs``
GB/s (1 GFLOP = 1e9 FLOP, 1 GB = 1e9 bytes) cannot run it faster than

    attainable = min(peak_gflops, I * bandwidth_gbs)           GFLOP/s

The two ceilings meet at the ridge intensity ``I* = peak_gflops / bandwidth_gbs``.
Left of it (``I < I*``) the operation is memory-bound, otherwise compute-bound -- at
exactly ``I*`` call it ``"compute"``.  Equivalently, the shortest possible time is the
larger of the time to do the arithmetic and the time to move the bytes.

1. ``attainable_gflops(flops, nbytes, peak_gflops, bandwidth_gbs)`` -> GFLOP/s;
2. ``bound(...)`` -> ``"memory"`` or ``"compute"``;
3. ``min_time_s(...)`` -> ``max(flops / (peak_gflops * 1e9), nbytes / (bandwidth_gbs * 1e9))``
   seconds.

The four arguments are numbers or arrays that broadcast against each other: with only
scalars return a Python ``float`` (``str`` for ``bound``); otherwise a float64 array
(an array of strings for ``bound``) of the broadcast shape.  ``flops`` may be 0 (a pure
copy: memory-bound, 0 GFLOP/s) but not negative; ``nbytes``, ``peak_gflops`` and
``bandwidth_gbs`` must be > 0.  Otherwise (or for NaN) raise ``ValueError`` naming the
argument.  Plain NumPy only; do not modify the inputs.
"""
from __future__ import annotations

import numpy as np


def check_inputs(flops, nbytes, peak_gflops, bandwidth_gbs):
    """Validate and broadcast: returns the four as float64 arrays of one shape."""
    # BEGIN SOLUTION: convert each to a float64 array; ValueError naming the argument if
    # not np.all(flops >= 0), or not np.all(x > 0) for nbytes / peak_gflops / bandwidth_gbs
    # (written this way round, NaN fails the check too); return np.broadcast_arrays(...).
    arrays = {}
    for name, value, minimum_ok in (("flops", flops, True), ("nbytes", nbytes, False),
                                    ("peak_gflops", peak_gflops, False),
                                    ("bandwidth_gbs", bandwidth_gbs, False)):
        a = np.asarray(value, dtype=np.float64)
        ok = a >= 0 if minimum_ok else a > 0   # NaN compares False: refused too
        if not np.all(ok):
            need = ">= 0" if minimum_ok else "> 0"
            bad = a[~ok]
            raise ValueError(f"{name} must be {need} (and not NaN), got {name}={bad.flat[0]!r}"
                             f" ({bad.size} of {a.size} values)")
        arrays[name] = a
    return tuple(np.broadcast_arrays(*arrays.values()))
    # END SOLUTION


def _scalar_or_array(a):
    """A 0-d result as a Python scalar, anything else as the array itself."""
    return a.item() if a.ndim == 0 else a


def attainable_gflops(flops, nbytes, peak_gflops, bandwidth_gbs):
    """min(peak, flops / nbytes * bandwidth) in GFLOP/s."""
    # BEGIN SOLUTION: f, q, p, b = check_inputs(...); return min(p, f / q * b) element-wise
    # (np.minimum), as a Python float for scalar inputs (_scalar_or_array).
    f, q, p, b = check_inputs(flops, nbytes, peak_gflops, bandwidth_gbs)
    return _scalar_or_array(np.minimum(p, f / q * b))
    # END SOLUTION


def bound(flops, nbytes, peak_gflops, bandwidth_gbs):
    """"memory" where flops / nbytes < peak / bandwidth, else "compute"."""
    # BEGIN SOLUTION: f, q, p, b = check_inputs(...); memory-bound where f / q < p / b
    # (the ridge itself is "compute"); np.where(..., "memory", "compute"), a str for scalars.
    f, q, p, b = check_inputs(flops, nbytes, peak_gflops, bandwidth_gbs)
    return _scalar_or_array(np.where(f / q < p / b, "memory", "compute"))
    # END SOLUTION


def min_time_s(flops, nbytes, peak_gflops, bandwidth_gbs):
    """max(compute time, memory time) in seconds: the roofline's lower bound on run time."""
    # BEGIN SOLUTION: f, q, p, b = check_inputs(...);
    # return max(f / (p * 1e9), q / (b * 1e9)) element-wise, a float for scalar inputs.
    f, q, p, b = check_inputs(flops, nbytes, peak_gflops, bandwidth_gbs)
    return _scalar_or_array(np.maximum(f / (p * 1e9), q / (b * 1e9)))
    # END SOLUTION

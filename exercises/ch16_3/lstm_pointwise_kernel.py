"""Launch your fused LSTM pointwise kernel (``lstm_pointwise_kernel.cu``) on a GPU or the emulator.

The exercise is the kernel body in ``lstm_pointwise_kernel.cu`` (one thread per hidden unit);
this module is the given launcher, ready to use: it checks the arguments, computes the launch
configuration and packs the sizes as ``np.int32`` to match the C ``int`` parameters.

``backend=None`` runs on CuPy when a CUDA GPU is present, else on the CPU emulator of
:mod:`course_lib.cuda`. Emulator options pass through: ``schedule="forward" | "reverse" |
"random"`` (order in which a block's threads run), ``sanitizer="address"`` (reports any read or
write outside the arrays, naming the line of ``lstm_pointwise_kernel.cu``).

    h, c = lstm_pointwise_kernel(gates, c_prev)          # gates (B, 4H), c_prev (B, H)
    h, c = lstm_pointwise_kernel(gates, c_prev, backend="emulator", sanitizer="address")
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from course_lib.cuda import RawModule

KERNEL_FILE = Path(__file__).resolve().with_name("lstm_pointwise_kernel.cu")
KERNEL_NAME = "lstm_pointwise_kernel"
THREADS_PER_BLOCK = 256


def launch_config(n_units: int, threads: int = THREADS_PER_BLOCK) -> tuple[tuple[int], tuple[int]]:
    """``(grid, block)`` for one thread per hidden unit: ``ceil(n_units / threads)`` blocks."""
    return ((n_units + threads - 1) // threads,), (threads,)


def load_kernel(backend: str | None = None, **emulator_options):
    """The ``lstm_pointwise_kernel`` function of the ``.cu`` file, compiled for ``backend``.

    The file is read on every call, so edits show up at once (the emulator caches builds by
    source text, so an unchanged file is not recompiled).
    """
    module = RawModule(path=KERNEL_FILE, backend=backend, **emulator_options)
    return module.get_function(KERNEL_NAME)


def _check(gates, c_prev) -> tuple[int, int]:
    for name, a in (("gates", gates), ("c_prev", c_prev)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
        if a.dtype != np.float32:
            raise TypeError(f"{name} must be float32 (the kernel uses float), got {a.dtype}; "
                            f"use {name}.astype(np.float32)")
        if a.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got shape {a.shape}")
    B, G = gates.shape
    if G % 4 or G == 0 or B == 0:
        raise ValueError(f"gates must have shape (B, 4H) with B, H >= 1, got {gates.shape}")
    H = G // 4
    if c_prev.shape != (B, H):
        raise ValueError(f"c_prev must have shape (B, H) = {(B, H)} to match gates {gates.shape}, "
                         f"got {c_prev.shape}")
    if gates.size >= 2**31:
        raise ValueError("the kernel indexes with 32-bit ints; split the batch")
    return B, H


def _out(name, a, shape):
    if a is None:
        return np.full(shape, np.nan, dtype=np.float32)
    if not (isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == shape
            and a.flags.c_contiguous):
        raise ValueError(f"{name} must be a C-contiguous float32 array of shape {shape}")
    return a


def lstm_pointwise_kernel(gates, c_prev, *, h_out=None, c_out=None, backend: str | None = None,
                          **emulator_options):
    """(h, c) of one LSTM step from its gate pre-activations, computed by your kernel.

    gates (B, 4H) float32 in torch's gate order i, f, g, o; c_prev (B, H) float32
    -> h (B, H), c (B, H) float32.  ``h_out`` / ``c_out``: arrays to write into; by default new
    arrays filled with NaN, so a unit the kernel never writes shows up as NaN.
    """
    B, H = _check(gates, c_prev)
    h = _out("h_out", h_out, (B, H))
    c = _out("c_out", c_out, (B, H))
    grid, block = launch_config(B * H)
    kernel = load_kernel(backend, **emulator_options)
    kernel(grid, block, (np.ascontiguousarray(gates), np.ascontiguousarray(c_prev), h, c,
                         np.int32(B), np.int32(H)))
    return h, c

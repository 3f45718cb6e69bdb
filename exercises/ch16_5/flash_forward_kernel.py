"""Launch your FlashAttention forward kernel (``flash_forward_kernel.cu``) on a GPU or the CPU emulator.

The exercise is the inner loop of the kernel in ``flash_forward_kernel.cu`` (the online-softmax
update for one K/V tile); this module is the given launcher, ready to use: it checks the
arguments, computes the launch configuration (one block of 64 threads per 64 query rows of each
matrix) and packs the sizes as ``np.int32`` / ``np.float32`` to match the C parameters.

``backend=None`` runs on CuPy when a CUDA GPU is present, else on the CPU emulator of
:mod:`course_lib.cuda`.  Emulator options pass through: ``schedule="forward" | "reverse" |
"random"``, ``sanitizer="address"`` (reports reads or writes outside the arrays, naming the line).

    out, lse = flash_forward_kernel(q, k, v)                  # q (..., L, E), k, v (..., S, E)
    out, lse = flash_forward_kernel(q, k, v, is_causal=True, backend="emulator", sanitizer="address")
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from course_lib.cuda import RawModule

KERNEL_FILE = Path(__file__).resolve().with_name("flash_forward_kernel.cu")
KERNEL_NAME = "flash_forward_kernel"
BLOCK_Q = 64
MAX_E = 64


def launch_config(L: int, N: int) -> tuple[tuple[int, int], tuple[int]]:
    """``(grid, block)``: a block of BLOCK_Q threads per BLOCK_Q query rows of each of N matrices."""
    return ((L + BLOCK_Q - 1) // BLOCK_Q, N), (BLOCK_Q,)


def load_kernel(backend: str | None = None, **emulator_options):
    """The ``flash_forward_kernel`` function of ``flash_forward_kernel.cu`` for ``backend``
    (the file is read on every call, so edits show up at once)."""
    return RawModule(path=KERNEL_FILE, backend=backend, **emulator_options).get_function(KERNEL_NAME)


def _check(q, k, v) -> tuple[int, int, int, int]:
    for name, a in (("q", q), ("k", k), ("v", v)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
        if a.dtype != np.float32:
            raise TypeError(f"{name} must be float32 (the kernel uses float), got {a.dtype}")
        if a.ndim < 2 or 0 in a.shape:
            raise ValueError(f"{name} must be (..., rows, E) with every size >= 1, got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} (shape {a.shape}) contains NaN/inf")
    if k.shape != v.shape or q.shape[:-2] != k.shape[:-2] or q.shape[-1] != k.shape[-1]:
        raise ValueError(f"need q (..., L, E), k and v (..., S, E) with the same leading axes and E, "
                         f"got q {q.shape}, k {k.shape}, v {v.shape}")
    L, E = q.shape[-2:]
    S = k.shape[-2]
    if E > MAX_E:
        raise ValueError(f"E = {E} is larger than the kernel's FLASH_EMAX = {MAX_E}")
    return q.size // (L * E), L, S, E


def flash_forward_kernel(q, k, v, is_causal: bool = False, scale: float | None = None, *,
                         out=None, lse=None, backend: str | None = None, **emulator_options):
    """FlashAttention forward by your kernel: returns ``(out (..., L, E), lse (..., L))``, float32.

    ``out`` and ``lse`` may be given (float32, C-contiguous, those shapes); by default they are
    new arrays filled with NaN, so an element the kernel never writes shows up as NaN.
    """
    N, L, S, E = _check(q, k, v)
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    if out is None:
        out = np.full(q.shape, np.nan, dtype=np.float32)
    if lse is None:
        lse = np.full(q.shape[:-1], np.nan, dtype=np.float32)
    for name, a, shape in (("out", out, q.shape), ("lse", lse, q.shape[:-1])):
        if not (isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == shape
                and a.flags.c_contiguous):
            raise ValueError(f"{name} must be a C-contiguous float32 array of shape {shape}")
    grid, block = launch_config(L, N)
    kernel = load_kernel(backend, **emulator_options)
    kernel(grid, block, (np.ascontiguousarray(q), np.ascontiguousarray(k), np.ascontiguousarray(v),
                         out, lse, np.int32(L), np.int32(S), np.int32(E), np.int32(bool(is_causal)),
                         np.float32(scale)))
    return out, lse

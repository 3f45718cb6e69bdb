"""Launch your CUDA softmax kernel (``softmax_warp_kernel.cu``) on a GPU or on the CPU emulator.

The exercise is the kernel body in ``softmax_warp_kernel.cu`` (one warp per row, reductions by
warp shuffles); this module is the given launcher, ready to use: it checks the arguments,
computes the launch configuration and packs the sizes as ``np.int32`` to match the C ``int``
parameters.

``backend=None`` runs on CuPy when a CUDA GPU is present, else on the CPU emulator of
:mod:`course_lib.cuda`. Emulator options pass through: ``schedule="forward" | "reverse" |
"random"`` (order in which a block's threads run), ``sanitizer="address"`` (reports any read or
write outside the arrays, naming the line of ``softmax_warp_kernel.cu``).

    y = softmax_warp_kernel(x)                          # x (..., S) float32 -> y, same shape
    y = softmax_warp_kernel(x, backend="emulator", sanitizer="address")
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from course_lib.cuda import RawModule

KERNEL_FILE = Path(__file__).resolve().with_name("softmax_warp_kernel.cu")
KERNEL_NAME = "softmax_warp_kernel"
WARPS_PER_BLOCK = 4


def launch_config(rows: int, warps_per_block: int = WARPS_PER_BLOCK) -> tuple[tuple[int], tuple[int]]:
    """``(grid, block)``: one warp per row, ``warps_per_block`` rows per block, grid rounded up."""
    return ((rows + warps_per_block - 1) // warps_per_block,), (32 * warps_per_block,)


def load_kernel(backend: str | None = None, **emulator_options):
    """The ``softmax_warp_kernel`` function of ``softmax_warp_kernel.cu``, compiled for ``backend``.

    The file is read on every call, so edits show up at once (the emulator caches builds by
    source text, so an unchanged file is not recompiled).
    """
    module = RawModule(path=KERNEL_FILE, backend=backend, **emulator_options)
    return module.get_function(KERNEL_NAME)


def _check(x) -> tuple[int, int]:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype != np.float32:
        raise TypeError(f"x must be float32 (the kernel uses float), got {x.dtype}; "
                        "use x.astype(np.float32)")
    if x.ndim < 1 or 0 in x.shape:
        raise ValueError(f"x must be (..., S) with every size >= 1, got shape {x.shape}")
    if np.isnan(x).any() or (x == np.inf).any():
        raise ValueError(f"x (shape {x.shape}) contains NaN or +inf; only -inf (masked) is allowed")
    S = x.shape[-1]
    rows = x.size // S
    if x.size >= 2**31:
        raise ValueError("the kernel indexes rows with 32-bit ints; split the batch")
    return rows, S


def softmax_warp_kernel(x, *, out=None, backend: str | None = None, **emulator_options):
    """Softmax over the last axis of x (..., S), float32, by the kernel in ``softmax_warp_kernel.cu``.

    -inf entries are masked (probability 0); a row of all -inf gives zeros.
    ``out``: a float32 array of x's shape to write into; by default a new array filled with NaN,
    so an element the kernel never writes shows up as NaN.
    """
    rows, S = _check(x)
    if out is None:
        out = np.full(x.shape, np.nan, dtype=np.float32)
    elif not (isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == x.shape
              and out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous float32 array of shape {x.shape}")
    grid, block = launch_config(rows)
    kernel = load_kernel(backend, **emulator_options)
    kernel(grid, block, (np.ascontiguousarray(x), out, np.int32(rows), np.int32(S)))
    return out

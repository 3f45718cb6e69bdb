"""Launch your CUDA convolution kernel (``conv2d_kernel.cu``) on a GPU or on the CPU emulator.

The exercise is the kernel in ``conv2d_kernel.cu`` (one thread per output element); this module
is the given launcher, ready to use: it checks the arguments, computes the launch configuration
and packs the scalar arguments as ``np.int32`` to match the C ``int`` parameters.

``backend=None`` runs on CuPy when a CUDA GPU is present, else on the CPU emulator of
:mod:`course_lib.cuda`. Emulator options pass through: ``schedule="forward" | "reverse" |
"random"`` (order in which a block's threads run), ``sanitizer="address"`` (reports any read or
write outside the arrays, naming the line of ``conv2d_kernel.cu``).

    y = conv2d_kernel(x, w, b, stride=2, padding=1)                       # (B, C_out, OH, OW)
    y = conv2d_kernel(x, w, backend="emulator", sanitizer="address")      # bounds-checked run
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from course_lib.cuda import RawModule

KERNEL_FILE = Path(__file__).resolve().with_name("conv2d_kernel.cu")
KERNEL_NAME = "conv2d_kernel"
THREADS_PER_BLOCK = 256


def _pair(name: str, value, minimum: int) -> tuple[int, int]:
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def output_size(n: int, k: int, s: int, p: int) -> int:
    """Output length along one axis: ``(n + 2p - k) // s + 1``."""
    return (n + 2 * p - k) // s + 1


def launch_config(n_out: int, threads: int = THREADS_PER_BLOCK) -> tuple[tuple[int], tuple[int]]:
    """``(grid, block)`` for one thread per output element: ``ceil(n_out / threads)`` blocks."""
    return ((n_out + threads - 1) // threads,), (threads,)


def load_kernel(backend: str | None = None, **emulator_options):
    """The ``conv2d_kernel`` function of ``conv2d_kernel.cu``, compiled for ``backend``.

    The file is read on every call, so edits show up at once (the emulator caches builds by
    source text, so an unchanged file is not recompiled).
    """
    module = RawModule(path=KERNEL_FILE, backend=backend, **emulator_options)
    return module.get_function(KERNEL_NAME)


def _check(x, w, b, stride, padding):
    for name, a, ndim in (("x", x, 4), ("w", w, 4), ("b", b, 1)):
        if a is None and name == "b":
            continue
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
        if a.dtype != np.float32:
            raise TypeError(f"{name} must be float32 (the kernel uses float), got {a.dtype}; "
                            f"use {name}.astype(np.float32)")
        if a.ndim != ndim:
            raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    B, C_in, H, W = x.shape
    C_out, C_in_w, KH, KW = w.shape
    if C_in_w != C_in:
        raise ValueError(f"x has C_in={C_in} (shape {x.shape}) but w expects {C_in_w} (shape {w.shape})")
    if b is not None and b.shape != (C_out,):
        raise ValueError(f"b must have shape ({C_out},) to match w {w.shape}, got {b.shape}")
    sh, sw = _pair("stride", stride, 1)
    ph, pw = _pair("padding", padding, 0)
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError(f"kernel {KH}x{KW} is larger than the padded input "
                         f"{H + 2 * ph}x{W + 2 * pw} (x {x.shape}, padding {(ph, pw)})")
    OH, OW = output_size(H, KH, sh, ph), output_size(W, KW, sw, pw)
    if B * C_out * OH * OW >= 2**31 or x.size >= 2**31:
        raise ValueError("the kernel indexes with 32-bit ints; split the batch")
    return (B, C_in, H, W, C_out, KH, KW, sh, sw, ph, pw, OH, OW)


def conv2d_kernel(x, w, b=None, stride=1, padding=0, *, out=None, backend: str | None = None,
                  **emulator_options):
    """y = conv2d(x, w, b) computed by the CUDA kernel in ``conv2d_kernel.cu``.

    x (B, C_in, H, W), w (C_out, C_in, KH, KW), b (C_out,) or None, all float32;
    stride >= 1 and padding >= 0 (ints or (h, w) pairs) -> y (B, C_out, OH, OW) float32.
    ``out``: a float32 array of y's shape to write into; by default a new array filled with NaN,
    so an output element the kernel never writes shows up as NaN.
    """
    sizes = _check(x, w, b, stride, padding)
    B, _, _, _, C_out, _, _, _, _, _, _, OH, OW = sizes
    if out is None:
        out = np.full((B, C_out, OH, OW), np.nan, dtype=np.float32)
    elif not (isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (B, C_out, OH, OW)
              and out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous float32 array of shape {(B, C_out, OH, OW)}")
    bias = np.zeros(C_out, np.float32) if b is None else np.ascontiguousarray(b)
    grid, block = launch_config(out.size)
    kernel = load_kernel(backend, **emulator_options)
    args = (np.ascontiguousarray(x), np.ascontiguousarray(w), bias, out,
            *(np.int32(v) for v in sizes))
    kernel(grid, block, args)
    return out

"""Textbook 2-D convolution: one Python iteration per output element.

This is the definition written as code, for reading and for checking other
implementations on tiny inputs.  It is far too slow for real sizes.
"""
from __future__ import annotations

import numpy as np

from ._args import check_conv2d


def pad_hw(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """Zero-pad the last two axes of ``x`` (B, C, H, W) by ``(ph, pw)`` on both sides."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def conv2d_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                 stride=1, padding=0) -> np.ndarray:
    """Cross-correlation as deep-learning libraries define "convolution".

    y[n, co, i, j] = b[co] + sum_{ci, kh, kw} xp[n, ci, i*sh + kh, j*sw + kw] * w[co, ci, kh, kw]

    where ``xp`` is ``x`` zero-padded by ``padding``.

    Shapes: x (B, C_in, H, W), w (C_out, C_in, KH, KW), b (C_out,) or None;
    returns y (B, C_out, OH, OW) with OH = (H + 2*ph - KH) // sh + 1 (same for W).
    ``stride`` and ``padding`` are an int or an (h, w) pair.

    Precision: every product and sum is done in the input dtype (float32 stays
    float32), so the result has the rounding a float32 library would have, and the
    output dtype equals the input dtype.
    """
    x, w, b, g = check_conv2d(x, w, b, stride, padding)
    sh, sw = g.stride
    xp = pad_hw(x, g.padding)
    y = np.zeros(g.y_shape, dtype=x.dtype)
    for n in range(g.B):
        for co in range(g.C_out):
            for i in range(g.OH):
                for j in range(g.OW):
                    # the receptive field of output (i, j): all input channels, KH x KW window
                    field = xp[n, :, i * sh:i * sh + g.KH, j * sw:j * sw + g.KW]
                    acc = np.sum(field * w[co])
                    if b is not None:
                        acc = acc + b[co]
                    y[n, co, i, j] = acc
    return y

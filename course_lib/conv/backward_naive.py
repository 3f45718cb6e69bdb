"""Loop version of the convolution backward pass, written to be read.

``dw`` and ``db`` are accumulated output by output.  ``dx`` is computed as a
*transposed convolution*: the output gradient is dilated by the stride, padded,
and cross-correlated (stride 1) with the kernel rotated by 180 degrees whose
input and output channels are swapped.  Each step is a small public function so
the book can show it on its own.
"""
from __future__ import annotations

import numpy as np

from ._args import ConvGeometry, check_conv2d_backward
from .._validate import as_pair
from .naive import conv2d_naive, pad_hw


def dilate(dy: np.ndarray, stride=1) -> np.ndarray:
    """Insert ``s - 1`` zeros between neighbouring elements of the last two axes.

    (B, C, OH, OW) -> (B, C, (OH - 1)*sh + 1, (OW - 1)*sw + 1).  With stride s, output
    i came from input window start i*s; dilating puts dy[i] back at position i*s, so
    the gaps stand for the window starts the strided forward pass skipped.
    """
    sh, sw = as_pair("stride", stride, 1)
    B, C, OH, OW = dy.shape
    out = np.zeros((B, C, (OH - 1) * sh + 1, (OW - 1) * sw + 1), dtype=dy.dtype)
    out[:, :, ::sh, ::sw] = dy
    return out


def rot180(w: np.ndarray) -> np.ndarray:
    """Rotate every KH x KW kernel by 180 degrees (flip both spatial axes): w[..., ::-1, ::-1]."""
    return w[..., ::-1, ::-1]


def swap_channels(w: np.ndarray) -> np.ndarray:
    """(C_out, C_in, KH, KW) -> (C_in, C_out, KH, KW): the backward pass maps C_out back to C_in."""
    return w.transpose(1, 0, 2, 3)


def pad_or_crop_hw(a: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """Zero-pad the last two axes by the given amounts; a negative amount crops instead."""
    a = a[:, :, max(-top, 0):a.shape[2] - max(-bottom, 0), max(-left, 0):a.shape[3] - max(-right, 0)]
    return np.pad(a, ((0, 0), (0, 0), (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))))


def transposed_padding(g: ConvGeometry) -> tuple[int, int, int, int]:
    """Padding ``(top, bottom, left, right)`` of the dilated dy for the transposed convolution.

    Each side gets ``K - 1 - p`` (a "full" correlation, minus the forward padding).  When
    ``r = (H + 2p - K) % s`` is not zero the forward pass never reached the last r rows of
    the padded input, so the bottom gets ``r`` more zeros (PyTorch calls this
    ``output_padding``).  Appending the r rows to the dilated dy, not to the result, matters
    when p > 0: some of those rows are real input rows that windows did reach.
    """
    (sh, sw), (ph, pw) = g.stride, g.padding
    rh = (g.H + 2 * ph - g.KH) % sh
    rw = (g.W + 2 * pw - g.KW) % sw
    top, left = g.KH - 1 - ph, g.KW - 1 - pw
    return top, top + rh, left, left + rw


def conv2d_backward_naive(dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride=1, padding=0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dw, db)`` of y = conv2d(x, w, b, stride, padding), by loops.

    Shapes: dy (B, C_out, OH, OW), x (B, C_in, H, W), w (C_out, C_in, KH, KW)
    -> dx (B, C_in, H, W), dw (C_out, C_in, KH, KW), db (C_out,); dtype kept.

    dw[co] += dy[n, co, i, j] * (receptive field of output (n, i, j)), db[co] += dy[n, co, i, j].
    dx = correlate(pad(dilate(dy, s)), swap_channels(rot180(w)), stride 1, padding 0).
    """
    dy, x, w, g = check_conv2d_backward(dy, x, w, stride, padding)
    sh, sw = g.stride
    xp = pad_hw(x, g.padding)
    dw = np.zeros(g.w_shape, dtype=x.dtype)
    db = np.zeros(g.C_out, dtype=x.dtype)
    for n in range(g.B):
        for co in range(g.C_out):
            for i in range(g.OH):
                for j in range(g.OW):
                    field = xp[n, :, i * sh:i * sh + g.KH, j * sw:j * sw + g.KW]
                    dw[co] += dy[n, co, i, j] * field
                    db[co] += dy[n, co, i, j]

    dy_big = pad_or_crop_hw(dilate(dy, g.stride), *transposed_padding(g))  # (B, C_out, H+KH-1, W+KW-1)
    dx = conv2d_naive(dy_big, np.ascontiguousarray(swap_channels(rot180(w))))
    return dx, dw, db

"""Exercise 16.2a -- col2im, the adjoint of im2col (NCHW, stride, padding).

``im2col`` (given below; the layout of ``torch.nn.functional.unfold``) copies every receptive
field of the padded input into a column::

    cols[b, (c*KH + i)*KW + j, p*OW + q] = xp[b, c, p*sh + i, q*sw + j]

Overlapping fields copy the same pixel several times. ``col2im`` goes back: it scatter-adds
each column entry to the pixel it came from (so overlapping entries are summed) and drops the
padding. This is what the backward pass of an im2col convolution needs, and it equals
``torch.nn.functional.fold``. Plain NumPy only.
"""
from __future__ import annotations

import numpy as np


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def im2col(x, kernel_size, stride=1, padding=0):
    """Given: x (B, C, H, W) -> cols (B, C*KH*KW, OH*OW)."""
    (KH, KW), (sh, sw), (ph, pw) = _pair(kernel_size), _pair(stride), _pair(padding)
    B, C, H, W = x.shape
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((B, C, KH, KW, OH, OW), dtype=x.dtype)
    for i in range(KH):
        for j in range(KW):
            cols[:, :, i, j] = xp[:, :, i:i + sh * (OH - 1) + 1:sh, j:j + sw * (OW - 1) + 1:sw]
    return cols.reshape(B, C * KH * KW, OH * OW)


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """Scatter-add columns back to an image.

    Args:
        cols: (B, C*KH*KW, OH*OW), in the layout of :func:`im2col`.
        x_shape: (B, C, H, W) of the image to rebuild.
        kernel_size, stride, padding: int or (h, w) pair.

    Returns:
        (B, C, H, W) array in ``cols.dtype``.
    """
    (KH, KW), (sh, sw), (ph, pw) = _pair(kernel_size), _pair(stride), _pair(padding)
    B, C, H, W = x_shape
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    # BEGIN SOLUTION: return x of shape (B, C, H, W), dtype cols.dtype. View cols as
    # (B, C, KH, KW, OH, OW); start from zeros of the padded shape (B, C, H+2ph, W+2pw); for each
    # kernel offset (i, j) add (+=, overlaps must sum) cols6[:, :, i, j] into the strided window
    # [i : i+sh*(OH-1)+1 : sh, j : j+sw*(OW-1)+1 : sw]; then crop the padding away.
    cols6 = cols.reshape(B, C, KH, KW, OH, OW)
    xp = np.zeros((B, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i in range(KH):
        for j in range(KW):
            xp[:, :, i:i + sh * (OH - 1) + 1:sh, j:j + sw * (OW - 1) + 1:sw] += cols6[:, :, i, j]
    return np.ascontiguousarray(xp[:, :, ph:ph + H, pw:pw + W])
    # END SOLUTION

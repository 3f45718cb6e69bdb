"""Independent float64 references for exercise tests (direct sums, no FFT, no tricks).

Nothing here calls the exercise solutions; tests compare submissions against these. The
PyTorch-based references are in :mod:`course_lib.grading.torch_refs`.
"""
from __future__ import annotations

import numpy as np


def direct_correlate2d(x, w):
    """'valid' cross-correlation of 2-D arrays by explicit float64 sums (no flipping)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    OH, OW = x.shape[0] - w.shape[0] + 1, x.shape[1] - w.shape[1] + 1
    out = np.zeros((OH, OW))
    for p in range(OH):
        for q in range(OW):
            out[p, q] = float(np.sum(x[p:p + w.shape[0], q:q + w.shape[1]] * w))
    return out


def direct_correlate1d(d, g):
    """'valid' 1-D cross-correlation ``y[i] = sum_k d[i+k] g[k]`` in float64."""
    d = np.asarray(d, np.float64)
    g = np.asarray(g, np.float64)
    return np.array([float(np.dot(d[i:i + len(g)], g)) for i in range(len(d) - len(g) + 1)])


def direct_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0)):
    """NCHW convolution (cross-correlation, PyTorch's ``conv2d``) by float64 sums over (kh, kw).

    x (B, C_in, H, W), w (C_out, C_in, KH, KW), b (C_out,) or None; stride and padding are
    (h, w) pairs -> y (B, C_out, OH, OW) float64. Zero padding is an explicit ``np.pad``.
    """
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    (sh, sw), (ph, pw) = stride, padding
    C_out, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH = (xp.shape[2] - KH) // sh + 1
    OW = (xp.shape[3] - KW) // sw + 1
    y = np.zeros((x.shape[0], C_out, OH, OW))
    for kh in range(KH):
        for kw in range(KW):
            window = xp[:, :, kh:kh + sh * (OH - 1) + 1:sh, kw:kw + sw * (OW - 1) + 1:sw]
            y += np.einsum("bchw,oc->bohw", window, w[:, :, kh, kw])
    if b is not None:
        y += np.asarray(b, np.float64)[None, :, None, None]
    return y

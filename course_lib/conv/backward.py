"""Vectorized backward pass of the 2-D convolution (loops over kernel offsets only)."""
from __future__ import annotations

import numpy as np

from ._args import check_conv2d_backward
from .direct import window_slice
from .naive import pad_hw


def conv2d_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride=1, padding=0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a loss L through ``y = conv2d(x, w, b, stride, padding)``.

    Shapes: dy = dL/dy (B, C_out, OH, OW), x (B, C_in, H, W), w (C_out, C_in, KH, KW).
    Returns ``(dx, dw, db)`` with shapes (B, C_in, H, W), (C_out, C_in, KH, KW), (C_out,),
    in the inputs' dtype.

    For each kernel offset (kh, kw) the forward pass read the strided slice
    ``xs = xp[:, :, kh::sh, kw::sw]`` (cut to OH x OW) and multiplied it by
    ``w[:, :, kh, kw]``.  Reversing that step:

    * dw[:, :, kh, kw] = sum over (n, i, j) of dy[n, :, i, j] (outer) xs[n, :, i, j]
    * the slice of dxp that xs came from receives w[:, :, kh, kw]^T @ dy (scatter-add)

    dxp is the gradient of the *padded* input; cropping the padding gives dx.  Input
    rows/cols that no window reaches (when (H + 2p - K) % s != 0) are never written,
    so their gradient stays exactly zero.
    """
    dy, x, w, g = check_conv2d_backward(dy, x, w, stride, padding)
    ph, pw = g.padding
    xp = pad_hw(x, g.padding)
    dxp = np.zeros(xp.shape, dtype=x.dtype)
    dw = np.zeros(g.w_shape, dtype=x.dtype)
    for kh in range(g.KH):
        for kw in range(g.KW):
            sl = window_slice(kh, kw, (g.OH, g.OW), g.stride)
            dw[:, :, kh, kw] = np.tensordot(dy, xp[sl], axes=([0, 2, 3], [0, 2, 3]))
            # positions within one slice are distinct, so += on the strided view is safe
            dxp[sl] += np.tensordot(w[:, :, kh, kw], dy, axes=([0], [1])).transpose(1, 0, 2, 3)
    dx = np.ascontiguousarray(dxp[:, :, ph:ph + g.H, pw:pw + g.W])
    db = dy.sum(axis=(0, 2, 3))
    return dx, dw, db

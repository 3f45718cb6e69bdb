"""Exercise 16.1a -- the backward pass of a 2-D convolution (NCHW, PyTorch weight layout).

Forward (given below, as in ``torch.nn.functional.conv2d``)::

    y[b, o, p, q] = bias[o] + sum_{c, i, j} xp[b, c, p*sh + i, q*sw + j] * w[o, c, i, j]

where ``xp`` is ``x`` zero-padded by ``(ph, pw)`` on each side. Given the upstream gradient
``dy = dL/dy`` you compute ``dx = dL/dx``, ``dw = dL/dw`` and ``db = dL/dbias``.

Shapes: x (B, C_in, H, W), w (C_out, C_in, KH, KW), dy (B, C_out, OH, OW) with
``OH = (H + 2*ph - KH) // sh + 1`` (same for OW). Keep the input dtype (float32 stays float32)
and do not modify the inputs. Plain NumPy only: no torch, scipy or course_lib.
"""
from __future__ import annotations

import numpy as np


def _pair(v):
    """An int or a pair of ints -> (h, w)."""
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def conv2d_forward(x, w, bias=None, stride=1, padding=0):
    """Given: the forward pass. x (B, C_in, H, W), w (C_out, C_in, KH, KW) -> (B, C_out, OH, OW)."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    B, C, H, W = x.shape
    O, _, KH, KW = w.shape
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((B, O, OH, OW), dtype=x.dtype)
    for i in range(KH):
        for j in range(KW):
            # every output position reads the input at offset (i, j) on a strided grid
            patch = xp[:, :, i:i + sh * (OH - 1) + 1:sh, j:j + sw * (OW - 1) + 1:sw]
            y += np.einsum("bcpq,oc->bopq", patch, w[:, :, i, j])
    if bias is not None:
        y += bias[None, :, None, None]
    return y


def conv2d_backward(dy, x, w, stride=1, padding=0):
    """Gradients of the convolution above.

    Args:
        dy: (B, C_out, OH, OW) upstream gradient.
        x: (B, C_in, H, W) forward input.
        w: (C_out, C_in, KH, KW) forward weight.
        stride, padding: int or (h, w) pair, as in the forward pass.

    Returns:
        (dx, dw, db) with shapes (B, C_in, H, W), (C_out, C_in, KH, KW), (C_out,), all in
        ``x.dtype``.
    """
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    B, C, H, W = x.shape
    O, _, KH, KW = w.shape
    OH, OW = dy.shape[2], dy.shape[3]
    # BEGIN SOLUTION: compute (dx, dw, db). db[o] = sum of dy over b, p, q. For every kernel
    # offset (i, j), the strided window xp[:, :, i:i+sh*(OH-1)+1:sh, j:j+sw*(OW-1)+1:sw] of the
    # padded input (B, C_in, OH, OW) gives dw[:, :, i, j] = sum_{b,p,q} dy * window, and dy
    # contracted with w[:, :, i, j] over C_out is scatter-added (+=) into the same window of a
    # zero dxp of padded shape (B, C_in, H+2ph, W+2pw); finally crop dxp to (H, W). Return
    # float32 for float32 inputs.
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(KH):
        for j in range(KW):
            rows = slice(i, i + sh * (OH - 1) + 1, sh)
            cols = slice(j, j + sw * (OW - 1) + 1, sw)
            dw[:, :, i, j] = np.einsum("bopq,bcpq->oc", dy, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("bopq,oc->bcpq", dy, w[:, :, i, j])
    dx = dxp[:, :, ph:ph + H, pw:pw + W].copy()
    db = dy.sum(axis=(0, 2, 3)).astype(x.dtype)
    return dx, dw, db
    # END SOLUTION

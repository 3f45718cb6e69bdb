"""Exercise 16.2c -- cross-correlation through the FFT (what a CNN layer computes).

A CNN "convolution" is the cross-correlation ``y[p, q] = sum_{i,j} x[p+i, q+j] w[i, j]`` (no
kernel flip). By the correlation theorem, the *circular* cross-correlation of x with w
zero-padded to x's size is ``irfft2(rfft2(x) * conj(rfft2(w, s=x.shape)), s=x.shape)``; its
top-left (H-KH+1, W-KW+1) corner never wraps around, so it is exactly the 'valid' output.
Plain NumPy (``np.fft``) only.
"""
from __future__ import annotations

import numpy as np


def fft_correlate2d(x, w):
    """'valid' cross-correlation: x (H, W), w (KH, KW) -> (H-KH+1, W-KW+1) in x.dtype."""
    # BEGIN SOLUTION: with s = x.shape, compute irfft2(rfft2(x) * conj(rfft2(w, s)), s) and keep
    # the top-left (H-KH+1, W-KW+1) corner; return it in x.dtype. (Multiplying without conj gives
    # the flipped convolution, and its valid part sits at the bottom-right.)
    s = x.shape
    full = np.fft.irfft2(np.fft.rfft2(x) * np.conj(np.fft.rfft2(w, s)), s)
    return np.ascontiguousarray(full[:s[0] - w.shape[0] + 1, :s[1] - w.shape[1] + 1]).astype(x.dtype)
    # END SOLUTION


def fft_conv2d(x, w, padding=0):
    """A conv layer via FFT (stride 1): x (B, C, H, W), w (O, C, KH, KW) -> (B, O, OH, OW).

    ``padding`` (int) zero-pads H and W on both sides first, as torch.nn.functional.conv2d does.
    """
    # BEGIN SOLUTION: pad x by `padding` on H and W; s = padded (H, W); X = rfft2(x, s) over the
    # last two axes (B, C, H, W//2+1), Wf = rfft2(w, s) (O, C, ...); sum over channels:
    # Y[b, o] = sum_c X[b, c] * conj(Wf[o, c]) (np.einsum); irfft2(Y, s), keep the top-left
    # (H+2p-KH+1, W+2p-KW+1) corner, in x.dtype.
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    s = xp.shape[2:]
    X = np.fft.rfft2(xp, s)
    Wf = np.fft.rfft2(w, s)
    Y = np.einsum("bchw,ochw->bohw", X, np.conj(Wf))
    full = np.fft.irfft2(Y, s)
    OH, OW = s[0] - w.shape[2] + 1, s[1] - w.shape[3] + 1
    return np.ascontiguousarray(full[:, :, :OH, :OW]).astype(x.dtype)
    # END SOLUTION

"""Convolution through the FFT (Mathieu, Henaff & LeCun, 2014).

CNN "convolution" is cross-correlation, ``y[i] = sum_k xp[i + k] w[k]``.  In the
frequency domain correlation multiplies by the *conjugate* kernel spectrum:

    DFT(y_circ)[f] = X[f] * conj(Wk[f])       (real x, w; both zero-padded to N)

The circular result ``y_circ[i] = sum_k xp[(i + k) mod N] w[k]`` equals the linear
one for ``i <= Hp - KH`` as soon as ``N >= Hp`` (no index wraps), so the transform
size only has to cover the padded input -- not ``Hp + KH - 1`` as for a full linear
convolution.  We round N up to a size with small prime factors (fast FFT).

Channels are summed in the frequency domain: for every frequency one small complex
matrix product ``(B x C_in) @ (C_in x C_out)``, so only B*C_out inverse transforms are
needed.  Stride s is computed as the stride-1 result subsampled (wasteful for large
strides: the FFT cannot skip outputs).
"""
from __future__ import annotations

import numpy as np
from scipy.fft import next_fast_len

from ._args import check_conv2d


def fft_size(n: int) -> int:
    """Smallest 2-3-5-smooth length >= n (a fast size for a real FFT)."""
    return int(next_fast_len(int(n), real=True))


def conv2d_fft(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
               stride=1, padding=0) -> np.ndarray:
    """Cross-correlation via ``np.fft.rfft2``; same result as ``torch.nn.functional.conv2d``.

    Shapes: x (B, C_in, H, W), w (C_out, C_in, KH, KW), b (C_out,) or None
    -> y (B, C_out, OH, OW).  float32 in -> float32 out (NumPy >= 2 does the FFT in
    single precision); float64 stays float64.
    Extra memory: the spectra, ``(B + C_out) * C_in`` complex planes of N_h x (N_w/2+1)
    plus ``B * C_out`` for the product.
    """
    x, w, b, g = check_conv2d(x, w, b, stride, padding)
    (ph, pw), (sh, sw) = g.padding, g.stride
    Hp, Wp = g.H + 2 * ph, g.W + 2 * pw
    Nh, Nw = fft_size(Hp), fft_size(Wp)
    # zero padding for the convolution is placed by writing x into an N_h x N_w frame
    xp = np.zeros((g.B, g.C_in, Nh, Nw), dtype=x.dtype)
    xp[:, :, ph:ph + g.H, pw:pw + g.W] = x
    X = np.fft.rfft2(xp)                         # (B, C_in, Nh, Nw//2+1)
    del xp
    Wf = np.fft.rfft2(w, s=(Nh, Nw))             # kernel zero-padded to N at the far end
    F = Nh * (Nw // 2 + 1)
    # frequency-major layouts so each frequency is one contiguous small GEMM
    Xf = np.ascontiguousarray(X.reshape(g.B, g.C_in, F).transpose(2, 0, 1))          # (F, B, C_in)
    del X
    Wc = np.ascontiguousarray(np.conj(Wf).reshape(g.C_out, g.C_in, F).transpose(2, 1, 0))  # (F, C_in, C_out)
    Yf = np.matmul(Xf, Wc)                       # (F, B, C_out): channel sum per frequency
    del Xf, Wc
    Yf = np.ascontiguousarray(Yf.transpose(1, 2, 0)).reshape(g.B, g.C_out, Nh, Nw // 2 + 1)
    y_full = np.fft.irfft2(Yf, s=(Nh, Nw))       # circular correlation, (B, C_out, Nh, Nw)
    # valid part of the stride-1 result is [0, Hp-KH]; the stride keeps every s-th row
    y = y_full[:, :, :sh * (g.OH - 1) + 1:sh, :sw * (g.OW - 1) + 1:sw]
    y = y.astype(x.dtype, copy=False)
    if b is not None:
        y = y + b[:, None, None].astype(x.dtype, copy=False)
    return np.ascontiguousarray(y)

"""FFT convolution (cross-correlation), against PyTorch and SciPy."""
import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F

from course_lib.conv.fft import conv2d_fft, fft_size

CASES = [  # x shape, w shape, stride, padding
    ((2, 3, 9, 8), (4, 3, 3, 3), 1, 1),
    ((1, 1, 16, 16), (2, 1, 11, 11), 1, 0),        # large kernel, batch 1, C_in 1
    ((2, 2, 13, 10), (3, 2, 5, 2), (2, 3), (2, 1)),  # rectangular kernel, strides, asymmetric pad
    ((1, 3, 20, 20), (2, 3, 7, 7), 2, 3),          # the stem's pattern
    ((2, 4, 6, 6), (3, 4, 1, 1), 1, 0),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,ws,stride,padding", CASES)
def test_fft_matches_torch(xs, ws, stride, padding, dtype):
    rng = np.random.default_rng(sum(xs) + sum(ws))
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    ref = F.conv2d(*map(torch.from_numpy, (x, w, b)), stride=stride, padding=padding).numpy()
    y = conv2d_fft(x, w, b, stride, padding)
    assert y.dtype == dtype and y.shape == ref.shape
    tol = dict(rtol=1e-3, atol=1e-3) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(y, ref, **tol)


def test_is_correlation_not_convolution():
    # an asymmetric kernel tells the two apart; scipy's correlate2d(valid) is the reference
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((12, 12)), rng.standard_normal((3, 4))
    y = conv2d_fft(x[None, None], k[None, None])[0, 0]
    np.testing.assert_allclose(y, scipy.signal.correlate2d(x, k, mode="valid"), atol=1e-10)
    assert not np.allclose(y, scipy.signal.convolve2d(x, k, mode="valid"), atol=1e-3)


def test_fft_size_is_fast_and_large_enough():
    for n in (7, 64, 97, 231, 1034):
        N = fft_size(n)
        assert N >= n
        r = N
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        assert r == 1


def test_bad_inputs():
    x = np.zeros((1, 2, 5, 5), np.float32)
    with pytest.raises(ValueError, match="larger"):
        conv2d_fft(x, np.zeros((1, 2, 7, 7), np.float32))
    with pytest.raises(ValueError, match="padding"):
        conv2d_fft(x, np.zeros((1, 2, 3, 3), np.float32), padding=-1)

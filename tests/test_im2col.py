"""im2col / col2im / im2col convolution and its backward, against PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.conv.im2col import col2im, conv2d_im2col, conv2d_im2col_backward, im2col

CASES = [  # x shape, w shape, stride, padding
    ((2, 3, 9, 8), (4, 3, 3, 3), 1, 1),
    ((1, 1, 7, 7), (2, 1, 3, 2), 2, 0),          # batch 1, C_in 1, rectangular kernel
    ((3, 2, 10, 6), (5, 2, 4, 3), (2, 1), (1, 2)),
    ((2, 4, 5, 5), (3, 4, 1, 1), 1, 0),          # 1x1
    ((1, 2, 6, 9), (2, 2, 5, 5), 3, 2),
]


def _rand(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,ws,stride,padding", CASES)
def test_im2col_matches_unfold_and_col2im_matches_fold(xs, ws, stride, padding, dtype):
    x = _rand(xs, dtype, 0)
    kh, kw = ws[2:]
    cols = im2col(x, kh, kw, stride, padding)
    ref = F.unfold(torch.from_numpy(x), (kh, kw), padding=padding, stride=stride).numpy()
    assert cols.dtype == dtype and cols.shape == ref.shape
    np.testing.assert_array_equal(cols, ref)
    c = _rand(cols.shape, dtype, 1)
    back = col2im(c, xs, kh, kw, stride, padding)
    ref_back = F.fold(torch.from_numpy(c), xs[2:], (kh, kw), padding=padding, stride=stride).numpy()
    assert back.shape == xs and back.dtype == dtype
    np.testing.assert_allclose(back, ref_back, **_tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,ws,stride,padding", CASES)
def test_forward_matches_torch(xs, ws, stride, padding, dtype):
    x, w, b = _rand(xs, dtype, 2), _rand(ws, dtype, 3), _rand(ws[:1], dtype, 4)
    ref = F.conv2d(*map(torch.from_numpy, (x, w, b)), stride=stride, padding=padding).numpy()
    for chunk in (None, 1):                     # whole batch per chunk, and one image per chunk
        y = conv2d_im2col(x, w, b, stride, padding, chunk_bytes=chunk)
        assert y.dtype == dtype and y.shape == ref.shape
        np.testing.assert_allclose(y, ref, **_tol(dtype))
    np.testing.assert_allclose(conv2d_im2col(x, w, None, stride, padding),
                               ref - b[:, None, None], **_tol(dtype))


@pytest.mark.parametrize("xs,ws,stride,padding", CASES)
def test_backward_matches_autograd(xs, ws, stride, padding):
    x, w = _rand(xs, np.float64, 5), _rand(ws, np.float64, 6)
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    bt = torch.zeros(ws[0], dtype=torch.float64, requires_grad=True)
    y = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    dy = _rand(tuple(y.shape), np.float64, 7)
    y.backward(torch.from_numpy(dy))
    dx, dw, db = conv2d_im2col_backward(dy, x, w, stride, padding)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_backward_float32_dtype():
    x, w = _rand((2, 3, 6, 6), np.float32, 8), _rand((4, 3, 3, 3), np.float32, 9)
    dy = _rand((2, 4, 6, 6), np.float32, 10)
    assert all(g.dtype == np.float32 for g in conv2d_im2col_backward(dy, x, w, 1, 1))


def test_col2im_is_adjoint_of_im2col():
    # <im2col(x), c> == <x, col2im(c)>: an independent identity, not a copy of the code
    x = _rand((2, 3, 7, 5), np.float64, 11)
    cols = im2col(x, 3, 2, (2, 1), 1)
    c = _rand(cols.shape, np.float64, 12)
    assert np.isclose(np.sum(cols * c), np.sum(x * col2im(c, x.shape, 3, 2, (2, 1), 1)))


def test_bad_inputs():
    x, w = _rand((1, 2, 5, 5), np.float32, 0), _rand((3, 2, 3, 3), np.float32, 1)
    with pytest.raises(ValueError, match="channel"):
        conv2d_im2col(x, _rand((3, 4, 3, 3), np.float32, 1))
    with pytest.raises(TypeError, match="dtype"):
        conv2d_im2col(x, w.astype(np.float64))
    with pytest.raises(ValueError, match="stride"):
        conv2d_im2col(x, w, stride=0)
    with pytest.raises(ValueError, match="larger"):
        im2col(x, 7, 7)
    with pytest.raises(ValueError, match="cols has shape"):
        col2im(np.zeros((1, 18, 10), np.float32), (1, 2, 5, 5), 3, 3)
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        conv2d_im2col(bad, w)
    with pytest.raises(ValueError, match="dy has shape"):
        conv2d_im2col_backward(np.zeros((1, 3, 2, 2), np.float32), x, w)


def test_backward_central_differences():
    # directional derivatives of L = sum(y * dy) in float64, independent of autograd
    rng = np.random.default_rng(13)
    x, w = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3))
    dy = rng.standard_normal(conv2d_im2col(x, w, None, 2, 1).shape)
    dx, dw, _ = conv2d_im2col_backward(dy, x, w, 2, 1)
    loss = lambda xx, ww: float(np.sum(conv2d_im2col(xx, ww, None, 2, 1) * dy))  # noqa: E731
    h = 1e-6
    for _ in range(3):
        vx, vw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
        num_x = (loss(x + h * vx, w) - loss(x - h * vx, w)) / (2 * h)
        num_w = (loss(x, w + h * vw) - loss(x, w - h * vw)) / (2 * h)
        assert np.isclose(num_x, np.sum(dx * vx), rtol=1e-6, atol=1e-8)
        assert np.isclose(num_w, np.sum(dw * vw), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("images_per_chunk", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_chunks_with_a_short_last_chunk(images_per_chunk, dtype):
    # B = 7 is not a multiple of 2, 3 or 4: the last chunk holds fewer images than the others
    rng = np.random.default_rng(images_per_chunk)
    x = rng.standard_normal((7, 3, 9, 8)).astype(dtype)
    w = rng.standard_normal((5, 3, 3, 2)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    per_image = 3 * 3 * 2 * 9 * 9 * np.dtype(dtype).itemsize        # C_in*KH*KW*OH*OW bytes (OH = OW = 9)
    got = conv2d_im2col(x, w, b, stride=(1, 1), padding=1, chunk_bytes=images_per_chunk * per_image)
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), padding=1).numpy()
    assert got.shape == ref.shape and got.dtype == dtype
    np.testing.assert_allclose(got, ref, rtol=1e-4 if dtype == np.float32 else 1e-10,
                               atol=1e-4 if dtype == np.float32 else 1e-10)

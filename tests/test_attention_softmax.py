"""Softmax and its backward against torch, float64 central differences and the masking rules."""
import numpy as np
import pytest
import torch

from attention_cases import close, tt
from course_lib.attention import softmax, softmax_backward
from course_lib.gradcheck import check_gradient

SHAPES = [((7,), -1), ((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((2, 1, 6), -1), ((4, 2, 3, 5), 2)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape,axis", SHAPES, ids=str)
def test_softmax_and_backward_match_torch(shape, axis, dtype):
    rng = np.random.default_rng(len(shape) * 10 + axis)
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    xt = tt(x, grad=True)
    yt = torch.softmax(xt, dim=axis)
    yt.backward(tt(dy))
    y = softmax(x, axis)
    assert y.dtype == dtype
    close(y, yt, dtype, "softmax")
    close(softmax_backward(dy, y, axis), xt.grad, dtype, "dx")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_stable_for_huge_logits(dtype):
    # exp(1e4) overflows in both dtypes; the shifted form must not
    x = np.array([[1e4, 1e4 - 1, -1e4, 0.0], [-1e4, -1e4, -1e4 + 2, -1e4]], dtype=dtype)
    y = softmax(x)
    assert np.isfinite(y).all()
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=1, keepdims=True))     # float64 reference
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-6, atol=1e-7)
    close(y, torch.softmax(tt(x), -1), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_masked_entries_and_all_masked_rows(dtype):
    x = np.array([[0.5, -np.inf, 1.5, -np.inf],
                  [-np.inf, -np.inf, -np.inf, -np.inf],
                  [2.0, 1.0, 0.0, -1.0]], dtype=dtype)
    y = softmax(x)
    assert not np.isnan(y).any()
    np.testing.assert_array_equal(y[1], 0.0)                  # nothing allowed -> zeros
    np.testing.assert_array_equal(y[0, [1, 3]], 0.0)
    ref = np.exp([0.5, 1.5]) / np.exp([0.5, 1.5]).sum()
    np.testing.assert_allclose(y[0, [0, 2]], ref, rtol=1e-6)
    # the all-masked row gets no gradient, the others as torch
    dy = np.arange(12, dtype=dtype).reshape(3, 4)
    dx = softmax_backward(dy, y)
    np.testing.assert_array_equal(dx[1], 0.0)
    xt = tt(x[[0, 2]], grad=True)
    torch.softmax(xt, -1).backward(tt(dy[[0, 2]]))
    close(dx[[0, 2]], xt.grad, dtype)
    # torch's plain softmax gives NaN on the all-masked row: the reason for our choice
    assert torch.isnan(torch.softmax(tt(x), -1)[1]).all()


def test_backward_against_central_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4))
    r = rng.standard_normal((3, 4))
    rep = check_gradient(lambda a: float(np.sum(softmax(a) * r)),
                         lambda a: softmax_backward(r, softmax(a)), x)
    assert rep.passed, rep


def test_input_not_modified():
    x = np.random.default_rng(0).standard_normal((2, 3))
    x0 = x.copy()
    softmax(x)
    np.testing.assert_array_equal(x, x0)


def test_bad_input():
    with pytest.raises(TypeError, match="float32 or float64"):
        softmax(np.arange(4))
    with pytest.raises(ValueError, match="NaN or \\+inf"):
        softmax(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="NaN or \\+inf"):
        softmax(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="axis"):
        softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match="same shape"):
        softmax_backward(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        softmax([1.0, 2.0])

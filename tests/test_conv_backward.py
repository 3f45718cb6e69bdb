"""Backward convolution (vectorized and transposed-convolution loop version) against
torch autograd and against float64 central differences."""
import numpy as np
import pytest

from conv_cases import CASES, TINY_CASES, Case, assert_close, torch_forward_backward
from course_lib.conv import (Conv2d, conv2d_backward, conv2d_backward_naive,
                             dilate, rot180)
from course_lib.gradcheck import gradcheck_conv2d

IMPLS = [conv2d_backward, conv2d_backward_naive]
DTYPES = [np.float32, np.float64]


def _dy(case, dtype, seed=1):
    (sh, sw), (ph, pw) = case.pairs()
    oh = (case.H + 2 * ph - case.KH) // sh + 1
    ow = (case.W + 2 * pw - case.KW) // sw + 1
    return np.random.default_rng(seed).standard_normal((case.B, case.C_out, oh, ow)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("impl", IMPLS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_backward_matches_autograd(case: Case, impl, dtype):
    x, w, b = case.arrays(dtype)
    dy = _dy(case, dtype)
    _, rdx, rdw, _ = torch_forward_backward(x, w, b, case.stride, case.padding, dy)
    rdb = dy.astype(np.float64).sum(axis=(0, 2, 3))  # independent of b being present
    dx, dw, db = impl(dy, x, w, case.stride, case.padding)
    for name, got, ref in (("dx", dx, rdx), ("dw", dw, rdw), ("db", db, rdb)):
        assert got.dtype == dtype, name
        assert got.shape == ref.shape, name
        assert_close(got, ref, dtype, f"{name} {case}")


@pytest.mark.parametrize("impl", IMPLS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", TINY_CASES, ids=str)
def test_backward_matches_central_differences(case: Case, impl):
    x, w, b = case.arrays(np.float64)
    reports = gradcheck_conv2d(x, w, b, case.stride, case.padding, backward=impl, tol=1e-7)
    for name, rep in reports.items():
        assert rep.passed, f"{name}: {rep} ({case})"


def test_tiny_cases_include_stride_and_leftover():
    assert len(TINY_CASES) >= 8
    assert any(c.pairs()[0] != (1, 1) for c in TINY_CASES)
    assert any(c.leftover != (0, 0) for c in TINY_CASES)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda f: f.__name__)
def test_unreached_rows_get_zero_gradient(impl):
    # H=8, K=3, s=3, p=0: windows start at 0 and 3, so rows 6 and 7 never meet the kernel
    x, w, _ = Case(1, 2, 2, 8, 8, 3, 3, 3, 0).arrays(np.float64)
    dy = np.ones((1, 2, 2, 2))
    dx, _, _ = impl(dy, x, w, 3, 0)
    assert np.all(dx[:, :, 6:, :] == 0) and np.all(dx[:, :, :, 6:] == 0)
    assert np.any(dx[:, :, 5, :] != 0)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda f: f.__name__)
def test_inputs_not_mutated(impl):
    case = Case(2, 2, 3, 7, 6, 3, 2, (2, 1), 1)
    x, w, _ = case.arrays(np.float64)
    dy = _dy(case, np.float64)
    copies = [a.copy() for a in (dy, x, w)]
    impl(dy, x, w, case.stride, case.padding)
    for a, c in zip((dy, x, w), copies):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda f: f.__name__)
def test_non_contiguous_inputs(impl):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 12, 3, 14)).transpose(0, 2, 1, 3)[:, :, ::2, ::2]  # (2, 3, 6, 7)
    w = rng.standard_normal((3, 2, 2, 3)).transpose(1, 0, 3, 2)                      # (2, 3, 3, 2)
    dy = rng.standard_normal((2, 2, 6, 8))[:, :, ::2, ::2]                           # (2, 2, 3, 4)
    ref = torch_forward_backward(*(np.ascontiguousarray(a) for a in (x, w)), None, 2, 1,
                                 np.ascontiguousarray(dy))
    dx, dw, db = impl(dy, x, w, 2, 1)
    assert_close(dx, ref[1], np.float64)
    assert_close(dw, ref[2], np.float64)


def test_dilate_and_rot180():
    dy = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)
    d = dilate(dy, (2, 3))
    assert d.shape == (1, 1, 3, 7)
    np.testing.assert_array_equal(d[:, :, ::2, ::3], dy)
    assert np.count_nonzero(d) == dy.size
    np.testing.assert_array_equal(dilate(dy, 1), dy)
    w = np.arange(24.0).reshape(2, 1, 3, 4)
    np.testing.assert_array_equal(rot180(w), np.rot90(w, 2, axes=(2, 3)))


@pytest.mark.parametrize("algo", ["direct", "naive"])
def test_layer_backward_matches_autograd(algo):
    case = Case(2, 3, 4, 7, 8, 3, 3, 2, 1)
    layer = Conv2d(3, 4, 3, stride=2, padding=1, dtype=np.float64, seed=3, algo=algo)
    x, _, _ = case.arrays(np.float64)
    y = layer.forward(x)
    dy = np.random.default_rng(2).standard_normal(y.shape)
    dx = layer.backward(dy)
    _, rdx, rdw, rdb = torch_forward_backward(x, layer.weight, layer.bias, 2, 1, dy)
    assert_close(dx, rdx, np.float64)
    assert_close(layer.dw, rdw, np.float64)
    assert_close(layer.db, rdb, np.float64)


def test_layer_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        Conv2d(1, 1, 1).backward(np.zeros((1, 1, 1, 1), np.float32))

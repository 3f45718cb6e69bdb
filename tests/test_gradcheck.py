"""The gradient-check helpers themselves: correct on known gradients, able to fail."""
import numpy as np
import pytest

from course_lib.conv import conv2d_backward, conv2d_direct, rot180
from course_lib.gradcheck import (check_gradient, gradcheck_conv2d, numerical_gradient,
                                  relative_error)


def _f(v):
    return float(np.sum(np.sin(v) * v ** 2))


def _df(v):
    return np.cos(v) * v ** 2 + 2 * v * np.sin(v)


def test_numerical_gradient_of_a_known_function():
    x = np.random.default_rng(0).standard_normal((3, 4))
    g = numerical_gradient(_f, x)
    assert g.dtype == np.float64 and g.shape == x.shape
    assert relative_error(g, _df(x)) < 1e-9


def test_numerical_gradient_does_not_mutate_and_accepts_views():
    base = np.random.default_rng(1).standard_normal((4, 6))
    x = base.T[::2]  # non-contiguous view
    before = base.copy()
    g = numerical_gradient(_f, x)
    np.testing.assert_array_equal(base, before)
    assert relative_error(g, _df(x)) < 1e-9


def test_numerical_gradient_works_on_float32_input_in_float64():
    x = np.random.default_rng(2).standard_normal(5).astype(np.float32)
    seen = []
    numerical_gradient(lambda v: seen.append(v.dtype) or _f(v), x)
    assert set(seen) == {np.dtype(np.float64)}


def test_relative_error_definition():
    a = np.array([1.0, -4.0, 2.0])
    b = np.array([1.5, -4.0, 2.0])
    assert relative_error(a, b) == pytest.approx(0.5 / 4.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.zeros(2), np.array([0.0, 1e-3])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.zeros(2), np.zeros(3))


def test_check_gradient_passes_and_fails():
    x = np.random.default_rng(3).standard_normal(6)
    good = check_gradient(_f, _df, x)
    assert good.passed and good.rel_err < 1e-9
    wrong = _df(x)
    wrong[2] += 1e-3  # one slightly wrong entry must be flagged
    bad = check_gradient(_f, wrong, x)
    assert not bad.passed and bad.max_abs_err == pytest.approx(1e-3, rel=1e-3)
    assert "FAIL" in str(bad) and "PASS" in str(good)


def test_check_gradient_rejects_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        check_gradient(_f, np.zeros(3), np.zeros(4))


def test_float32_central_differences_are_inaccurate():
    # the setting the source chapter used: float32, eps = 1e-5
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    r = rng.standard_normal((1, 3, 5, 5))
    _, dw, _ = conv2d_backward(r, x, w, 1, 1)
    x32 = x.astype(np.float32)
    r32 = r.astype(np.float32)

    def loss(v):
        return np.sum(conv2d_direct(x32 if v.dtype == np.float32 else x, v, None, 1, 1)
                      * (r32 if v.dtype == np.float32 else r))

    err32 = relative_error(numerical_gradient(loss, w, 1e-5, dtype=np.float32), dw)
    err64 = relative_error(numerical_gradient(loss, w, 1e-6), dw)
    assert err64 < 1e-8
    assert err32 > 1e-3  # rounding error ~ u32 * |L| / eps dominates


class _Broken:
    """Backward passes with a classic bug each, to show gradcheck_conv2d catches them."""

    @staticmethod
    def no_flip(dy, x, w, stride, padding):
        dx, dw, db = conv2d_backward(dy, x, w, stride, padding)
        # dx computed with a rotated kernel is what forgetting / doubling the flip gives
        dx2, _, _ = conv2d_backward(dy, x, np.ascontiguousarray(rot180(w)), stride, padding)
        return dx2, dw, db

    @staticmethod
    def scaled_dw(dy, x, w, stride, padding):
        dx, dw, db = conv2d_backward(dy, x, w, stride, padding)
        return dx, dw * 1.001, db

    @staticmethod
    def db_mean(dy, x, w, stride, padding):
        dx, dw, _ = conv2d_backward(dy, x, w, stride, padding)
        return dx, dw, dy.mean(axis=(0, 2, 3))


@pytest.mark.parametrize("bug,tensor", [("no_flip", "x"), ("scaled_dw", "w"), ("db_mean", "b")])
def test_gradcheck_conv2d_flags_broken_backward(bug, tensor):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 2, 5, 4))
    w = rng.standard_normal((2, 2, 3, 2))
    b = rng.standard_normal(2)
    reports = gradcheck_conv2d(x, w, b, 2, 1, backward=getattr(_Broken, bug))
    assert not reports[tensor].passed
    assert all(rep.passed for name, rep in reports.items() if name != tensor)
    assert gradcheck_conv2d(x, w, b, 2, 1)[tensor].passed


def test_numerical_gradient_bad_arguments():
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(_f, np.zeros(2), eps=0.0)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        numerical_gradient(_f, [1.0, 2.0])
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v * 2, np.zeros(2))

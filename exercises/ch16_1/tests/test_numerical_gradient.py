"""Public tests for numerical_gradient.py: compared with analytic float64 derivatives."""
import numpy as np
import pytest

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)

sub = submission_fixture("numerical_gradient")


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "numerical_gradient"))


@pytest.mark.points(2)
def test_smooth_function_2d(sub):
    x = np.random.default_rng(0).standard_normal((3, 4))
    got = call_checked(sub.numerical_gradient, lambda a: np.sum(np.sin(a) * a ** 2), x,
                       case={"f": "sum(sin(x) * x**2)", "x": x})
    expected = np.cos(x) * x ** 2 + 2 * x * np.sin(x)
    compare("gradient", got, expected, rtol=1e-7, atol=1e-8, case={"f": "sum(sin(x)*x**2)", "x": x},
            hint="g[k] = (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)")


@pytest.mark.points(2)
def test_central_not_one_sided(sub):
    """For f = sum(x**3) the central difference is exactly 3x**2 + eps**2."""
    x = np.linspace(-1.0, 1.5, 6)
    eps = 1e-3
    got = call_checked(sub.numerical_gradient, lambda a: np.sum(a ** 3), x, eps=eps)
    compare("gradient", got, 3 * x ** 2 + eps ** 2, rtol=1e-7, atol=1e-9,
            case={"f": "sum(x**3)", "x": x, "eps": eps},
            hint="use the step eps you are given, on both sides (central difference)")


@pytest.mark.points(1)
def test_float32_input_evaluated_in_float64(sub):
    x = np.random.default_rng(1).standard_normal(5).astype(np.float32)
    seen = []
    got = call_checked(sub.numerical_gradient, lambda a: (seen.append(a.dtype), np.sum(a ** 2))[1], x)
    compare("gradient", got, 2 * x.astype(np.float64), rtol=1e-6, atol=1e-7,
            case={"f": "sum(x**2)", "x": x, "x.dtype": "float32"},
            hint="copy x to float64 before perturbing it; return float64")
    assert set(seen) == {np.dtype(np.float64)}, f"f was called with dtypes {set(seen)}, not float64"

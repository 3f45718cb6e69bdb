"""Hidden tests for numerical_gradient.py."""
import numpy as np
import pytest

from course_lib.grading import call_checked, compare, submission_fixture

sub = submission_fixture("numerical_gradient")


@pytest.mark.points(2)
def test_matrix_function_4d(sub):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 1, 3, 2))
    m = rng.standard_normal((12, 12)) / 3

    def f(a):
        v = a.reshape(-1)
        return np.sum(np.tanh(m @ v))

    v = x.reshape(-1)
    expected = (m.T @ (1 - np.tanh(m @ v) ** 2)).reshape(x.shape)
    got = call_checked(sub.numerical_gradient, f, x, case={"x": x})
    compare("gradient", got, expected, rtol=1e-6, atol=1e-8, case={"x": x})


@pytest.mark.points(1)
def test_non_contiguous_input(sub):
    x = np.arange(12.0).reshape(3, 4).T[::2] / 7.0
    got = call_checked(sub.numerical_gradient, lambda a: np.sum(np.exp(a)), x, case={"x": x})
    compare("gradient", got, np.exp(x), rtol=1e-7, atol=1e-9, case={"x": x})

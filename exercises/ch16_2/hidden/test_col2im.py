"""Hidden tests for col2im.py."""
import numpy as np
import pytest

from course_lib.grading import call_checked, compare, submission_fixture
from course_lib.grading.torch_refs import torch_fold, torch_unfold

sub = submission_fixture("col2im")


@pytest.mark.points(2)
@pytest.mark.parametrize("x_shape,kernel,stride,padding", [
    ((1, 1, 9, 9), 2, 3, 0),        # stride larger than kernel: gaps stay zero
    ((3, 2, 5, 4), (5, 1), 1, 2),   # tall kernel, padding 2
])
def test_more_geometries(sub, x_shape, kernel, stride, padding):
    k = (kernel, kernel) if np.isscalar(kernel) else kernel
    B, C, H, W = x_shape
    L = ((H + 2 * padding - k[0]) // stride + 1) * ((W + 2 * padding - k[1]) // stride + 1)
    cols = np.random.default_rng(11).standard_normal((B, C * k[0] * k[1], L))
    case = {"x_shape": x_shape, "kernel": kernel, "stride": stride, "padding": padding}
    got = call_checked(sub.col2im, cols, x_shape, kernel, stride, padding, case=case)
    compare("x", got, torch_fold(cols, (H, W), k, stride, padding), rtol=1e-12, atol=1e-12, case=case)


@pytest.mark.points(1)
def test_adjoint_of_unfold(sub):
    """<unfold(x), cols> == <x, col2im(cols)> for random x and cols."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 6, 7))
    ux = torch_unfold(x, (3, 3), (2, 2), (1, 1))
    cols = rng.standard_normal(ux.shape)
    lhs = float(np.sum(ux * cols))
    rhs = float(np.sum(x * sub.col2im(cols, x.shape, 3, 2, 1)))
    compare("<x, col2im(cols)>", np.array(rhs), np.array(lhs), rtol=1e-10, atol=1e-10)

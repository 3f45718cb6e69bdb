"""Hidden tests for layernorm_backward.py."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import call_checked, compare, submission_fixture, unpack

sub = submission_fixture("layernorm_backward")


def torch_grads(dy, x, gamma, eps):
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(gamma, requires_grad=True)
    F.layer_norm(xt, gamma.shape, gt, None, eps).backward(torch.tensor(dy))
    return xt.grad.numpy(), gt.grad.numpy(), torch.tensor(dy).sum(dim=tuple(range(dy.ndim - 1))).numpy()


@pytest.mark.points(2)
def test_large_eps_and_4d(sub):
    """A large eps shows whether eps sits inside the square root where the forward puts it."""
    rng = np.random.default_rng(7)
    x = 0.3 * rng.standard_normal((2, 2, 3, 4))
    gamma = rng.standard_normal(4)
    dy = rng.standard_normal(x.shape)
    got = unpack("layernorm_backward(...)", call_checked(sub.layernorm_backward, dy, x, gamma, 0.5,
                                                         case={"eps": 0.5}), 3, {"eps": 0.5})
    for name, g, r in zip(("dx", "dgamma", "dbeta"), got, torch_grads(dy, x, gamma, 0.5)):
        compare(name, g, r, rtol=1e-9, atol=1e-10, case={"eps": 0.5, "x.shape": x.shape})


@pytest.mark.points(1)
def test_constant_rows(sub):
    """Rows with zero variance: xhat = 0, the gradient is rstd * (g - mean(g))."""
    x = np.tile(np.array([[3.0], [-1.0]]), (1, 5))
    gamma = np.linspace(0.5, 1.5, 5)
    dy = np.random.default_rng(8).standard_normal(x.shape)
    got = unpack("layernorm_backward(...)", call_checked(sub.layernorm_backward, dy, x, gamma, 1e-5,
                                                         case={"x": x}), 3, {"x": x})
    compare("dx", got[0], torch_grads(dy, x, gamma, 1e-5)[0], rtol=1e-7, atol=1e-7, case={"x": x})

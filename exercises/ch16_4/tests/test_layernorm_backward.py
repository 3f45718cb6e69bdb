"""Public tests for layernorm_backward.py: compared with torch autograd through F.layer_norm."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture, unpack)

sub = submission_fixture("layernorm_backward")
HINT = "dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma, means over the last axis"


def torch_grads(dy, x, gamma, eps):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    gt = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    bt = torch.zeros(gamma.shape, dtype=torch.float64, requires_grad=True)
    F.layer_norm(xt, gamma.shape, gt, bt, eps).backward(torch.tensor(dy, dtype=torch.float64))
    return xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


def run_case(sub, shape, dtype, eps=1e-5, seed=0, tol=None):
    rng = np.random.default_rng(seed)
    x = (2 * rng.standard_normal(shape) + 0.5).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, shape[-1]).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    case = {"x": x, "gamma": gamma, "eps": eps, "dtype": np.dtype(dtype).name}
    got = unpack("layernorm_backward(...)", call_checked(sub.layernorm_backward, dy, x, gamma, eps,
                                                         case=case), 3, case)
    tol = tol or (dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10))
    for name, g, r in zip(("dx", "dgamma", "dbeta"), got, torch_grads(dy, x, gamma, eps)):
        compare(name, g, r.astype(dtype), case=case, hint=HINT, **tol)


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "layernorm_backward"))


@pytest.mark.points(3)
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 5)], ids=["2d", "3d"])
def test_matches_torch_float64(sub, shape):
    run_case(sub, shape, np.float64)


@pytest.mark.points(1)
def test_float32_stays_float32(sub):
    run_case(sub, (3, 8), np.float32)

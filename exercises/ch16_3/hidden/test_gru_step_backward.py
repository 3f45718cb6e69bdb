"""Hidden tests for gru_step_backward.py."""
import numpy as np
import pytest
import torch

from course_lib.grading import call_checked, compare, submission_fixture

sub = submission_fixture("gru_step_backward")


def step(x, h, w_ih, w_hh, b_ih, b_hh):
    """torch's GRU step in float64 NumPy (used only for central differences)."""
    H = h.shape[1]
    a, u = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = 1 / (1 + np.exp(-(a[:, :H] + u[:, :H])))
    z = 1 / (1 + np.exp(-(a[:, H:2 * H] + u[:, H:2 * H])))
    n = np.tanh(a[:, 2 * H:] + r * u[:, 2 * H:])
    return (1 - z) * n + z * h


@pytest.mark.points(2)
def test_central_differences_on_weights(sub):
    rng = np.random.default_rng(8)
    B, I, H = 2, 3, 2
    args = [rng.standard_normal((B, I)), rng.standard_normal((B, H)),
            rng.standard_normal((3 * H, I)), rng.standard_normal((3 * H, H)),
            rng.standard_normal(3 * H), rng.standard_normal(3 * H)]
    dh_new = rng.standard_normal((B, H))
    got = call_checked(sub.gru_step_backward, dh_new, *args)
    eps = 1e-6
    for k, name in enumerate(("dx", "dh", "dw_ih", "dw_hh", "db_ih", "db_hh")):
        num = np.zeros_like(args[k])
        for idx in np.ndindex(args[k].shape):
            plus = [a.copy() for a in args]
            minus = [a.copy() for a in args]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (np.sum(step(*plus) * dh_new) - np.sum(step(*minus) * dh_new)) / (2 * eps)
        compare(name, got[k], num, rtol=1e-6, atol=1e-8)


@pytest.mark.points(1)
def test_batch_of_eight_against_autograd(sub):
    torch.manual_seed(9)
    cell = torch.nn.GRUCell(6, 5, dtype=torch.float64)
    rng = np.random.default_rng(9)
    x, h, dh_new = (rng.standard_normal(s) for s in ((8, 6), (8, 5), (8, 5)))
    got = call_checked(sub.gru_step_backward, dh_new, x, h,
                       *[v.detach().numpy().copy() for v in (cell.weight_ih, cell.weight_hh,
                                                            cell.bias_ih, cell.bias_hh)])
    xt, ht = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    (cell(xt, ht) * torch.tensor(dh_new)).sum().backward()
    for g, r, name in ((got[0], xt.grad, "dx"), (got[1], ht.grad, "dh"),
                       (got[3], cell.weight_hh.grad, "dw_hh"), (got[5], cell.bias_hh.grad, "db_hh")):
        compare(name, g, r.numpy(), rtol=1e-10, atol=1e-12)

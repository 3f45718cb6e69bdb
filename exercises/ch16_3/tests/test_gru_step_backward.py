"""Public tests for gru_step_backward.py: compared with torch.nn.GRUCell autograd (float64)."""
import numpy as np
import pytest
import torch

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture, unpack)

sub = submission_fixture("gru_step_backward")
HINT = "torch's GRU: n = tanh(a_n + r * (h w_hn^T + b_hn)); h_new = (1 - z) n + z h"
NAMES = ("dx", "dh", "dw_ih", "dw_hh", "db_ih", "db_hh")
TDT = {np.float32: torch.float32, np.float64: torch.float64}


def torch_grads(dh_new, x, h, cell):
    xt = torch.tensor(x, requires_grad=True)
    ht = torch.tensor(h, requires_grad=True)
    cell.zero_grad()
    (cell(xt, ht) * torch.tensor(dh_new)).sum().backward()
    return (xt.grad.numpy(), ht.grad.numpy(), cell.weight_ih.grad.numpy(),
            cell.weight_hh.grad.numpy(), cell.bias_ih.grad.numpy(), cell.bias_hh.grad.numpy())


def run_case(sub, B, I, H, dtype, seed=0):
    torch.manual_seed(seed)
    cell = torch.nn.GRUCell(I, H, dtype=TDT[dtype])
    p = [v.detach().numpy().copy() for v in (cell.weight_ih, cell.weight_hh, cell.bias_ih,
                                            cell.bias_hh)]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, I)).astype(dtype)
    h = rng.standard_normal((B, H)).astype(dtype)
    dh_new = rng.standard_normal((B, H)).astype(dtype)
    case = {"x": x, "h": h, "dtype": np.dtype(dtype).name}
    got = unpack("gru_step_backward(...)", call_checked(sub.gru_step_backward, dh_new, x, h, *p,
                                                        case=case), 6, case)
    ref = torch_grads(dh_new, x, h, cell)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for name, g, r in zip(NAMES, got, ref):
        compare(name, g, r, case=case, hint=HINT, **tol)


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "gru_step_backward"))


@pytest.mark.points(2)
@pytest.mark.parametrize("B,I,H", [(1, 1, 1), (2, 3, 4), (3, 5, 2)], ids=["all-1", "2x3x4", "I>H"])
def test_matches_autograd_float64(sub, B, I, H):
    run_case(sub, B, I, H, np.float64)


@pytest.mark.points(1)
def test_float32_stays_float32(sub):
    run_case(sub, 2, 4, 3, np.float32, seed=1)

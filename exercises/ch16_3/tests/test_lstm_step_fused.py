"""Public tests for lstm_step_fused.py: compared with torch.nn.LSTMCell."""
import numpy as np
import pytest
import torch

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture, unpack)

sub = submission_fixture("lstm_step_fused")
HINT = "a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh; columns i, f, g, o in that order"
TDT = {np.float32: torch.float32, np.float64: torch.float64}


def run_case(sub, B, I, H, dtype, seed=0):
    torch.manual_seed(seed)
    cell = torch.nn.LSTMCell(I, H, dtype=TDT[dtype])
    p = {k: v.detach().numpy() for k, v in cell.named_parameters()}
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, I)).astype(dtype)
    h, c = (rng.standard_normal((B, H)).astype(dtype) for _ in range(2))
    case = {"x": x, "h": h, "c": c, "w_ih": p["weight_ih"], "dtype": np.dtype(dtype).name}
    got = unpack("lstm_step_fused(...)", call_checked(
        sub.lstm_step_fused, x, h, c, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"],
        case=case), 2, case)
    with torch.no_grad():
        ref = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for name, g, r in zip(("h_new", "c_new"), got, ref):
        compare(name, g, r.numpy(), case=case, hint=HINT, **tol)


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    """The submission imports no torch/scipy/course_lib (it must not wrap a library)."""
    assert_self_contained(exercise_path(__file__, "lstm_step_fused"))


@pytest.mark.points(2)
@pytest.mark.parametrize("B,I,H", [(1, 1, 1), (3, 4, 5), (2, 7, 3)], ids=["all-1", "3x4x5", "I>H"])
def test_matches_torch_float64(sub, B, I, H):
    run_case(sub, B, I, H, np.float64)


@pytest.mark.points(1)
def test_float32_stays_float32(sub):
    run_case(sub, 4, 6, 8, np.float32, seed=1)

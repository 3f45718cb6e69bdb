"""Public tests for split_lstm_weights.py: the per-gate form must reproduce torch.nn.LSTMCell."""
import numpy as np
import pytest
import torch

from course_lib.grading import (GradingFailure, assert_self_contained, call_checked, compare,
                                exercise_path, submission_fixture)

sub = submission_fixture("split_lstm_weights")
HINT = "gate blocks of H rows in the order i, f, g, o; W = [w_hh rows | w_ih rows] (h first)"


def torch_params(I, H, seed):
    torch.manual_seed(seed)
    cell = torch.nn.LSTMCell(I, H, dtype=torch.float64)
    return cell, {k: v.detach().numpy() for k, v in cell.named_parameters()}


def check_dict(got, H, I, case):
    if not isinstance(got, dict) or set(got) != {"i", "f", "g", "o"}:
        keys = sorted(got) if isinstance(got, dict) else type(got).__name__
        raise GradingFailure(f"expected a dict with keys 'i', 'f', 'g', 'o', got {keys}",
                             "wrong type")
    for k, v in got.items():
        if not isinstance(v, (tuple, list)) or len(v) != 2:
            raise GradingFailure(f"value for gate {k!r} should be a pair (W, b)", "wrong type")


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "split_lstm_weights"))


@pytest.mark.points(2)
@pytest.mark.parametrize("I,H", [(3, 2), (1, 4), (5, 5)])
def test_blocks_are_torchs_rows(sub, I, H):
    cell, p = torch_params(I, H, seed=I * 10 + H)
    case = {"I": I, "H": H}
    got = call_checked(sub.split_lstm_weights, p["weight_ih"], p["weight_hh"], p["bias_ih"],
                       p["bias_hh"], case=case)
    check_dict(got, H, I, case)
    # torch documents weight_ih_l0 as (W_ii|W_if|W_ig|W_io): chunk(4) gives the gate blocks
    blocks = zip("ifgo", cell.weight_ih.detach().chunk(4), cell.weight_hh.detach().chunk(4),
                 cell.bias_ih.detach().chunk(4), cell.bias_hh.detach().chunk(4))
    for name, wi, wh, bi, bh in blocks:
        W, b = got[name]
        compare(f"W[{name!r}]", W, torch.cat([wh, wi], dim=1).numpy(), rtol=0, atol=0,
                case=case, hint=HINT)
        compare(f"b[{name!r}]", b, (bi + bh).numpy(), rtol=1e-15, atol=1e-15, case=case, hint=HINT)


@pytest.mark.points(2)
def test_textbook_step_reproduces_torch(sub):
    I, H, B = 4, 3, 2
    cell, p = torch_params(I, H, seed=7)
    got = call_checked(sub.split_lstm_weights, p["weight_ih"], p["weight_hh"], p["bias_ih"],
                       p["bias_hh"])
    check_dict(got, H, I, None)
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    hx = np.concatenate([h, x], axis=1)

    def gate(name, act):
        W, b = got[name]
        return act(hx @ np.asarray(W).T + b)

    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    c_new = gate("f", sig) * c + gate("i", sig) * gate("g", np.tanh)
    h_new = gate("o", sig) * np.tanh(c_new)
    with torch.no_grad():
        th, tc = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    compare("h_new of the per-gate step", h_new, th.numpy(), rtol=1e-10, atol=1e-12, hint=HINT)
    compare("c_new of the per-gate step", c_new, tc.numpy(), rtol=1e-10, atol=1e-12, hint=HINT)

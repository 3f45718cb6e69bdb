"""Hidden tests for lstm_step_fused.py."""
import numpy as np
import pytest
import torch

from course_lib.grading import call_checked, compare, submission_fixture

sub = submission_fixture("lstm_step_fused")


def torch_step(x, h, c, p):
    cell = torch.nn.LSTMCell(x.shape[1], h.shape[1], dtype=torch.float64)
    with torch.no_grad():
        for k, v in cell.named_parameters():
            v.copy_(torch.from_numpy(p[k]))
        hn, cn = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    return hn.numpy(), cn.numpy()


@pytest.mark.points(2)
@pytest.mark.parametrize("gate", range(4))
def test_each_gate_block_in_torch_order(sub, gate):
    # only one gate block has non-zero weights: a permuted gate order shows at once
    rng = np.random.default_rng(10 + gate)
    B, I, H = 3, 4, 5
    p = {"weight_ih": np.zeros((4 * H, I)), "weight_hh": np.zeros((4 * H, H)),
         "bias_ih": np.zeros(4 * H), "bias_hh": np.zeros(4 * H)}
    rows = slice(gate * H, (gate + 1) * H)
    p["weight_ih"][rows] = rng.standard_normal((H, I))
    p["weight_hh"][rows] = rng.standard_normal((H, H))
    p["bias_ih"][rows] = rng.standard_normal(H)
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    got = call_checked(sub.lstm_step_fused, x, h, c, p["weight_ih"], p["weight_hh"],
                       p["bias_ih"], p["bias_hh"])
    for g, r in zip(got, torch_step(x, h, c, p)):
        compare("output", g, r, rtol=1e-10, atol=1e-12, case={"gate": gate})


@pytest.mark.points(1)
def test_large_pre_activations_float32(sub):
    rng = np.random.default_rng(3)
    B, I, H = 2, 3, 4
    p = {"weight_ih": (rng.standard_normal((4 * H, I)) * 300).astype(np.float32),
         "weight_hh": rng.standard_normal((4 * H, H)).astype(np.float32),
         "bias_ih": np.zeros(4 * H, np.float32), "bias_hh": np.zeros(4 * H, np.float32)}
    x = rng.standard_normal((B, I)).astype(np.float32)
    h, c = (rng.standard_normal((B, H)).astype(np.float32) for _ in range(2))
    got = call_checked(sub.lstm_step_fused, x, h, c, p["weight_ih"], p["weight_hh"],
                       p["bias_ih"], p["bias_hh"])
    ref = torch_step(x.astype(np.float64), h.astype(np.float64), c.astype(np.float64),
                     {k: v.astype(np.float64) for k, v in p.items()})
    for g, r in zip(got, ref):
        compare("output", g, r.astype(np.float32), rtol=1e-5, atol=1e-5)


@pytest.mark.points(1)
def test_non_contiguous_inputs(sub):
    rng = np.random.default_rng(4)
    B, I, H = 3, 5, 2
    x = rng.standard_normal((I, 2 * B)).T[::2]
    h = rng.standard_normal((H, B)).T
    c = rng.standard_normal((B, H))
    w_ih = rng.standard_normal((I, 4 * H)).T
    w_hh = rng.standard_normal((4 * H, 2 * H))[:, ::2]
    b_ih, b_hh = rng.standard_normal(8 * H)[::2], rng.standard_normal(4 * H)
    p = {"weight_ih": np.ascontiguousarray(w_ih), "weight_hh": np.ascontiguousarray(w_hh),
         "bias_ih": np.ascontiguousarray(b_ih), "bias_hh": b_hh}
    got = call_checked(sub.lstm_step_fused, x, h, c, w_ih, w_hh, b_ih, b_hh)
    for g, r in zip(got, torch_step(np.ascontiguousarray(x), np.ascontiguousarray(h), c, p)):
        compare("output", g, r, rtol=1e-10, atol=1e-12)

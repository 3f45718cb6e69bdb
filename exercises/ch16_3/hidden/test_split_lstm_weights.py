"""Hidden tests for split_lstm_weights.py."""
import numpy as np
import pytest
import torch

from course_lib.grading import GradingFailure, call_checked, compare, submission_fixture

sub = submission_fixture("split_lstm_weights")


@pytest.mark.points(1)
def test_float32_kept_and_new_arrays(sub):
    torch.manual_seed(3)
    cell = torch.nn.LSTMCell(2, 3)
    p = {k: v.detach().numpy().copy() for k, v in cell.named_parameters()}
    got = call_checked(sub.split_lstm_weights, p["weight_ih"], p["weight_hh"], p["bias_ih"],
                       p["bias_hh"])
    W, b = got["g"]
    ref = torch.cat([cell.weight_hh.detach()[6:9], cell.weight_ih.detach()[6:9]], dim=1).numpy()
    compare("W['g']", W, ref, rtol=0, atol=0)
    compare("b['g']", b, (cell.bias_ih.detach()[6:9] + cell.bias_hh.detach()[6:9]).numpy(),
            rtol=1e-6, atol=1e-7)
    for name, (W, b) in got.items():
        if np.shares_memory(W, p["weight_ih"]) or np.shares_memory(W, p["weight_hh"]):
            raise GradingFailure(f"W[{name!r}] is a view of the input weights; return new arrays",
                                 "shares memory with input")


@pytest.mark.points(1)
def test_hidden_size_one_many_inputs(sub):
    torch.manual_seed(4)
    cell = torch.nn.LSTMCell(9, 1, dtype=torch.float64)
    p = {k: v.detach().numpy() for k, v in cell.named_parameters()}
    got = call_checked(sub.split_lstm_weights, p["weight_ih"], p["weight_hh"], p["bias_ih"],
                       p["bias_hh"])
    for k, name in enumerate("ifgo"):
        W, b = got[name]
        ref = np.concatenate([[cell.weight_hh.detach().numpy()[k]],
                              [cell.weight_ih.detach().numpy()[k]]], axis=1)
        compare(f"W[{name!r}]", W, ref, rtol=0, atol=0)

"""Initialisation rules, parameter counts, traffic model and the plain-RNN reference."""
import numpy as np
import pytest
import torch

from course_lib.rnn import GRU, LSTM, glorot_bound, glorot_std, he_bound, he_std, torch_bound
from course_lib.rnn.counts import lstm_traffic, rnn_param_count
from course_lib.rnn.vanishing import gradient_reach, rnn_tanh_input_grads, rnn_tanh_layer


def test_default_init_is_torchs_uniform():
    H = 64
    lstm = LSTM(32, H, 2, seed=0)
    k = 1 / np.sqrt(H)
    assert torch_bound(H) == pytest.approx(k)
    for name, p in lstm.params.items():
        assert np.abs(p).max() <= k, name
    w = lstm.params["weight_hh_l0"]
    assert abs(w.std() / (k / np.sqrt(3)) - 1) < 0.03         # uniform: std = k / sqrt(3)
    torch.manual_seed(0)
    tw = torch.nn.LSTM(32, H, 2).weight_hh_l0.detach().numpy()
    assert abs(tw.std() / w.std() - 1) < 0.03 and np.abs(tw).max() <= k
    np.testing.assert_array_equal(LSTM(32, H, seed=0).params["weight_ih_l0"],
                                  lstm.params["weight_ih_l0"])


def test_glorot_and_he_match_torch_init():
    # torch.nn.init computes fans of a 2-D (fan_out, fan_in) weight the same way
    w = torch.empty(300, 200)
    gen = torch.Generator().manual_seed(0)
    torch.nn.init.xavier_uniform_(w, generator=gen)
    assert w.abs().max().item() <= glorot_bound(200, 300) + 1e-7
    assert w.std().item() == pytest.approx(glorot_std(200, 300), rel=0.02)
    torch.nn.init.kaiming_normal_(w, nonlinearity="relu", generator=gen)
    assert w.std().item() == pytest.approx(he_std(200), rel=0.02)
    torch.nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=gen)
    assert w.abs().max().item() <= he_bound(200) + 1e-7
    assert w.std().item() == pytest.approx(he_std(200), rel=0.02)


@pytest.mark.parametrize("scheme,std", [
    ("glorot_normal", np.sqrt(2 / (96 + 128))),     # per gate: fan_in I = 96, fan_out H = 128
    ("glorot_uniform", np.sqrt(2 / (96 + 128))),    # same variance as the normal one
    ("he_normal", np.sqrt(2 / 96)),
    ("he_uniform", np.sqrt(2 / 96)),
])
def test_named_schemes_use_per_gate_fans(scheme, std):
    lstm = LSTM(96, 128, dtype=np.float64, init=scheme, seed=1)
    w = lstm.params["weight_ih_l0"]                 # (4H, I)
    assert w.std() == pytest.approx(std, rel=0.03)
    assert not lstm.params["bias_ih_l0"].any()


@pytest.mark.parametrize("kind,cls", [("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU),
                                      ("rnn", torch.nn.RNN)])
@pytest.mark.parametrize("I,H,L,bias", [(128, 256, 1, True), (7, 5, 3, False), (3, 9, 2, True)])
def test_param_count_matches_torch(kind, cls, I, H, L, bias):
    ref = sum(p.numel() for p in cls(I, H, L, bias=bias).parameters())
    assert rnn_param_count(kind, I, H, L, bias) == ref
    if kind != "rnn":
        ours = (LSTM if kind == "lstm" else GRU)(I, H, L, bias=bias)
        assert ours.num_parameters() == ref


def test_traffic_model_weight_reads():
    T, B, I, H = 10, 4, 6, 5
    w = rnn_param_count("lstm", I, H, bias=False)          # 4H(I + H), from torch's count
    per_gate, fused = lstm_traffic(T, B, I, H, "per_gate"), lstm_traffic(T, B, I, H, "fused")
    assert per_gate.weight_reads == T * w                   # every weight, every step
    assert fused.weight_reads == 4 * H * I + T * 4 * H * H  # w_ih once, w_hh every step
    assert (per_gate.gemm_calls, fused.gemm_calls) == (4 * T, T + 1)
    with pytest.raises(ValueError, match="formulation"):
        lstm_traffic(T, B, I, H, "fast")


def test_plain_rnn_reference_matches_torch():
    rng = np.random.default_rng(0)
    rnn = torch.nn.RNN(3, 4, dtype=torch.float64)
    p = {k: v.detach().numpy() for k, v in rnn.named_parameters()}
    x = torch.tensor(rng.standard_normal((6, 2, 3)), requires_grad=True)
    y, h_n = rnn(x)
    r = rng.standard_normal((2, 4))
    (h_n[0] * torch.tensor(r)).sum().backward()
    h = rnn_tanh_layer(x.detach().numpy(), p["weight_ih_l0"], p["weight_hh_l0"],
                       p["bias_ih_l0"] + p["bias_hh_l0"], np.zeros((2, 4)))
    np.testing.assert_allclose(h[1:], y.detach().numpy(), rtol=1e-12, atol=1e-13)
    dx = rnn_tanh_input_grads(r, h, p["weight_ih_l0"], p["weight_hh_l0"])
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradient_reach_shapes_and_decay():
    g_rnn = gradient_reach("rnn", T=40, B=4, I=8, H=16)
    g_lstm = gradient_reach("lstm", T=40, B=4, I=8, H=16, forget_bias=3.0)
    assert g_rnn.shape == g_lstm.shape == (40,)
    assert g_rnn[-1] < 1e-6 * g_rnn[0]                  # plain RNN: vanished
    assert g_lstm[-1] > 1e-3 * g_lstm[0]                # forget gate near 1: still there

"""BPTT: LSTM/GRU backward against torch autograd and float64 central differences."""
import numpy as np
import pytest
import torch

from rnn_cases import CASES, TDT, Case, arrays, torch_gru_original, torch_run
from course_lib.gradcheck import check_gradient
from course_lib.rnn import GRU, LSTM

GTOL = {np.float32: dict(rtol=1e-3, atol=1e-4), np.float64: dict(rtol=1e-9, atol=1e-10)}


def seeded_module(kind, case, dtype, seed):
    torch.manual_seed(seed)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    return cls(case.I, case.H, case.L, bias=case.bias, batch_first=case.batch_first,
               dtype=TDT[dtype])


def compare_all(got_dx, got_d0, got_grads, ref, dtype, case):
    _, _, dx, d0, grads = ref
    np.testing.assert_allclose(got_dx, dx, **GTOL[dtype], err_msg=f"dx {case}")
    for g, r in zip(got_d0, d0):
        np.testing.assert_allclose(g, r, **GTOL[dtype], err_msg=f"d state0 {case}")
    assert list(got_grads) == list(grads)
    for k in grads:
        assert got_grads[k].dtype == dtype
        np.testing.assert_allclose(got_grads[k], grads[k], **GTOL[dtype], err_msg=f"{k} {case}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("formulation", ["fused", "per_gate"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_lstm_backward_matches_autograd(case: Case, formulation, dtype):
    ref_mod = seeded_module("lstm", case, dtype, seed=11)
    lstm = LSTM.from_torch(ref_mod, formulation=formulation)
    x, states = arrays(case, dtype, seed=1)
    rng = np.random.default_rng(2)
    dy = rng.standard_normal(case.y_shape()).astype(dtype)
    dh, dc = (rng.standard_normal(case.state_shape()).astype(dtype) for _ in range(2))
    hx = tuple(states) if case.with_state else None
    lstm(x, hx)
    dx, (dh0, dc0) = lstm.backward(dy, dh, dc)
    ref = torch_run(ref_mod, x, states if case.with_state else None, dy, [dh, dc])
    compare_all(dx, [dh0, dc0] if case.with_state else [], lstm.grads, ref, dtype, case)
    assert dx.shape == x.shape and dh0.shape == case.state_shape()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_gru_backward_matches_autograd(case: Case, dtype):
    ref_mod = seeded_module("gru", case, dtype, seed=12)
    gru = GRU.from_torch(ref_mod)
    x, states = arrays(case, dtype, seed=3, n_states=1)
    rng = np.random.default_rng(4)
    dy = rng.standard_normal(case.y_shape()).astype(dtype)
    dh = rng.standard_normal(case.state_shape()).astype(dtype)
    gru(x, states[0] if case.with_state else None)
    dx, dh0 = gru.backward(dy, dh)
    ref = torch_run(ref_mod, x, states if case.with_state else None, dy, [dh])
    compare_all(dx, [dh0] if case.with_state else [], gru.grads, ref, dtype, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.batch_first and c.B > 0][:6], ids=str)
def test_gru_original_backward_matches_autograd(case):
    gru = GRU(case.I, case.H, case.L, bias=case.bias, dtype=np.float64, variant="original",
              seed=5)
    x, (h0,) = arrays(case, np.float64, seed=5, n_states=1)
    rng = np.random.default_rng(6)
    dy = rng.standard_normal(case.y_shape())
    dh = rng.standard_normal(case.state_shape())
    gru(x, h0)
    dx, dh0 = gru.backward(dy, dh)
    xt, h0t, pt, ty, th = torch_gru_original(x, h0, gru.params, case.L)
    ((ty * torch.tensor(dy)).sum() + (th * torch.tensor(dh)).sum()).backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dh0, h0t.grad.numpy(), rtol=1e-9, atol=1e-11)
    for k, p in pt.items():
        np.testing.assert_allclose(gru.grads[k], p.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=k)


def numeric_check(layer, x, states, dy, dfin):
    """Central differences of L = sum(y dy) + sum(final_k dfin_k) w.r.t. x, states, every param."""
    def loss():
        out = layer(x, states if len(states) != 1 else states[0])
        y, fin = out[0], out[1]
        fin = fin if isinstance(fin, tuple) else (fin,)
        return float(np.sum(y * dy) + sum(np.sum(f * d) for f, d in zip(fin, dfin)))

    loss()
    dx, d0 = layer.backward(dy, *dfin)
    d0 = d0 if isinstance(d0, tuple) else (d0,)
    grads = dict(layer.grads)

    def wrt(arr):
        def f(v):
            keep = arr.copy()
            arr[...] = v
            val = loss()
            arr[...] = keep
            return val
        return f

    reports = {"x": check_gradient(wrt(x), dx, x.copy())}
    for k, (s, g) in enumerate(zip(states, d0)):
        reports[f"state{k}"] = check_gradient(wrt(s), g, s.copy())
    for name, p in layer.params.items():
        reports[name] = check_gradient(wrt(p), grads[name], p.copy())
    bad = {k: str(r) for k, r in reports.items() if not r.passed}
    assert not bad, bad


@pytest.mark.parametrize("formulation", ["fused", "per_gate"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_central_differences(formulation, batch_first):
    lstm = LSTM(3, 4, 2, batch_first=batch_first, dtype=np.float64, seed=8,
                formulation=formulation)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    h0, c0 = rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 2, 4))
    dy = rng.standard_normal(x.shape[:2] + (4,))
    numeric_check(lstm, x, (h0, c0), dy, (rng.standard_normal((2, 2, 4)),
                                          rng.standard_normal((2, 2, 4))))


@pytest.mark.parametrize("variant", ["torch", "original"])
def test_gru_central_differences(variant):
    gru = GRU(3, 4, 2, dtype=np.float64, seed=10, variant=variant)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 2, 3))
    h0 = rng.standard_normal((2, 2, 4))
    numeric_check(gru, x, (h0,), rng.standard_normal((5, 2, 4)), (rng.standard_normal((2, 2, 4)),))


def test_unbatched_central_differences():
    lstm = LSTM(2, 3, dtype=np.float64, seed=12)
    rng = np.random.default_rng(13)
    x = rng.standard_normal((4, 2))
    numeric_check(lstm, x, (rng.standard_normal((1, 3)), rng.standard_normal((1, 3))),
                  rng.standard_normal((4, 3)), (rng.standard_normal((1, 3)),
                                                rng.standard_normal((1, 3))))


def test_backward_defaults_and_second_call():
    lstm = LSTM(2, 3, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((4, 2, 2))
    lstm(x)
    dy = np.ones((4, 2, 3))
    dx1, _ = lstm.backward(dy)
    dx2, _ = lstm.backward(dy, np.zeros((1, 2, 3)), np.zeros((1, 2, 3)))
    np.testing.assert_array_equal(dx1, dx2)       # None means a zero gradient
    g1 = {k: v.copy() for k, v in lstm.grads.items()}
    lstm.backward(dy)                              # gradients are replaced, not accumulated
    for k in g1:
        np.testing.assert_array_equal(lstm.grads[k], g1[k])

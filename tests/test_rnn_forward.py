"""LSTM/GRU layers and cells against torch.nn.LSTM/GRU/LSTMCell/GRUCell (forward)."""
import numpy as np
import pytest
import torch

from rnn_cases import CASES, TDT, TOL, Case, arrays, torch_gru_original
from course_lib.rnn import (GRU, LSTM, GRUCell, LSTMCell, gru_step, lstm_pointwise, lstm_step,
                            lstm_step_per_gate)

DTYPES = [np.float32, np.float64]


def test_cases_cover_the_corners():
    assert len(CASES) >= 20
    assert any(c.B == 0 for c in CASES) and any(c.B == 1 for c in CASES)
    assert any(c.L >= 2 for c in CASES) and any(c.L == 3 for c in CASES)
    assert any(c.batch_first and c.B > 1 for c in CASES) and any(not c.bias for c in CASES)
    assert any(not c.with_state for c in CASES) and any(c.T == 1 for c in CASES)
    assert any(c.I != c.H for c in CASES)


def torch_module(kind, case, dtype, seed):
    torch.manual_seed(seed)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    return cls(case.I, case.H, case.L, bias=case.bias, batch_first=case.batch_first,
               dtype=TDT[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("formulation", ["fused", "per_gate"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_lstm_matches_torch(case: Case, formulation, dtype):
    ref = torch_module("lstm", case, dtype, seed=len(str(case)))
    lstm = LSTM.from_torch(ref, formulation=formulation)
    x, (h0, c0) = arrays(case, dtype)
    hx = (h0, c0) if case.with_state else None
    y, (h_n, c_n) = lstm(x, hx)
    with torch.no_grad():
        ty, (th, tc) = ref(torch.tensor(x), None if hx is None else
                           (torch.tensor(h0), torch.tensor(c0)))
    for name, got, want in (("y", y, ty), ("h_n", h_n, th), ("c_n", c_n, tc)):
        assert got.dtype == dtype and got.shape == tuple(want.shape), name
        np.testing.assert_allclose(got, want.numpy(), **TOL[dtype], err_msg=f"{name} {case}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_gru_matches_torch(case: Case, dtype):
    ref = torch_module("gru", case, dtype, seed=len(str(case)) + 1)
    gru = GRU.from_torch(ref)
    x, (h0,) = arrays(case, dtype, n_states=1)
    y, h_n = gru(x, h0 if case.with_state else None)
    with torch.no_grad():
        ty, th = ref(torch.tensor(x), torch.tensor(h0) if case.with_state else None)
    for name, got, want in (("y", y, ty), ("h_n", h_n, th)):
        assert got.dtype == dtype and got.shape == tuple(want.shape), name
        np.testing.assert_allclose(got, want.numpy(), **TOL[dtype], err_msg=f"{name} {case}")


@pytest.mark.parametrize("case", [c for c in CASES if not c.batch_first and c.B > 0][:8], ids=str)
def test_gru_original_variant_matches_independent_reference(case):
    gru = GRU(case.I, case.H, case.L, bias=case.bias, dtype=np.float64, variant="original",
              seed=3)
    x, (h0,) = arrays(case, np.float64, n_states=1)
    y, h_n = gru(x, h0)
    _, _, _, ty, th = torch_gru_original(x, h0, gru.params, case.L)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_n, th.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_gru_variants_differ_and_torch_uses_its_own():
    ref = torch.nn.GRU(6, 8, dtype=torch.float64)
    x = np.random.default_rng(2).standard_normal((20, 4, 6))
    with torch.no_grad():
        ty = ref(torch.tensor(x))[0].numpy()
    y_torch = GRU.from_torch(ref)(x)[0]
    y_orig = GRU.from_torch(ref, variant="original")(x)[0]
    assert np.abs(y_torch - ty).max() < 1e-12
    assert np.abs(y_orig - ty).max() > 1e-4            # a different function of the same weights
    # with b_hn = 0 and r = 1 (huge reset bias) the two forms coincide
    a, b = GRU.from_torch(ref), GRU.from_torch(ref, variant="original")
    for g in (a, b):
        g.params["bias_hh_l0"][16:] = 0.0
        g.params["bias_ih_l0"][:8] = 60.0
    np.testing.assert_allclose(a(x)[0], b(x)[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_two_lstm_formulations_agree_on_a_larger_size(dtype):
    fused = LSTM(48, 64, 2, dtype=dtype, seed=4)
    per_gate = LSTM(48, 64, 2, dtype=dtype, seed=4, formulation="per_gate")
    x = np.random.default_rng(0).standard_normal((30, 8, 48)).astype(dtype)
    y1, (h1, c1) = fused(x)
    y2, (h2, c2) = per_gate(x)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for a, b in ((y1, y2), (h1, h2), (c1, c2)):
        np.testing.assert_allclose(a, b, **tol)
    ref = fused.to_torch()
    with torch.no_grad():
        np.testing.assert_allclose(y1, ref(torch.tensor(x))[0].numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(dtype, batched):
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    shape = (3, 5) if batched else (5,)
    hshape = (3, 4) if batched else (4,)
    x = rng.standard_normal(shape).astype(dtype)
    h, c = (rng.standard_normal(hshape).astype(dtype) for _ in range(2))
    tl = torch.nn.LSTMCell(5, 4, dtype=TDT[dtype])
    tg = torch.nn.GRUCell(5, 4, dtype=TDT[dtype])
    with torch.no_grad():
        th, tc = tl(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
        tgh = tg(torch.tensor(x), torch.tensor(h))
        tz = tl(torch.tensor(x))
    got_h, got_c = LSTMCell.from_torch(tl)(x, (h, c))
    np.testing.assert_allclose(got_h, th.numpy(), **TOL[dtype])
    np.testing.assert_allclose(got_c, tc.numpy(), **TOL[dtype])
    np.testing.assert_allclose(LSTMCell.from_torch(tl)(x)[0], tz[0].numpy(), **TOL[dtype])
    np.testing.assert_allclose(GRUCell.from_torch(tg)(x, h), tgh.numpy(), **TOL[dtype])
    assert got_h.dtype == dtype and got_h.shape == hshape


def test_cells_round_trip_and_bias_free():
    for cls, tcls in ((LSTMCell, torch.nn.LSTMCell), (GRUCell, torch.nn.GRUCell)):
        cell = cls(3, 2, bias=False, dtype=np.float64, seed=0)
        assert cell.bias_ih is None and set(cell.params) == {"weight_ih", "weight_hh"}
        back = cell.to_torch()
        assert isinstance(back, tcls) and back.bias is False
        x = np.random.default_rng(0).standard_normal((2, 3))
        with torch.no_grad():
            t = back(torch.tensor(x))
        t = t[0] if isinstance(t, tuple) else t
        got = cell(x)
        got = got[0] if isinstance(got, tuple) else got
        np.testing.assert_allclose(got, t.numpy(), rtol=1e-12, atol=1e-13)


def test_step_functions_match_torch_cell():
    torch.manual_seed(5)
    tl = torch.nn.LSTMCell(4, 3, dtype=torch.float64)
    p = {k: v.detach().numpy() for k, v in tl.named_parameters()}
    rng = np.random.default_rng(7)
    x, h, c = rng.standard_normal((2, 4)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    with torch.no_grad():
        th, tc = tl(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    args = (x, h, c, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"])
    for fn in (lstm_step, lstm_step_per_gate):
        got_h, got_c = fn(*args)
        np.testing.assert_allclose(got_h, th.numpy(), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(got_c, tc.numpy(), rtol=1e-12, atol=1e-13)
    gates = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    keep = gates.copy()
    got_h, got_c = lstm_pointwise(gates, c)
    np.testing.assert_array_equal(gates, keep)
    np.testing.assert_allclose(got_h, th.numpy(), rtol=1e-12, atol=1e-13)
    tg = torch.nn.GRUCell(4, 3, dtype=torch.float64)
    q = {k: v.detach().numpy() for k, v in tg.named_parameters()}
    with torch.no_grad():
        tgh = tg(torch.tensor(x), torch.tensor(h)).numpy()
    got = gru_step(x, h, q["weight_ih"], q["weight_hh"], q["bias_ih"], q["bias_hh"])
    np.testing.assert_allclose(got, tgh, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_round_trip_through_torch(kind):
    cls = LSTM if kind == "lstm" else GRU
    layer = cls(3, 4, num_layers=2, batch_first=True, dtype=np.float64, seed=0)
    mod = layer.to_torch()
    assert type(mod).__name__ == kind.upper() and mod.batch_first and mod.num_layers == 2
    assert [n for n, _ in mod.named_parameters()] == list(layer.params)
    back = cls.from_torch(mod)
    for k in layer.params:
        np.testing.assert_array_equal(back.params[k], layer.params[k])
    assert back.dtype == np.float64 and back.batch_first


def test_inputs_not_mutated_and_non_contiguous_input():
    lstm = LSTM(5, 3, 2, dtype=np.float64, seed=1)
    x = np.random.default_rng(0).standard_normal((4, 6, 10)).transpose(1, 0, 2)[:, :, ::2]
    assert not x.flags.c_contiguous
    h0 = np.random.default_rng(1).standard_normal((2, 4, 3))
    keep = (x.copy(), h0.copy(), {k: v.copy() for k, v in lstm.params.items()})
    y, _ = lstm(x, (h0, h0))
    np.testing.assert_array_equal(x, keep[0])
    np.testing.assert_array_equal(h0, keep[1])
    for k, v in keep[2].items():
        np.testing.assert_array_equal(lstm.params[k], v)
    with torch.no_grad():
        ty = lstm.to_torch()(torch.tensor(np.ascontiguousarray(x)),
                             (torch.tensor(h0), torch.tensor(h0)))[0].numpy()
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-13)


def test_float32_large_pre_activations_stay_finite():
    # sigmoid written as (1 + tanh(a/2))/2 cannot overflow, unlike 1/(1+exp(-a))
    lstm = LSTM(2, 3, dtype=np.float32, seed=0)
    x = np.full((3, 1, 2), 1e4, np.float32)
    with np.errstate(all="raise"):
        y, (h, c) = lstm(x)
    with torch.no_grad():
        ty = lstm.to_torch()(torch.tensor(x))[0].numpy()
    np.testing.assert_allclose(y, ty, rtol=1e-5, atol=1e-6)

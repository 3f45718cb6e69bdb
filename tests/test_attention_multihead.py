"""MultiHeadAttention against torch.nn.MultiheadAttention: outputs, weights, gradients, interop."""
import math

import numpy as np
import pytest
import torch

from attention_cases import MHACase, close, mha_cases, tt
from course_lib.attention import MultiHeadAttention, causal_mask, merge_heads, split_heads
from course_lib.gradcheck import check_gradient

CASES = mha_cases()


def test_cases_cover_the_corners():
    assert len(CASES) >= 25
    assert any(c.self_attn for c in CASES) and any(not c.self_attn and c.L != c.S for c in CASES)
    assert any(c.kdim and c.kdim != c.E for c in CASES) and any(c.vdim and c.vdim != c.E for c in CASES)
    assert any(c.N is None for c in CASES) and any(c.batch_first for c in CASES)
    assert any(not c.bias for c in CASES) and any(c.causal for c in CASES)
    assert {c.attn_mask for c in CASES} == {"none", "bool2d", "bool3d", "float2d", "float3d"}
    assert {c.kpm for c in CASES} == {"none", "bool", "float"}
    assert any(c.E == c.H for c in CASES) and any(c.H == 1 for c in CASES)


def torch_module(case: MHACase, dtype, seed=0):
    torch.manual_seed(seed)
    m = torch.nn.MultiheadAttention(case.E, case.H, bias=case.bias, kdim=case.kdim, vdim=case.vdim,
                                    batch_first=case.batch_first,
                                    dtype={np.float32: torch.float32, np.float64: torch.float64}[dtype])
    with torch.no_grad():   # torch zeroes the biases at init; random ones test more
        for name, p in m.named_parameters():
            if "bias" in name:
                p.uniform_(-0.5, 0.5)
    return m


def torch_mask(case, am):
    """Our is_causal applies the causal mask; torch wants it folded into attn_mask."""
    if not case.causal:
        return tt(am)
    c = ~causal_mask(case.L, case.L)             # True = not allowed
    if am is None:
        return torch.from_numpy(c)
    if am.dtype == np.bool_:
        return torch.from_numpy(am | c)
    return torch.from_numpy(np.where(c, -np.inf, am).astype(am.dtype))


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward_weights_and_gradients_match_torch(case: MHACase, dtype):
    tm = torch_module(case, dtype)
    mha = MultiHeadAttention.from_torch(tm)
    q, k, v, am, kpm = case.arrays(dtype)
    average = bool(case.E % 2)
    out, w = mha(q, k, v, key_padding_mask=kpm, attn_mask=am, is_causal=case.causal,
                 average_attn_weights=average)
    qt = tt(q, grad=True)
    kt, vt = (qt, qt) if case.self_attn else (tt(k, grad=True), tt(v, grad=True))
    ref, wref = tm(qt, kt, vt, key_padding_mask=tt(kpm), attn_mask=torch_mask(case, am),
                   average_attn_weights=average)
    assert out.dtype == dtype and w.dtype == dtype
    close(out, ref, dtype, "out")
    close(w, wref, dtype, "weights")
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    ref.backward(tt(dout))
    dq, dk, dv = mha.backward(dout)
    if case.self_attn:
        close(dq + dk + dv, qt.grad, dtype, "dx", scale=4)
    else:
        for name, g, t in (("dquery", dq, qt), ("dkey", dk, kt), ("dvalue", dv, vt)):
            close(g, t.grad, dtype, name, scale=4)
    grads = mha.named_grads()
    assert set(grads) == {n for n, _ in tm.named_parameters()}
    for name, p in tm.named_parameters():
        close(grads[name], p.grad, dtype, name, scale=10)


def test_need_weights_false_and_per_head_weights():
    case = MHACase(8, 2, 2, 3, 4)
    tm = torch_module(case, np.float64)
    mha = MultiHeadAttention.from_torch(tm)
    q, k, v, _, _ = case.arrays(np.float64)
    out, w = mha(q, k, v, need_weights=False)
    assert w is None
    _, wh = mha(q, k, v, average_attn_weights=False)
    assert wh.shape == (2, 2, 3, 4)
    np.testing.assert_allclose(wh.sum(-1), 1.0, rtol=1e-12)
    close(out, tm(tt(q), tt(k), tt(v), need_weights=False)[0], np.float64)


def test_fully_masked_query_gives_bias_not_nan():
    case = MHACase(4, 2, 1, 3, 3, self_attn=True)
    mha = MultiHeadAttention.from_torch(torch_module(case, np.float64))
    q = np.random.default_rng(0).standard_normal((3, 1, 4))
    am = np.zeros((3, 3), bool)
    am[1] = True                                    # query 1 may attend to nothing
    out, w = mha(q, q, q, attn_mask=am)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(w[0, 1], 0.0)
    np.testing.assert_allclose(out[1, 0], mha.named_parameters()["out_proj.bias"], rtol=1e-12)
    tm = mha.to_torch()                              # torch returns NaN there
    assert torch.isnan(tm(tt(q), tt(q), tt(q), attn_mask=tt(am))[0][1]).all()


def test_backward_against_central_differences():
    case = MHACase(6, 2, 2, 3, 4, kdim=5, vdim=3, batch_first=True, attn_mask="float2d", kpm="bool")
    mha = MultiHeadAttention.from_torch(torch_module(case, np.float64))
    q, k, v, am, kpm = case.arrays(np.float64)
    out, _ = mha(q, k, v, key_padding_mask=kpm, attn_mask=am)
    r = np.random.default_rng(3).standard_normal(out.shape)
    grads = dict(zip(("query", "key", "value"), mha.backward(r)))
    pgrads = {k_: g.copy() for k_, g in mha.named_grads().items()}
    inputs = dict(query=q, key=k, value=v)

    def loss_inputs(name):
        def f(a):
            kw = {**inputs, name: a}
            return float(np.sum(mha(kw["query"], kw["key"], kw["value"], key_padding_mask=kpm,
                                    attn_mask=am)[0] * r))
        return f
    for name in inputs:
        rep = check_gradient(loss_inputs(name), grads[name], inputs[name])
        assert rep.passed, (name, rep)
    params = mha.named_parameters()
    for name, p in params.items():
        def f(a, p=p):
            saved = p.copy()
            p[...] = a
            try:
                return float(np.sum(mha(q, k, v, key_padding_mask=kpm, attn_mask=am)[0] * r))
            finally:
                p[...] = saved
        rep = check_gradient(f, pgrads[name], p.copy())
        assert rep.passed, (name, rep)


def test_split_and_merge_heads():
    x = np.arange(2 * 3 * 8, dtype=np.float64).reshape(2, 3, 8)
    h = split_heads(x, 4)
    assert h.shape == (2, 4, 3, 2) and np.shares_memory(h, x)     # a view, no copy
    # head 1 of position (0, 2) holds columns 2..3
    np.testing.assert_array_equal(h[0, 1, 2], x[0, 2, 2:4])
    np.testing.assert_array_equal(merge_heads(h), x)
    xs = x.transpose(1, 0, 2).copy()                               # (L, N, E)
    np.testing.assert_array_equal(split_heads(xs, 4, seq_first=True), h)
    np.testing.assert_array_equal(merge_heads(h, seq_first=True), xs)


def test_roundtrip_and_init_like_torch():
    mha = MultiHeadAttention(64, 8, kdim=32, vdim=16, batch_first=True, rng=0)
    tm = mha.to_torch()
    assert tm.batch_first and tm.kdim == 32 and tm.in_proj_weight is None
    back = MultiHeadAttention.from_torch(tm)
    for name, p in mha.named_parameters().items():
        np.testing.assert_array_equal(back.named_parameters()[name], p)
    # init: packed xavier-uniform bound sqrt(6 / (E + 3E)), zero biases, out_proj U(+-1/sqrt(E))
    E = 256
    ours = MultiHeadAttention(E, 4, rng=1).named_parameters()
    torch.manual_seed(1)
    theirs = {n: p.detach().numpy() for n, p in torch.nn.MultiheadAttention(E, 4).named_parameters()}
    bound = math.sqrt(6 / (4 * E))
    assert np.abs(ours["in_proj_weight"]).max() <= bound
    for name in ("in_proj_weight", "out_proj.weight"):
        assert abs(ours[name].std() / theirs[name].std() - 1) < 0.03, name
    np.testing.assert_array_equal(ours["in_proj_bias"], theirs["in_proj_bias"])   # both zero
    np.testing.assert_array_equal(ours["out_proj.bias"], 0.0)
    np.testing.assert_array_equal(MultiHeadAttention(8, 2, rng=5).named_parameters()["in_proj_weight"],
                                  MultiHeadAttention(8, 2, rng=5).named_parameters()["in_proj_weight"])


def test_dropout_on_weights_only_in_training():
    mha = MultiHeadAttention(8, 2, dropout=0.5, batch_first=True, dtype=np.float64, rng=3)
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    a, wa = mha(x, x, x)
    b, wb = mha(x, x, x)
    assert not np.allclose(a, b)                        # fresh masks each call
    assert ((wa == 0) | (wa > 0)).all() and (wa == 0).any()
    mha.eval()
    e1, e2 = mha(x, x, x)[0], mha(x, x, x)[0]
    np.testing.assert_array_equal(e1, e2)
    close(e1, mha.to_torch().eval()(tt(x), tt(x), tt(x))[0], np.float64)


def test_bad_input():
    with pytest.raises(ValueError, match="embed_dim=10 must be divisible by num_heads=4"):
        MultiHeadAttention(10, 4)
    mha = MultiHeadAttention(8, 2, kdim=5)
    q = np.zeros((3, 2, 8), np.float32)
    k = np.zeros((4, 2, 5), np.float32)
    v = np.zeros((4, 2, 8), np.float32)
    with pytest.raises(ValueError, match=r"key must have last dim kdim=5, got shape \(4, 2, 8\)"):
        mha(q, v, v)
    with pytest.raises(ValueError, match=r"query must have last dim embed_dim=8"):
        mha(k, k, v)
    with pytest.raises(TypeError, match="dtype float64 but the module's parameters are float32"):
        mha(q.astype(np.float64), k, v)
    with pytest.raises(ValueError, match="same batch size"):
        mha(q, np.zeros((4, 3, 5), np.float32), np.zeros((4, 3, 8), np.float32))
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(L, S\) = \(3, 4\) or "
                                         r"\(N\*num_heads, L, S\) = \(4, 3, 4\), got \(4, 3\)"):
        mha(q, k, v, attn_mask=np.zeros((4, 3), bool))
    with pytest.raises(TypeError, match="key_padding_mask must be bool.*int64"):
        mha(q, k, v, key_padding_mask=np.zeros((2, 4), np.int64))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, S\) = \(2, 4\)"):
        mha(q, k, v, key_padding_mask=np.zeros((4, 2), bool))
    with pytest.raises(ValueError, match="all be 3-D"):
        mha(q[0], k, v)
    with pytest.raises(RuntimeError, match="forward"):
        MultiHeadAttention(4, 2).backward(np.zeros((1, 1, 4), np.float32))

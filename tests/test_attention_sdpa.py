"""Scaled dot-product attention against torch.nn.functional.scaled_dot_product_attention."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attention_cases import SDPACase, close, sdpa_cases, tt
from course_lib.attention import (attention_weights, causal_mask, scaled_dot_product_attention,
                                  scaled_dot_product_attention_backward)
from course_lib.gradcheck import check_gradient

CASES = sdpa_cases()


def test_cases_cover_the_corners():
    assert len(CASES) >= 30
    assert any(c.L != c.S for c in CASES) and any(c.E != c.Ev for c in CASES)
    assert {c.mask for c in CASES} >= {"none", "bool_ls", "bool_full", "bool_bcast", "float_ls",
                                        "float_full"}
    assert any(c.causal and c.L != c.S for c in CASES) and any(c.scale for c in CASES)
    assert any(c.kv_batch for c in CASES) and any(c.batch == () for c in CASES)


def torch_sdpa(q, k, v, m, case):
    """Forward and input gradients from torch (math backend on the CPU)."""
    qt, kt, vt = (tt(a, grad=True) for a in (q, k, v))
    mt = tt(m)
    if case.causal:   # torch refuses attn_mask together with is_causal; fold it in
        c = torch.from_numpy(causal_mask(case.L, case.S))
        if mt is None:
            mt = c
        elif mt.dtype == torch.bool:
            mt = mt & c
        else:
            mt = mt.masked_fill(~c, float("-inf"))
    out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mt, scale=case.scale)
    return out, (qt, kt, vt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward_and_backward_match_torch(case: SDPACase, dtype):
    q, k, v, m = case.arrays(dtype)
    out = scaled_dot_product_attention(q, k, v, m, is_causal=case.causal, scale=case.scale)
    ref, (qt, kt, vt) = torch_sdpa(q, k, v, m, case)
    assert out.dtype == dtype
    close(out, ref, dtype, "out")
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    ref.backward(tt(dout))
    grads = scaled_dot_product_attention_backward(dout, q, k, v, m, is_causal=case.causal,
                                                  scale=case.scale)
    for name, g, t in zip("qkv", grads, (qt, kt, vt)):
        close(g, t.grad, dtype, f"d{name}", scale=4)


def test_weights_rows_and_the_causal_pattern():
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 6, 3))
    p = attention_weights(q, k, is_causal=True)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-12)
    # query i sees keys 0..i only (top-left aligned, also for L != S)
    assert (p[:, np.triu_indices(4, 1, 6)[0], np.triu_indices(4, 1, 6)[1]] == 0).all()
    ref = torch.softmax(tt(q) @ tt(k).transpose(-1, -2) / np.sqrt(3)
                        + torch.from_numpy(np.where(np.tri(4, 6, dtype=bool), 0.0, -np.inf)), -1)
    close(p, ref, np.float64)


@pytest.mark.parametrize("L,S", [(3, 6), (6, 3), (4, 4)])
def test_is_causal_is_torchs_own_causal_mask(L, S):
    """torch's is_causal itself (not a mask we build) for L != S: top-left aligned."""
    rng = np.random.default_rng(L * 10 + S)
    q, k, v = rng.standard_normal((2, L, 4)), rng.standard_normal((2, S, 4)), rng.standard_normal((2, S, 3))
    close(scaled_dot_product_attention(q, k, v, is_causal=True),
          F.scaled_dot_product_attention(tt(q), tt(k), tt(v), is_causal=True), np.float64)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_fully_masked_query_gives_zeros_like_torch_sdpa(kind):
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    m = np.ones((3, 3), bool)
    m[1] = False
    if kind == "float":
        m = np.where(m, 0.0, -np.inf)
    out = scaled_dot_product_attention(q, k, v, m)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[:, 1], 0.0)
    close(out, F.scaled_dot_product_attention(tt(q), tt(k), tt(v), attn_mask=tt(m)), np.float64)
    dq, dk, dv = scaled_dot_product_attention_backward(np.ones_like(out), q, k, v, m)
    np.testing.assert_array_equal(dq[:, 1], 0.0)


def test_backward_against_central_differences():
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 2))
    m = rng.random((3, 5)) > 0.3
    m[:, 0] = True
    r = rng.standard_normal((2, 3, 2))
    dq, dk, dv = scaled_dot_product_attention_backward(r, q, k, v, m, is_causal=True)
    args = dict(q=q, k=k, v=v)
    for name, g in zip("qkv", (dq, dk, dv)):
        def f(a, name=name):
            kw = {**args, name: a}
            return float(np.sum(scaled_dot_product_attention(kw["q"], kw["k"], kw["v"], m,
                                                             is_causal=True) * r))
        rep = check_gradient(f, g, args[name])
        assert rep.passed, (name, rep)


def test_scale_is_one_over_sqrt_e_by_default():
    rng = np.random.default_rng(6)
    q, k, v = rng.standard_normal((3, 16)), rng.standard_normal((4, 16)), rng.standard_normal((4, 2))
    np.testing.assert_allclose(scaled_dot_product_attention(q, k, v),
                               scaled_dot_product_attention(q, k, v, scale=0.25), rtol=1e-14)
    assert not np.allclose(scaled_dot_product_attention(q, k, v, scale=1.0),
                           scaled_dot_product_attention(q, k, v))


def test_non_contiguous_inputs():
    rng = np.random.default_rng(7)
    q = rng.standard_normal((4, 2, 6)).transpose(1, 0, 2)      # (2, 4, 6) view
    k = rng.standard_normal((6, 5, 2)).transpose(2, 1, 0)      # (2, 5, 6) view
    v = rng.standard_normal((2, 5, 8))[:, :, ::2]
    out = scaled_dot_product_attention(q, k, v)
    close(out, F.scaled_dot_product_attention(tt(q), tt(k), tt(v)), np.float64)


def test_bad_input():
    q, k, v = np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 5, 6))
    with pytest.raises(ValueError, match=r"same feature width E.*q \(2, 3, 4\), k \(2, 5, 3\)"):
        scaled_dot_product_attention(q, np.zeros((2, 5, 3)), v)
    with pytest.raises(ValueError, match=r"same number of keys S.*v \(2, 4, 6\)"):
        scaled_dot_product_attention(q, k, np.zeros((2, 4, 6)))
    with pytest.raises(ValueError, match="do not broadcast"):
        scaled_dot_product_attention(q, np.zeros((3, 5, 4)), np.zeros((3, 5, 6)))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(5, 3\).*\(2, 3, 5\)"):
        scaled_dot_product_attention(q, k, v, np.ones((5, 3), bool))
    with pytest.raises(TypeError, match="attn_mask must be bool.*int64"):
        scaled_dot_product_attention(q, k, v, np.ones((3, 5), np.int64))
    with pytest.raises(ValueError, match="NaN"):
        scaled_dot_product_attention(q, k, v, np.full((3, 5), np.nan))
    with pytest.raises(TypeError, match="dtypes differ"):
        scaled_dot_product_attention(q.astype(np.float32), k, v)
    with pytest.raises(ValueError, match="at least 2 dims"):
        scaled_dot_product_attention(np.zeros(4), k, v)
    with pytest.raises(ValueError, match="NaN/inf"):
        scaled_dot_product_attention(np.full((2, 3, 4), np.nan), k, v)
    with pytest.raises(TypeError, match="scale"):
        scaled_dot_product_attention(q, k, v, scale="big")
    with pytest.raises(ValueError, match="dout must have the output's shape"):
        scaled_dot_product_attention_backward(np.zeros((2, 3, 4)), q, k, v)

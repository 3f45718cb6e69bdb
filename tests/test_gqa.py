"""Grouped-/multi-query attention against torch: SDPA's enable_gqa, and the module against
a reference built from torch ops (torch has no GQA module)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attention_cases import close, tt
from course_lib.attention import (GroupedQueryAttention, MultiQueryAttention, gqa_head_map,
                                  scaled_dot_product_attention,
                                  scaled_dot_product_attention_backward)

# (batch, H, H_kv, L, S, E, Ev, causal, mask)
SDPA_CASES = [((2,), 8, 2, 5, 7, 4, 3, False, None), ((2,), 8, 2, 6, 6, 4, 4, True, None),
              ((), 6, 1, 4, 9, 5, 2, False, "ls"), ((3,), 4, 4, 3, 5, 2, 6, False, "heads"),
              ((1, 2), 6, 3, 7, 4, 3, 3, True, None), ((2,), 9, 3, 5, 5, 4, 4, False, "bcast")]


def _ids(c):
    return f"b{c[0]}_H{c[1]}_kv{c[2]}_L{c[3]}_S{c[4]}{'_causal' if c[7] else ''}_m{c[8]}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", SDPA_CASES, ids=_ids)
def test_sdpa_enable_gqa_matches_torch(case, dtype):
    batch, H, Hkv, L, S, E, Ev, causal, mask = case
    rng = np.random.default_rng(H * L)
    q = rng.standard_normal(batch + (H, L, E)).astype(dtype)
    k = rng.standard_normal(batch + (Hkv, S, E)).astype(dtype)
    v = rng.standard_normal(batch + (Hkv, S, Ev)).astype(dtype)
    m = None
    if mask is not None:
        shape = {"ls": (L, S), "heads": (H, L, S), "bcast": (1, L, S)}[mask]
        m = rng.random(shape) > 0.3
        m[..., 0] = True
    out = scaled_dot_product_attention(q, k, v, m, is_causal=causal, enable_gqa=True)
    qt, kt, vt = (tt(a, grad=True) for a in (q, k, v))
    mt = None if m is None else tt(m)
    if causal:
        mt = torch.ones(L, S, dtype=torch.bool).tril()
    ref = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mt, enable_gqa=True)
    close(out, ref, dtype, "out")
    dout = rng.standard_normal(out.shape).astype(dtype)
    ref.backward(tt(dout))
    grads = scaled_dot_product_attention_backward(dout, q, k, v, m, is_causal=causal,
                                                  enable_gqa=True)
    for name, g, t in zip("qkv", grads, (qt, kt, vt)):
        assert g.shape == t.shape
        close(g, t.grad, dtype, f"d{name}", scale=4)


def test_head_map_is_torchs_repeat_interleave():
    for H, Hkv in ((8, 2), (6, 1), (4, 4), (12, 3)):
        ref = torch.arange(Hkv).repeat_interleave(H // Hkv).numpy()
        np.testing.assert_array_equal(gqa_head_map(H, Hkv), ref)


def torch_gqa(module: GroupedQueryAttention, x, is_causal):
    """The same layer written with torch ops: Linear, head reshape, repeat_interleave, SDPA."""
    p = {k: tt(v, grad=True) for k, v in module.named_parameters().items()}
    xt = tt(x, grad=True)
    N, L, E = x.shape
    H, Hkv, Dh = module.num_heads, module.num_kv_heads, module.head_dim

    def lin(name, a):
        return F.linear(a, p[f"{name}.weight"], p.get(f"{name}.bias"))
    q = lin("q_proj", xt).view(N, L, H, Dh).transpose(1, 2)
    k = lin("k_proj", xt).view(N, L, Hkv, Dh).transpose(1, 2).repeat_interleave(H // Hkv, 1)
    v = lin("v_proj", xt).view(N, L, Hkv, Dh).transpose(1, 2).repeat_interleave(H // Hkv, 1)
    o = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
    out = lin("out_proj", o.transpose(1, 2).reshape(N, L, E))
    return out, xt, p


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("E,H,Hkv,N,L,bias,causal", [
    (16, 4, 2, 2, 5, True, False), (16, 4, 2, 2, 5, False, True), (12, 6, 1, 3, 4, True, True),
    (8, 2, 2, 1, 6, True, False), (24, 8, 4, 2, 7, True, True)])
def test_module_forward_and_backward_match_torch(E, H, Hkv, N, L, bias, causal, dtype):
    layer = GroupedQueryAttention(E, H, Hkv, bias=bias, dtype=dtype, rng=0)
    x = np.random.default_rng(1).standard_normal((N, L, E)).astype(dtype)
    out = layer(x, is_causal=causal)
    ref, xt, p = torch_gqa(layer, x, causal)
    close(out, ref, dtype, "out")
    dout = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
    ref.backward(tt(dout))
    dq, dk, dv = layer.backward(dout)
    close(dq + dk + dv, xt.grad, dtype, "dx", scale=4)
    for name, g in layer.named_grads().items():
        close(g, p[name].grad, dtype, name, scale=8)


def test_mqa_is_gqa_with_one_kv_head_and_saves_parameters():
    mqa = MultiQueryAttention(32, 8, rng=0)
    mha_like = GroupedQueryAttention(32, 8, 8, rng=0)
    assert mqa.num_kv_heads == 1 and mqa.params == {}
    assert mqa.named_parameters()["k_proj.weight"].shape == (4, 32)
    n = {name: sum(a.size for a in m.named_parameters().values()) for name, m in
         (("mqa", mqa), ("mha", mha_like))}
    assert n["mha"] - n["mqa"] == 2 * (32 * 32 + 32) - 2 * (4 * 32 + 4)
    x = np.random.default_rng(0).standard_normal((2, 5, 32)).astype(np.float32)
    out = mqa(x, is_causal=True)
    ref, _, _ = torch_gqa(mqa, x, True)
    close(out, ref, np.float32, "out")

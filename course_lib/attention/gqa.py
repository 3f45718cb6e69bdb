"""Grouped-query and multi-query attention (GQA, MQA): fewer key/value heads than query heads.

Multi-head attention gives each of its H query heads its own key and value head.
GQA keeps H query heads but only H_kv key/value heads, H divisible by H_kv: the
query heads form H_kv groups of G = H / H_kv consecutive heads, and group g shares
key/value head g::

    query head h  ->  key/value head  h // G          (G = H // H_kv)

MQA is the extreme H_kv = 1 (every query head shares one K and one V); H_kv = H is
ordinary multi-head attention.  This is the mapping of torch's
``scaled_dot_product_attention(..., enable_gqa=True)``, which repeats each key/value
head G times along dim -3 (``repeat_interleave``) before a normal SDPA.

Repeating costs G copies of K and V.  :func:`group_query_heads` instead *views* q
(..., H, L, E) as (..., H_kv, G, L, E) and k, v as (..., H_kv, 1, S, E): matmul
broadcasts the shared head over the group, nothing is copied.  What GQA saves is
the K/V memory -- during decoding the KV cache, H_kv / H of the MHA size (see
:mod:`.kv_cache`); the flops of the attention itself stay those of H heads.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array
from .linear import Linear, linear
from .module import Module, as_rng, check_float_dtype


def _positive_int(name, n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be an int >= 1, got {n!r}")
    return int(n)


def gqa_head_map(num_heads: int, num_kv_heads: int) -> np.ndarray:
    """Key/value head used by each query head: int array (num_heads,), ``h // (H // H_kv)``."""
    H = _positive_int("num_heads", num_heads)
    Hkv = _positive_int("num_kv_heads", num_kv_heads)
    if H % Hkv:
        raise ValueError(f"num_heads={H} must be divisible by num_kv_heads={Hkv} "
                         f"(each key/value head serves num_heads / num_kv_heads query heads)")
    return np.arange(H) // (H // Hkv)


def check_gqa(q: np.ndarray, k: np.ndarray, v: np.ndarray | None = None) -> int:
    """Check GQA head counts: q (..., H, L, E), k/v (..., H_kv, S, E); return G = H // H_kv."""
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a is not None and a.ndim < 3:
            raise ValueError(f"enable_gqa=True needs a head dim: {name} must be "
                             f"(..., heads, length, features), got shape {a.shape}")
    H, Hkv = q.shape[-3], k.shape[-3]
    if v is not None and v.shape[-3] != Hkv:
        raise ValueError(f"k and v must have the same number of heads (dim -3): "
                         f"k {k.shape}, v {v.shape}")
    if Hkv < 1 or H % Hkv:
        raise ValueError(f"enable_gqa=True: the query heads (q dim -3 = {H}) must be a multiple "
                         f"of the key/value heads (k dim -3 = {Hkv}); q {q.shape}, k {k.shape}")
    return H // Hkv


def repeat_kv(x: np.ndarray, groups: int) -> np.ndarray:
    """(..., H_kv, S, E) -> (..., H_kv * groups, S, E), each head repeated ``groups`` times
    in place (torch's ``repeat_interleave(groups, dim=-3)``): a copy, the simple way."""
    return np.repeat(x, groups, axis=-3)


def group_query_heads(q, k, v):
    """Views for grouped attention without copies.

    q (..., H, L, E) -> (..., H_kv, G, L, E); k (..., H_kv, S, E) -> (..., H_kv, 1, S, E);
    v likewise.  Attention on these views broadcasts each key/value head over its G
    query heads; reshape the (..., H_kv, G, L, Ev) result to (..., H, L, Ev).
    """
    G = check_gqa(q, k, v)
    Hkv = k.shape[-3]
    qg = q.reshape(q.shape[:-3] + (Hkv, G) + q.shape[-2:])
    return qg, k[..., None, :, :], v[..., None, :, :]


def group_mask(mask, num_heads: int, num_kv_heads: int):
    """An SDPA mask that broadcasts to (..., H, L, S), reshaped to broadcast to the
    grouped scores (..., H_kv, G, L, S)."""
    if mask is None or not isinstance(mask, np.ndarray) or mask.ndim < 3:
        return mask
    mh = mask.shape[-3]
    if mh == 1:
        split = (1, 1)
    elif mh == num_heads:
        split = (num_kv_heads, num_heads // num_kv_heads)
    else:
        raise ValueError(f"attn_mask of shape {mask.shape} does not broadcast over the "
                         f"{num_heads} query heads (its dim -3 must be 1 or {num_heads})")
    return mask.reshape(mask.shape[:-3] + split + mask.shape[-2:])


def gqa_attention(q, k, v, attn_mask=None, *, is_causal=False, scale=None):
    """SDPA with grouped heads: q (..., H, L, E), k (..., H_kv, S, E), v (..., H_kv, S, Ev)
    -> (..., H, L, Ev).  What ``scaled_dot_product_attention(..., enable_gqa=True)`` runs."""
    from .sdpa import scaled_dot_product_attention
    qg, kg, vg = group_query_heads(q, k, v)
    m = group_mask(attn_mask, q.shape[-3], k.shape[-3])
    out = scaled_dot_product_attention(qg, kg, vg, m, is_causal=is_causal, scale=scale)
    return out.reshape(out.shape[:-4] + (q.shape[-3],) + out.shape[-2:])


def gqa_attention_backward(dout, q, k, v, attn_mask=None, *, is_causal=False, scale=None):
    """Gradients (dq, dk, dv) through :func:`gqa_attention`; dk and dv sum the
    gradients of the G query heads that share each key/value head."""
    from .sdpa import scaled_dot_product_attention_backward
    qg, kg, vg = group_query_heads(q, k, v)
    dout = check_array("dout", dout)
    H, Hkv = q.shape[-3], k.shape[-3]
    if dout.ndim < 3 or dout.shape[-3] != H:
        raise ValueError(f"dout must have the output's shape (..., H={H}, L, Ev), "
                         f"got {dout.shape}")
    dg = dout.reshape(dout.shape[:-3] + (Hkv, H // Hkv) + dout.shape[-2:])
    m = group_mask(attn_mask, H, Hkv)
    dq, dk, dv = scaled_dot_product_attention_backward(dg, qg, kg, vg, m,
                                                       is_causal=is_causal, scale=scale)
    return dq.reshape(q.shape), dk.reshape(k.shape), dv.reshape(v.shape)


class GroupedQueryAttention(Module):
    """Self- or cross-attention with ``num_kv_heads`` key/value heads shared by groups of query heads.

    Parameters (PyTorch ``Linear`` layout, names as in common GQA models)::

        q_proj.weight   (E, E)                 Dh = E / num_heads
        k_proj.weight   (num_kv_heads*Dh, E)   the saving: H_kv/H of MHA's size
        v_proj.weight   (num_kv_heads*Dh, E)
        out_proj.weight (E, E)                 (and a bias each when ``bias=True``)

    ``forward(query, key=None, value=None, is_causal=False)`` takes batch-first
    (N, L, E) inputs (key/value default to query: self-attention) and returns
    (N, L, E); ``backward(dout)`` returns (dquery, dkey, dvalue) (for self-attention
    add them) and fills ``grads``.  Attention runs through :func:`gqa_attention`
    (= ``scaled_dot_product_attention(..., enable_gqa=True)``): no K/V copies.
    """

    def __init__(self, embed_dim: int, num_heads: int, num_kv_heads: int, *,
                 bias: bool = True, dtype=np.float32, rng=None) -> None:
        super().__init__()
        E = _positive_int("embed_dim", embed_dim)
        H = _positive_int("num_heads", num_heads)
        Hkv = _positive_int("num_kv_heads", num_kv_heads)
        if E % H:
            raise ValueError(f"embed_dim={E} must be divisible by num_heads={H}")
        gqa_head_map(H, Hkv)                       # raises when H % H_kv != 0
        self.embed_dim, self.num_heads, self.num_kv_heads = E, H, Hkv
        self.head_dim = E // H
        dtype, rng = check_float_dtype(dtype), as_rng(rng)
        kv = Hkv * self.head_dim
        self.q_proj = Linear(E, E, bias, dtype=dtype, rng=rng)
        self.k_proj = Linear(E, kv, bias, dtype=dtype, rng=rng)
        self.v_proj = Linear(E, kv, bias, dtype=dtype, rng=rng)
        self.out_proj = Linear(E, E, bias, dtype=dtype, rng=rng)
        self._children = {"q_proj": self.q_proj, "k_proj": self.k_proj,
                          "v_proj": self.v_proj, "out_proj": self.out_proj}

    def _heads(self, x, n):            # (N, L, n*Dh) -> (N, n, L, Dh), a view
        N, L, _ = x.shape
        return x.reshape(N, L, n, self.head_dim).transpose(0, 2, 1, 3)

    def _merge(self, x):               # (N, n, L, Dh) -> (N, L, n*Dh), a copy
        N, n, L, Dh = x.shape
        return np.ascontiguousarray(x.transpose(0, 2, 1, 3)).reshape(N, L, n * Dh)

    def forward(self, query, key=None, value=None, *, is_causal: bool = False):
        """query (N, L, E), key/value (N, S, E) (default: query) -> (N, L, E)."""
        key = query if key is None else key
        value = key if value is None else value
        for name, a in (("query", query), ("key", key), ("value", value)):
            a = check_array(name, a)
            if a.ndim != 3 or a.shape[-1] != self.embed_dim:
                raise ValueError(f"{name} must be (N, length, embed_dim={self.embed_dim}), "
                                 f"got shape {a.shape}")
            if a.dtype != self.dtype:
                raise TypeError(f"{name} has dtype {a.dtype}, the module's parameters "
                                f"are {self.dtype}")
        if key.shape != value.shape or key.shape[0] != query.shape[0]:
            raise ValueError(f"key and value must have one shape and query's batch size: "
                             f"query {query.shape}, key {key.shape}, value {value.shape}")
        H, Hkv = self.num_heads, self.num_kv_heads
        qh = self._heads(self.q_proj(query), H)
        kh = self._heads(self.k_proj(key), Hkv)
        vh = self._heads(self.v_proj(value), Hkv)
        oh = gqa_attention(qh, kh, vh, is_causal=is_causal)
        self._cache = dict(heads=(qh, kh, vh), is_causal=is_causal)
        return self.out_proj(self._merge(oh))

    def backward(self, dout):
        """dout (N, L, E) -> (dquery, dkey, dvalue); parameter gradients in ``grads``."""
        if self._cache is None:
            raise RuntimeError("backward() needs a forward() call first")
        qh, kh, vh = self._cache["heads"]
        doh = self._heads(self.out_proj.backward(check_array("dout", dout)), self.num_heads)
        dq, dk, dv = gqa_attention_backward(doh, qh, kh, vh,
                                            is_causal=self._cache["is_causal"])
        return (self.q_proj.backward(self._merge(dq)), self.k_proj.backward(self._merge(dk)),
                self.v_proj.backward(self._merge(dv)))

    def step(self, x, cache):
        """Incremental decoding: x (N, T, E) are the next T tokens (T = the prompt's length
        for the prefill, then 1).  Their keys/values go into ``cache`` (a
        :class:`~course_lib.attention.kv_cache.KVCache` of shape (N, H_kv, max_len, Dh)),
        their queries attend causally to everything cached.  Returns (N, T, E), equal
        to the rows of ``forward(all tokens so far, is_causal=True)``.  No backward."""
        from .kv_cache import cached_attention
        x = check_array("x", x)
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"x must be (N, tokens, embed_dim={self.embed_dim}), got {x.shape}")
        k, v = self.kv_projection(x)
        cache.extend(k, v)
        q = linear(x, self.q_proj.params["weight"], self.q_proj.params.get("bias"))
        oh = cached_attention(self._heads(q, self.num_heads), cache)
        o = self._merge(oh)
        return linear(o, self.out_proj.params["weight"], self.out_proj.params.get("bias"))

    def kv_projection(self, x):
        """Keys and values of tokens x (N, T, E) as heads: two (N, H_kv, T, Dh) arrays
        (what a KV cache stores).  No cache for backward is kept."""
        k = linear(x, self.k_proj.params["weight"], self.k_proj.params.get("bias"))
        v = linear(x, self.v_proj.params["weight"], self.v_proj.params.get("bias"))
        return self._heads(k, self.num_kv_heads), self._heads(v, self.num_kv_heads)


class MultiQueryAttention(GroupedQueryAttention):
    """Multi-query attention (Shazeer 2019): :class:`GroupedQueryAttention` with one
    key/value head shared by all ``num_heads`` query heads."""

    def __init__(self, embed_dim: int, num_heads: int, *, bias: bool = True,
                 dtype=np.float32, rng=None) -> None:
        super().__init__(embed_dim, num_heads, 1, bias=bias, dtype=dtype, rng=rng)

"""The KV cache for incremental (autoregressive) decoding, and one decoding step.

A decoder generates token t+1 from tokens 0..t.  Recomputing every key and value of
the prefix at each step costs O(t) projections per step; the cache stores the keys
and values of past tokens instead, so a step projects only the new token and attends
its query to the stored keys::

    prefill:  K[:, :, 0:P], V[:, :, 0:P] = keys/values of the prompt (P tokens)
    step t:   K[:, :, t], V[:, :, t] = those of the new token; out_t = attn(q_t, K[:t+1], V[:t+1])

Buffers are preallocated, (B, H_kv, max_len, E) each, so a step writes in place
and never reallocates; appending past ``max_len`` is an error, not a silent copy.

Memory: 2 (K and V) * layers * H_kv * head_dim * bytes per element, per token and
sequence -- the H_kv factor is what grouped-/multi-query attention shrinks
(:func:`kv_cache_bytes`, :data:`MODEL_CONFIGS`).

Causal alignment: T new queries appended after ``p0 = length - T`` cached tokens sit
at positions p0..p0+T-1, and query i may see keys j <= p0 + i (*bottom-right*
aligned).  torch's ``is_causal`` is top-left aligned (j <= i), which is right only
when p0 = 0; :func:`cached_attention` builds the shifted mask itself.

:func:`cached_attention` may split the cached keys into chunks and merge the
chunks' partial softmax results (:mod:`.online_softmax`) -- how flash-decoding
spreads one query over a long cache.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_array
from .flash import check_block
from .module import check_float_dtype
from .online_softmax import finish, merge_partials_, tile_partial_
from .sdpa import _scale


@dataclass(frozen=True)
class ModelConfig:
    """The attention shape of a published model (from its released ``config.json``)."""

    name: str
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    source: str

    @property
    def kind(self) -> str:
        return "MHA" if self.kv_heads == self.heads else "MQA" if self.kv_heads == 1 else "GQA"


MODEL_CONFIGS = (
    ModelConfig("Llama-2-7B", 32, 32, 32, 128,
                "meta-llama/Llama-2-7b-hf config.json: hidden_size 4096, 32 heads, "
                "num_key_value_heads 32, 32 layers"),
    ModelConfig("Llama-2-70B", 80, 64, 8, 128,
                "meta-llama/Llama-2-70b-hf config.json: hidden_size 8192, 64 heads, "
                "num_key_value_heads 8, 80 layers"),
    ModelConfig("Falcon-7B", 32, 71, 1, 64,
                "tiiuae/falcon-7b config.json: hidden_size 4544, 71 heads, multi_query true, "
                "32 layers"),
)


def kv_cache_bytes(layers: int, kv_heads: int, head_dim: int, tokens: int = 1, batch: int = 1,
                   bytes_per_element: int = 2) -> int:
    """Bytes of a KV cache: ``2 * layers * kv_heads * head_dim * tokens * batch * bytes``.

    The 2 counts K and V; ``bytes_per_element`` 2 for float16/bfloat16 (the usual
    inference dtype), 4 for float32.
    """
    for name, n in (("layers", layers), ("kv_heads", kv_heads), ("head_dim", head_dim),
                    ("tokens", tokens), ("batch", batch),
                    ("bytes_per_element", bytes_per_element)):
        check_block(name, n)
    return 2 * layers * kv_heads * head_dim * tokens * batch * bytes_per_element


class KVCache:
    """Preallocated keys and values of one attention layer: (B, H_kv, max_len, E) each.

    ``prefill(k, v)`` stores a prompt's keys/values (B, H_kv, T, E|Ev) into an empty
    cache, ``append(k, v)`` one token's (B, H_kv, E|Ev) (or (B, H_kv, 1, E|Ev)),
    ``extend`` any number of tokens; ``keys``/``values`` are views of the filled part.
    """

    def __init__(self, batch: int, num_kv_heads: int, max_len: int, head_dim: int,
                 value_dim: int | None = None, dtype=np.float32) -> None:
        self.batch = check_block("batch", batch)
        self.num_kv_heads = check_block("num_kv_heads", num_kv_heads)
        self.max_len = check_block("max_len", max_len)
        self.head_dim = check_block("head_dim", head_dim)
        self.value_dim = self.head_dim if value_dim is None else check_block("value_dim",
                                                                               value_dim)
        self.dtype = check_float_dtype(dtype)
        shape = (self.batch, self.num_kv_heads, self.max_len)
        self._k = np.zeros(shape + (self.head_dim,), self.dtype)
        self._v = np.zeros(shape + (self.value_dim,), self.dtype)
        self.length = 0

    @property
    def keys(self) -> np.ndarray:
        """(B, H_kv, length, E), a view of the buffer."""
        return self._k[:, :, :self.length]

    @property
    def values(self) -> np.ndarray:
        """(B, H_kv, length, Ev), a view of the buffer."""
        return self._v[:, :, :self.length]

    @property
    def nbytes(self) -> int:
        """Bytes held by the two preallocated buffers."""
        return self._k.nbytes + self._v.nbytes

    def reset(self) -> "KVCache":
        """Forget every token (the buffers are kept)."""
        self.length = 0
        return self

    def extend(self, k, v) -> "KVCache":
        """Append T tokens: k (B, H_kv, T, E), v (B, H_kv, T, Ev)."""
        k, v = check_array("k", k), check_array("v", v)
        B, H = self.batch, self.num_kv_heads
        for name, a, d in (("k", k, self.head_dim), ("v", v, self.value_dim)):
            if a.ndim != 4 or a.shape[:2] != (B, H) or a.shape[3] != d:
                raise ValueError(f"{name} must be (batch={B}, num_kv_heads={H}, tokens, {d}), "
                                 f"got shape {a.shape}")
            if a.dtype != self.dtype:
                raise TypeError(f"{name} has dtype {a.dtype}, the cache holds {self.dtype}")
        if k.shape[2] != v.shape[2]:
            raise ValueError(f"k and v must hold the same number of tokens: k {k.shape}, "
                             f"v {v.shape}")
        T = k.shape[2]
        if self.length + T > self.max_len:
            raise ValueError(f"KV cache overflow: {self.length} tokens cached + {T} new > "
                             f"max_len={self.max_len} (k {k.shape}); allocate a longer cache "
                             f"or drop old tokens")
        self._k[:, :, self.length:self.length + T] = k
        self._v[:, :, self.length:self.length + T] = v
        self.length += T
        return self

    def prefill(self, k, v) -> "KVCache":
        """Store a prompt's keys/values (B, H_kv, T, E|Ev) into an empty cache."""
        if self.length:
            raise ValueError(f"prefill needs an empty cache, this one holds {self.length} "
                             f"tokens; call reset() first or extend() to add tokens")
        return self.extend(k, v)

    def append(self, k, v) -> "KVCache":
        """Append one token: k (B, H_kv, E) or (B, H_kv, 1, E); v likewise with Ev."""
        k, v = check_array("k", k), check_array("v", v)
        k = k[:, :, None] if k.ndim == 3 else k
        v = v[:, :, None] if v.ndim == 3 else v
        for name, a in (("k", k), ("v", v)):
            if a.ndim != 4 or a.shape[2] != 1:
                raise ValueError(f"append takes one token: {name} must be (B, H_kv, E) or "
                                 f"(B, H_kv, 1, E), got shape {a.shape}")
        return self.extend(k, v)


def _check_query(q, cache: KVCache):
    """q as (B, H, T, E) and whether it came as one token (B, H, E)."""
    q = check_array("q", q)
    single = q.ndim == 3
    q = q[:, :, None] if single else q
    B, Hkv = cache.batch, cache.num_kv_heads
    if q.ndim != 4 or q.shape[0] != B or q.shape[3] != cache.head_dim:
        raise ValueError(f"q must be (batch={B}, heads, tokens, head_dim={cache.head_dim}) "
                         f"or (batch, heads, head_dim), got shape {q.shape}")
    if q.dtype != cache.dtype:
        raise TypeError(f"q has dtype {q.dtype}, the cache holds {cache.dtype}")
    if q.shape[1] % Hkv:
        raise ValueError(f"q's heads (dim 1 = {q.shape[1]}) must be a multiple of the "
                         f"cache's num_kv_heads={Hkv}; q {q.shape}")
    return q, single


def cached_attention(q, cache: KVCache, *, scale=None, block_k: int | None = None):
    """Attention of the T newest tokens' queries over the cache (causal, bottom-right).

    q (B, H, T, E) or, for one token, (B, H, E); H a multiple of the cache's H_kv
    (query head h reads key/value head h // (H/H_kv)).  The T tokens' keys and values
    must already be in the cache (its last T entries).  ``block_k`` splits the cache
    into chunks whose partial results are merged; None = one chunk.
    Returns (B, H, T, Ev) (or (B, H, Ev) for a 3-D q), the cache's dtype.
    """
    q, single = _check_query(q, cache)
    B, Hkv, n = cache.batch, cache.num_kv_heads, cache.length
    H, T = q.shape[1], q.shape[2]
    if T > n:
        raise ValueError(f"q holds {T} tokens but the cache only {n}: append the new tokens' "
                         f"keys and values first")
    bk = n if block_k is None else check_block("block_k", block_k)
    s = q.dtype.type(_scale(scale, q.shape[-1]))
    G, p0 = H // Hkv, n - T
    qg = q.reshape(B, Hkv, G, T, q.shape[-1]) * s             # grouped heads, no K/V copies
    K, V = cache.keys[:, :, None], cache.values[:, :, None]    # (B, H_kv, 1, n, E|Ev)
    m = np.full((B, Hkv, G, T), -np.inf, q.dtype)
    l = np.zeros_like(m)
    acc = np.zeros((B, Hkv, G, T, cache.value_dim), q.dtype)
    for k0 in range(0, n, bk):
        k1 = min(k0 + bk, n)
        st = np.matmul(qg, np.swapaxes(K[..., k0:k1, :], -1, -2))
        if T > 1:                                  # query i (position p0+i) sees j <= p0+i
            st[..., np.arange(k0, k1)[None, :] > p0 + np.arange(T)[:, None]] = -np.inf
        m, l, acc = merge_partials_(m, l, acc, *tile_partial_(st, V[..., k0:k1, :]))
    out, _ = finish(m, l, acc)
    out = out.reshape(B, H, T, cache.value_dim)
    return out[:, :, 0] if single else out


def decode_step(q, k, v, cache: KVCache, *, scale=None, block_k: int | None = None):
    """One decoding step: append the new token's k, v (B, H_kv, E|Ev) to the cache,
    then attend its query q (B, H, E) to everything cached.  Returns (B, H, Ev)."""
    q = check_array("q", q)
    if q.ndim != 3:
        raise ValueError(f"decode_step takes one token: q must be (B, H, E), got {q.shape}")
    _check_query(q, cache)                      # before the cache changes
    cache.append(k, v)
    return cached_attention(q, cache, scale=scale, block_k=block_k)

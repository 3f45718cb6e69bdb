"""Exercise 16.5d -- one decoding step with a KV cache.

An autoregressive decoder produces one token at a time.  Its attention layer keeps
the keys and values of every earlier token in preallocated buffers (the KV cache),
``k_cache`` (B, H_kv, max_len, E) and ``v_cache`` (B, H_kv, max_len, Ev), of which
the first ``length`` positions are filled.  One step:

1. write the new token's key ``k_new`` (B, H_kv, E) and value ``v_new`` (B, H_kv, Ev)
   at position ``length`` (in place); if the cache is full (``length == max_len``)
   raise ``ValueError`` naming ``max_len`` -- before changing anything;
2. attend the new query ``q`` (B, H, E) to the ``length + 1`` cached positions:
   ``out = softmax(q . K^T * scale) @ V`` with ``scale = 1 / sqrt(E)``; no causal mask
   is needed (the new token is the last one).  Query head h reads key/value head
   ``h // (H // H_kv)`` (grouped-query attention; H_kv = H is plain multi-head);
3. return ``(out, k_cache, v_cache)``: out (B, H, Ev) in q's dtype, and the two caches
   (the same arrays, now holding the new token).

Plain NumPy only.
"""
from __future__ import annotations

import numpy as np


def kv_cache_decode_step(q, k_new, v_new, k_cache, v_cache, length):
    """Append one token to the cache and attend its query to every cached token."""
    # BEGIN SOLUTION: if length >= k_cache.shape[2]: raise ValueError naming max_len;
    # k_cache[:, :, length] = k_new, v_cache[:, :, length] = v_new; n = length + 1;
    # group q as (B, H_kv, G, E), s = einsum of q with k_cache[:, :, :n] times 1/sqrt(E),
    # stable softmax over the n positions, out = p @ v_cache[:, :, :n] -> (B, H, Ev).
    B, Hkv, max_len, E = k_cache.shape
    if length >= max_len:
        raise ValueError(f"KV cache full: length={length} == max_len={max_len}")
    k_cache[:, :, length] = k_new
    v_cache[:, :, length] = v_new
    n = length + 1
    H = q.shape[1]
    qg = q.reshape(B, Hkv, H // Hkv, E)
    s = np.einsum("bkge,bkne->bkgn", qg, k_cache[:, :, :n]) * q.dtype.type(1 / np.sqrt(E))
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=-1, keepdims=True)
    out = np.einsum("bkgn,bknd->bkgd", p, v_cache[:, :, :n]).reshape(B, H, -1)
    return out.astype(q.dtype), k_cache, v_cache
    # END SOLUTION

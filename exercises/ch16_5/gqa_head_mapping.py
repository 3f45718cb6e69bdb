"""Exercise 16.5c -- the head mapping of grouped-query attention (GQA).

With H query heads and H_kv key/value heads (H divisible by H_kv), GQA splits the
query heads into H_kv groups of G = H / H_kv *consecutive* heads; every head of group
g reads key/value head g.  MQA is H_kv = 1, ordinary multi-head attention H_kv = H.

1. ``kv_head_index(num_heads, num_kv_heads)``: for each query head, the index of the
   key/value head it reads, an int array of length H.  If H is not divisible by H_kv
   (or either is < 1), raise ``ValueError`` with a message naming both numbers.
2. ``repeat_kv_heads(x, num_heads)``: keys or values (B, H_kv, S, D) expanded to
   (B, H, S, D) so that head h of the result is key/value head ``kv_head_index[h]``
   -- after this, ordinary multi-head attention computes GQA.  Same dtype, a new array.

Plain NumPy only; do not modify the inputs.
"""
from __future__ import annotations

import numpy as np


def kv_head_index(num_heads, num_kv_heads):
    """Key/value head of each query head: int array (num_heads,)."""
    # BEGIN SOLUTION: check num_heads >= 1, num_kv_heads >= 1 and num_heads % num_kv_heads == 0
    # (else ValueError naming both); return np.arange(num_heads) // (num_heads // num_kv_heads).
    if num_heads < 1 or num_kv_heads < 1 or num_heads % num_kv_heads:
        raise ValueError(f"num_heads={num_heads} must be a positive multiple of "
                         f"num_kv_heads={num_kv_heads}")
    return np.arange(num_heads) // (num_heads // num_kv_heads)
    # END SOLUTION


def repeat_kv_heads(x, num_heads):
    """x (B, H_kv, S, D) -> (B, num_heads, S, D), head h = x[:, kv_head_index[h]]."""
    # BEGIN SOLUTION: idx = kv_head_index(num_heads, x.shape[1]); return x[:, idx] (a copy,
    # x's dtype) -- equivalently np.repeat(x, num_heads // x.shape[1], axis=1).
    return x[:, kv_head_index(num_heads, x.shape[1])]
    # END SOLUTION

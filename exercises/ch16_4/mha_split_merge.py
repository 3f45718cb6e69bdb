"""Exercise 16.4b -- splitting the width into heads and merging them back, inside MHA.

Multi-head attention with E = embed_dim and H heads of width D = E / H projects the
input to Q, K, V of shape (N, L, E) (batch first). Head h owns the features
``h*D .. (h+1)*D - 1`` of every position, and the heads attend independently, so
each of Q, K, V is rearranged to (N, H, L, D): ``split_heads``. After attention the
per-head outputs (N, H, L, D) are put side by side again, head 0's D features first,
giving (N, L, E): ``merge_heads``. Both are a reshape and an axis permutation;
the order of the axes is the whole exercise -- a wrong order still has the right
shape but mixes positions and heads.

The rest of the forward pass (``mha_forward``) is given and uses your two functions;
with them it computes exactly what ``torch.nn.MultiheadAttention`` (batch_first=True)
computes. Plain NumPy only.
"""
from __future__ import annotations

import numpy as np


def split_heads(x, num_heads):
    """(N, L, E) -> (N, H, L, E // H): out[n, h, l, d] = x[n, l, h * (E // H) + d].

    Same dtype as x. A view is fine (no need to copy).
    """
    # BEGIN SOLUTION: with D = E // num_heads, reshape x to (N, L, H, D) (head h = features
    # h*D .. h*D+D-1) and move the head axis in front of the positions: (N, H, L, D).
    N, L, E = x.shape
    return x.reshape(N, L, num_heads, E // num_heads).transpose(0, 2, 1, 3)
    # END SOLUTION


def merge_heads(x):
    """(N, H, L, D) -> (N, L, H * D): out[n, l, h * D + d] = x[n, h, l, d]. Same dtype as x."""
    # BEGIN SOLUTION: the inverse of split_heads: move the head axis back behind the positions,
    # (N, L, H, D), then reshape to (N, L, H*D) (reshape copies when needed).
    N, H, L, D = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, L, H * D)
    # END SOLUTION


def softmax(x):
    """Given: softmax over the last axis (stable)."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def mha_forward(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight,
                out_proj_bias, num_heads):
    """Given: multi-head attention, batch first, in torch.nn.MultiheadAttention's parameters.

    query (N, L, E), key and value (N, S, E); in_proj_weight (3E, E), in_proj_bias (3E,),
    out_proj_weight (E, E), out_proj_bias (E,). Returns (out (N, L, E), weights (N, H, L, S)).
    """
    E = query.shape[-1]
    wq, wk, wv = in_proj_weight[:E], in_proj_weight[E:2 * E], in_proj_weight[2 * E:]
    bq, bk, bv = in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:]
    q = split_heads(query @ wq.T + bq, num_heads)            # (N, H, L, D)
    k = split_heads(key @ wk.T + bk, num_heads)              # (N, H, S, D)
    v = split_heads(value @ wv.T + bv, num_heads)            # (N, H, S, D)
    scale = 1.0 / float(np.sqrt(q.shape[-1]))                # a Python float keeps float32
    weights = softmax(q @ np.swapaxes(k, -1, -2) * scale)    # (N, H, L, S)
    out = merge_heads(weights @ v)                           # (N, L, E)
    return out @ out_proj_weight.T + out_proj_bias, weights

"""Splitting the model width into heads and merging them back.

Multi-head attention runs H independent attentions of width Dh = E / H.  No data is
moved to make the heads: a projection's output (N, L, E) is *viewed* as
(N, L, H, Dh) -- head h owns columns h*Dh .. (h+1)*Dh - 1 -- and the axes are
permuted to (N, H, L, Dh) so that ``np.matmul`` treats (N, H) as batch dims.
Merging is the inverse permutation followed by a reshape to (N, L, E); that reshape
must copy, because after the permutation the head columns are no longer adjacent.

``seq_first=True`` handles PyTorch's default layout (L, N, E) the same way.
"""
from __future__ import annotations

import numpy as np


def split_heads(x: np.ndarray, num_heads: int, *, seq_first: bool = False) -> np.ndarray:
    """(N, L, E) -> (N, H, L, E/H) as a view (or (L, N, E) -> (N, H, L, E/H) with ``seq_first``)."""
    a, b, E = x.shape
    if E % num_heads:
        raise ValueError(f"the last dim of x ({x.shape}) must divide by num_heads={num_heads}")
    x4 = x.reshape(a, b, num_heads, E // num_heads)
    return x4.transpose(1, 2, 0, 3) if seq_first else x4.transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray, *, seq_first: bool = False) -> np.ndarray:
    """(N, H, L, Dh) -> (N, L, H*Dh), a new contiguous array (or (L, N, H*Dh) with ``seq_first``)."""
    N, H, L, Dh = x.shape
    if seq_first:
        return np.ascontiguousarray(x.transpose(2, 0, 1, 3)).reshape(L, N, H * Dh)
    return np.ascontiguousarray(x.transpose(0, 2, 1, 3)).reshape(N, L, H * Dh)

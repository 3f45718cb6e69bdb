"""Exercise 16.5b -- one tile of the FlashAttention forward pass.

FlashAttention walks over the keys in tiles.  For a tile of queries Q_i (Lt, E) it
keeps per query row a running maximum ``m``, a shifted denominator ``l`` and an
unnormalised output ``acc`` (see exercise 16.5a).  Visiting one key/value tile
(K_j (St, E), V_j (St, Ev)) updates them::

    S     = Q_i @ K_j^T * scale            (Lt, St), and -inf where mask is False
    m_new = max(m, rowmax(S))
    P     = exp(S - m_new)                 (Lt, St)
    l     = exp(m - m_new) * l + rowsum(P)
    acc   = exp(m - m_new) * acc + P @ V_j

A row may have no allowed key *in this tile* (causal masking on the diagonal) and
start at ``m = -inf`` (nothing seen yet): handle ``-inf - -inf`` so that no NaN
appears (shift by 0 where m_new is -inf).  After the last tile the attention output
is ``acc / l``.  Keep the dtype; do not modify the inputs.  Plain NumPy only.
"""
from __future__ import annotations

import numpy as np


def flash_forward_tile(q_tile, k_tile, v_tile, m, l, acc, scale, mask=None):
    """Update the running (m, l, acc) of a query tile with one key/value tile.

    Args:
        q_tile: (Lt, E) queries; k_tile: (St, E) keys; v_tile: (St, Ev) values.
        m, l: (Lt,) running maximum and denominator; acc: (Lt, Ev).
        scale: float, multiplies the scores.
        mask: None or bool (Lt, St), True where the query may attend to the key.

    Returns:
        ``(m, l, acc)`` after the tile, new arrays of the same shapes and dtype.
    """
    # BEGIN SOLUTION: s = q_tile @ k_tile.T * scale, -inf where mask is False;
    # m_new = maximum(m, s.max(axis=1)); shift = m_new, or 0 where m_new is -inf;
    # p = exp(s - shift[:, None]); alpha = exp(m - shift);
    # return m_new, alpha*l + p.sum(1), alpha[:, None]*acc + p @ v_tile (dtype of q_tile).
    dtype = q_tile.dtype
    s = (q_tile @ k_tile.T) * dtype.type(scale)
    if mask is not None:
        s = np.where(mask, s, -np.inf).astype(dtype)
    m_new = np.maximum(m, s.max(axis=1))
    shift = np.where(np.isfinite(m_new), m_new, 0).astype(dtype)
    p = np.exp(s - shift[:, None])
    alpha = np.exp(m - shift)
    return m_new, alpha * l + p.sum(axis=1), alpha[:, None] * acc + p @ v_tile
    # END SOLUTION

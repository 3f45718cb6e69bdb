"""Attention masks: causal masks, and checking/applying boolean or additive masks.

Two conventions exist and both appear in PyTorch, so the names here say which:

* ``scaled_dot_product_attention`` (and this module): a **boolean** mask holds
  ``True`` where a query **may attend** to a key; a **float** mask is **added** to the
  scores (``-inf`` blocks, 0 leaves alone, other values bias).
* ``torch.nn.MultiheadAttention`` / ``TransformerEncoderLayer``: a boolean
  ``attn_mask`` or ``key_padding_mask`` holds ``True`` where attention is
  **not allowed**.  :mod:`.multihead` converts with :func:`invert_bool`.

Masks broadcast against the scores, shape ``(..., L, S)`` (L queries, S keys).
"""
from __future__ import annotations

import numpy as np

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def causal_mask(L: int, S: int | None = None) -> np.ndarray:
    """Boolean (L, S) mask, True where key j <= query i: ``np.tril`` of ones, top-left aligned.

    This is what ``is_causal=True`` means in PyTorch's SDPA (for L != S too): query i
    sees keys 0..i.
    """
    S = L if S is None else S
    for name, n in (("L", L), ("S", S)):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be an int >= 1, got {n!r}")
    return np.tri(L, S, dtype=bool)


def check_mask(name: str, mask: object, scores_shape: tuple[int, ...]) -> np.ndarray:
    """Return ``mask`` as an ndarray after checking its dtype and that it broadcasts.

    Boolean and float32/float64 masks are accepted; anything else is a ``TypeError``.
    The mask must broadcast to ``scores_shape`` = (..., L, S) without changing it,
    else a ``ValueError`` names both shapes.  NaN in a float mask is a ``ValueError``
    (``-inf`` is allowed: it is how a float mask blocks).
    """
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray (bool or float), got {type(mask).__name__}")
    if mask.dtype != np.bool_ and mask.dtype not in FLOATS:
        raise TypeError(f"{name} must be bool (True = may attend) or float32/float64 (added to "
                        f"the scores), got dtype {mask.dtype} (shape {mask.shape})")
    try:
        ok = np.broadcast_shapes(mask.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name} of shape {mask.shape} does not broadcast to the attention "
                         f"scores' shape {tuple(scores_shape)} = (..., L queries, S keys)")
    if mask.dtype != np.bool_ and np.isnan(mask).any():
        raise ValueError(f"{name} (shape {mask.shape}) contains NaN")
    return mask


def apply_mask_(scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Apply a checked SDPA-convention mask to ``scores`` in place; return ``scores``.

    bool: entries where the mask is False become ``-inf``; float: the mask is added.
    """
    if mask is None:
        return scores
    if mask.dtype == np.bool_:
        np.copyto(scores, -np.inf, where=~mask)
    else:
        scores += mask.astype(scores.dtype, copy=False)
    return scores


def invert_bool(mask: np.ndarray | None) -> np.ndarray | None:
    """Flip a boolean mask between the two conventions; float masks pass unchanged."""
    if mask is None or mask.dtype != np.bool_:
        return mask
    return ~mask

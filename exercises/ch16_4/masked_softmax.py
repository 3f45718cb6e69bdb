"""Exercise 16.4a -- a masked, numerically stable softmax.

Attention turns each row of scores into probabilities over the keys a query may see.
With a boolean ``mask`` (True = this entry takes part)::

    p[..., j] = exp(x[..., j]) / sum_{k allowed} exp(x[..., k])   if mask[..., j]
    p[..., j] = 0                                                  otherwise

Two traps: ``exp`` of a logit of 1e4 overflows (float32 overflows above ~88.7), so
subtract the largest *allowed* value of each row first; and a row in which nothing is
allowed must come out as zeros, never NaN (no division by zero, no ``-inf - -inf``).
Keep the dtype of ``x`` (float32 stays float32); do not modify the inputs.
Plain NumPy only.
"""
from __future__ import annotations

import numpy as np


def masked_softmax(x, mask, axis=-1):
    """Softmax of ``x`` over ``axis`` restricted to entries where ``mask`` is True.

    Args:
        x: float32/float64 array of scores, any shape, finite values.
        mask: bool array that broadcasts to ``x.shape`` (True = allowed).
        axis: the axis to normalise over.

    Returns:
        Array of ``x.shape`` and ``x.dtype``: allowed entries of each row sum to 1, masked
        entries are 0, rows with no allowed entry are all 0.
    """
    # BEGIN SOLUTION: broadcast mask to x.shape; m = max of x over axis among allowed entries
    # (np.max with where=mask, initial=-np.inf, keepdims=True), replaced by 0 where a row has no
    # allowed entry; e = exp(x - m) where allowed, else 0; s = sum of e over axis (keepdims);
    # return e / s where s > 0, else 0 -- in x.dtype, without NaN.
    mask = np.broadcast_to(mask, x.shape)
    m = np.max(x, axis=axis, where=mask, initial=-np.inf, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    e = np.where(mask, np.exp(np.where(mask, x - m, 0)), 0).astype(x.dtype)
    s = np.sum(e, axis=axis, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)
    # END SOLUTION

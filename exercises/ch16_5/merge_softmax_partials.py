"""Exercise 16.5a -- merging two partial results of the online softmax.

FlashAttention and flash-decoding never see all the scores of a query at once.  For
the keys of one block they keep a *partial result*, per query::

    m   = max_j s_j                   the largest score in the block
    l   = sum_j exp(s_j - m)          the softmax denominator, shifted by m
    acc = sum_j exp(s_j - m) * v_j    the unnormalised output, a vector of length Ev

Write the function that combines the partials of two disjoint blocks into the
partial of their union, so that ``acc / l`` of the union is the attention output
over all keys of both.  A partial may be *empty* (its block had no allowed key):
``m = -inf``, ``l = 0``, ``acc = 0``; merging with it must give the other partial,
and merging two empty ones an empty one -- never NaN.  Keep the dtype; do not modify
the inputs.  Plain NumPy only.
"""
from __future__ import annotations

import numpy as np


def merge_softmax_partials(m1, l1, acc1, m2, l2, acc2):
    """Merge (m1, l1, acc1) and (m2, l2, acc2) into the partial of the union.

    Args:
        m1, l1, m2, l2: float arrays of one shape (...,): running maxima (finite or
            -inf) and shifted denominators (>= 0).
        acc1, acc2: float arrays (..., Ev), the unnormalised outputs.

    Returns:
        ``(m, l, acc)`` with the shapes and dtype of the inputs.
    """
    # BEGIN SOLUTION: m = maximum(m1, m2); use a shift equal to m where m is finite and 0
    # where m is -inf (so exp(-inf - shift) = 0, no NaN); a1 = exp(m1 - shift),
    # a2 = exp(m2 - shift); l = a1*l1 + a2*l2; acc = a1[..., None]*acc1 + a2[..., None]*acc2.
    m = np.maximum(m1, m2)
    shift = np.where(np.isfinite(m), m, 0).astype(m.dtype)
    a1 = np.exp(m1 - shift)
    a2 = np.exp(m2 - shift)
    return m, a1 * l1 + a2 * l2, a1[..., None] * acc1 + a2[..., None] * acc2
    # END SOLUTION

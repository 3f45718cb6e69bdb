"""The online softmax: a softmax-weighted sum computed one block of keys at a time.

For one query with scores ``s_1 .. s_S`` and value rows ``v_1 .. v_S``, attention is
``out = sum_j exp(s_j) v_j / sum_j exp(s_j)``.  Split the keys into blocks and keep,
for the blocks seen so far, three numbers per query (a *partial result*)::

    m   = max_j s_j                       running maximum        (...,)
    l   = sum_j exp(s_j - m)              normaliser, shifted    (...,)
    acc = sum_j exp(s_j - m) v_j          unnormalised output    (..., Ev)

Two partials (m1, l1, acc1) and (m2, l2, acc2) over disjoint sets of keys merge
exactly: a term stored as ``exp(s - m1)`` equals ``exp(s - m) / exp(m1 - m)``, so with
``m = max(m1, m2)`` and the rescaling factors ``a1 = exp(m1 - m)``, ``a2 = exp(m2 - m)``
(both <= 1, so nothing overflows) every term gets the common shift m::

    l   = a1 * l1   + a2 * l2
    acc = a1 * acc1 + a2 * acc2

and the attention output is ``acc / l`` once every block is in.  The log-sum-exp of
the row, ``lse = m + log(l)``, is what FlashAttention's backward needs to rebuild the
probabilities ``exp(s - lse)``.

An *empty* partial (no keys, or only masked ones) is ``m = -inf, l = 0, acc = 0``;
the merge treats it as the identity instead of computing ``-inf - -inf = NaN``.

Cost of a merge: a few element-wise operations per query, O(Ev) per query for acc.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array


def safe_shift(m: np.ndarray) -> np.ndarray:
    """m with -inf replaced by 0: subtracting it from -inf scores gives -inf, not NaN."""
    return np.where(np.isfinite(m), m, 0).astype(m.dtype, copy=False)


def merge_partials_(m1, l1, acc1, m2, l2, acc2):
    """Merge two partial results (no checks); returns new ``(m, l, acc)``.

    Shapes: m, l (...,), acc (..., Ev).  Either side may be empty (m = -inf, l = 0).
    """
    m = np.maximum(m1, m2)
    sm = safe_shift(m)
    a1 = np.exp(m1 - sm)          # exp(-inf) = 0 for an empty side
    a2 = np.exp(m2 - sm)
    return m, a1 * l1 + a2 * l2, a1[..., None] * acc1 + a2[..., None] * acc2


def merge_partials(m1, l1, acc1, m2, l2, acc2):
    """Merge two online-softmax partial results over disjoint key sets: ``(m, l, acc)``.

    Args:
        m1, l1: running maximum and shifted normaliser of the first part, shape (...,).
        acc1: its unnormalised weighted sum of values, shape (..., Ev).
        m2, l2, acc2: the same for the second part.

    Returns ``(m, l, acc)`` of the union, in the inputs' dtype.  Used by the tiled
    forward (one key tile at a time) and by a decode step split over the cache.
    """
    names = ("m1", "l1", "acc1", "m2", "l2", "acc2")
    arrs = [check_array(n, a, finite=n[0] != "m") for n, a in zip(names, (m1, l1, acc1, m2, l2,
                                                                          acc2))]
    m1, l1, acc1, m2, l2, acc2 = arrs
    if len({a.dtype for a in arrs}) > 1:
        raise TypeError("m, l, acc of both partials must share one dtype, got "
                        + ", ".join(f"{n}: {a.dtype}" for n, a in zip(names, arrs)))
    for n, a in (("m1", m1), ("m2", m2)):
        if np.isnan(a).any() or np.isposinf(a).any():
            raise ValueError(f"{n} (shape {a.shape}) holds NaN or +inf; a running maximum is "
                             "finite, or -inf for an empty partial")
    for tag, m, l, acc in (("1", m1, l1, acc1), ("2", m2, l2, acc2)):
        if l.shape != m.shape or acc.shape[:-1] != m.shape:
            raise ValueError(f"partial {tag}: l{tag} must have m{tag}'s shape and acc{tag} "
                             f"m{tag}'s shape + (Ev,): m{tag} {m.shape}, l{tag} {l.shape}, "
                             f"acc{tag} {acc.shape}")
    if m1.shape != m2.shape or acc1.shape != acc2.shape:
        raise ValueError(f"the two partials must have the same shapes: m1 {m1.shape}, "
                         f"acc1 {acc1.shape}, m2 {m2.shape}, acc2 {acc2.shape}")
    return merge_partials_(m1, l1, acc1, m2, l2, acc2)


def tile_partial_(scores, v):
    """The partial result of one tile of masked scores (..., Lt, St) with values v (..., St, Ev)."""
    m = scores.max(axis=-1)
    p = np.exp(scores - safe_shift(m)[..., None])
    return m, p.sum(axis=-1), np.matmul(p, v)


def finish(m, l, acc):
    """Output ``acc / l`` (zeros where l = 0: a query with no allowed key) and ``lse``.

    Returns ``(out (..., Ev), lse (...,))`` with ``lse = m + log(l)`` (-inf where l = 0).
    """
    safe = np.where(l > 0, l, 1).astype(l.dtype, copy=False)
    out = np.where((l > 0)[..., None], acc / safe[..., None], 0).astype(acc.dtype, copy=False)
    with np.errstate(divide="ignore"):
        lse = np.where(l > 0, safe_shift(m) + np.log(safe), -np.inf).astype(m.dtype, copy=False)
    return out, lse


def online_softmax(x: np.ndarray, block: int) -> np.ndarray:
    """Softmax over the last axis of x computed block by block with :func:`merge_partials_`.

    The running ``(m, l)`` is updated one block of ``block`` columns at a time (one
    pass over x for the statistics), then each entry is ``exp(x - m) / l``.  Equal to
    the two-pass stable softmax up to rounding; shown in the chapter to check the
    identity numerically.  x (..., n) finite -> (..., n), x's dtype.
    """
    x = check_array("x", x)
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"x must have a last axis of length >= 1, got shape {x.shape}")
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"block must be an int >= 1, got {block!r}")
    lead = x.shape[:-1]
    m = np.full(lead, -np.inf, x.dtype)
    l = np.zeros(lead, x.dtype)
    dummy = np.zeros(lead + (0,), x.dtype)     # no values: only m and l are wanted
    for j in range(0, x.shape[-1], block):
        xb = x[..., j:j + block]
        mb = xb.max(axis=-1)
        lb = np.exp(xb - mb[..., None]).sum(axis=-1)
        m, l, _ = merge_partials_(m, l, dummy, mb, lb, dummy)
    return np.exp(x - m[..., None]) / l[..., None]

"""Scaled dot-product attention (SDPA), forward and backward, as in PyTorch.

For queries ``q`` (..., L, E), keys ``k`` (..., S, E) and values ``v`` (..., S, Ev)::

    scores = q @ k^T * scale            (..., L, S)    scale = 1/sqrt(E) by default
    scores = mask(scores)               -inf where a query may not attend
    P      = softmax(scores, axis=-1)   (..., L, S)    each row sums to 1 (or is 0)
    out    = P @ v                      (..., L, Ev)

The leading dimensions ``...`` (batch, heads) broadcast as in ``np.matmul``.  The
semantics follow ``torch.nn.functional.scaled_dot_product_attention``: ``attn_mask``
is boolean (True = may attend) or float (added to the scores) and broadcasts to
(..., L, S); ``is_causal=True`` keeps key j for query i only when j <= i (top-left
aligned when L != S); a query with no allowed key gets an all-zero row of P and a
zero output row.

Cost: 2*L*S*E + 2*L*S*Ev flops for the two products plus ~5*L*S for the scale, mask
and softmax, per leading index.  Memory: the (..., L, S) scores -- the N^2 term --
which this implementation materialises (FlashAttention, a later chapter, does not).

The options are keyword-only so that later variants (grouped-query heads, a tiled
FlashAttention path) can add keywords without changing positional calls.
"""
from __future__ import annotations

import math

import numpy as np

from .._validate import check_array, check_same_dtype
from .masks import apply_mask_, causal_mask, check_mask
from .softmax import softmax_, softmax_backward_


def check_qkv(q, k, v=None) -> tuple[tuple[int, ...], int, int]:
    """Validate q (..., L, E), k (..., S, E), v (..., S, Ev); return (batch shape, L, S)."""
    q = check_array("q", q)
    k = check_array("k", k)
    if v is not None:
        v = check_array("v", v)
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a is not None and a.ndim < 2:
            raise ValueError(f"{name} must have at least 2 dims (..., length, features), "
                             f"got shape {a.shape}")
    check_same_dtype(q=q, k=k, v=v)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same feature width E (last dim): "
                         f"q {q.shape}, k {k.shape}")
    if v is not None and v.shape[-2] != k.shape[-2]:
        raise ValueError(f"k and v must have the same number of keys S (dim -2): "
                         f"k {k.shape}, v {v.shape}")
    shapes = [q.shape[:-2], k.shape[:-2]] + ([v.shape[:-2]] if v is not None else [])
    try:
        batch = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"the leading (batch, head) dims of q {q.shape}, k {k.shape}"
                         + (f", v {v.shape}" if v is not None else "") +
                         " do not broadcast") from None
    return tuple(batch), q.shape[-2], k.shape[-2]


def _scale(scale, E: int) -> float:
    if scale is None:
        return 1.0 / math.sqrt(E)
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating, np.integer)) \
            or not math.isfinite(float(scale)):
        raise TypeError(f"scale must be a finite number or None, got {scale!r}")
    return float(scale)


def masked_scores(q, k, attn_mask=None, *, is_causal=False, scale=None) -> np.ndarray:
    """``q @ k^T * scale`` with the mask applied (-inf where blocked): (..., L, S).

    Inputs are checked; see the module docstring for the mask rules.
    """
    batch, L, S = check_qkv(q, k)
    s = _scale(scale, q.shape[-1])
    shape = batch + (L, S)
    if attn_mask is not None:
        attn_mask = check_mask("attn_mask", attn_mask, shape)
    if is_causal not in (True, False):
        raise TypeError(f"is_causal must be a bool, got {is_causal!r}")
    # scaling q (L*E values) is cheaper than scaling the scores (L*S values)
    scores = np.matmul(q * q.dtype.type(s), np.swapaxes(k, -1, -2))
    scores = np.broadcast_to(scores, shape).copy() if scores.shape != shape else scores
    if is_causal:
        apply_mask_(scores, causal_mask(L, S))
    return apply_mask_(scores, attn_mask)


def attention_weights(q, k, attn_mask=None, *, is_causal=False, scale=None) -> np.ndarray:
    """The attention probabilities P = softmax(masked scores), shape (..., L, S).

    Rows sum to 1, or are all 0 for a query with no allowed key.  For plotting and
    for checking what a head looks at.
    """
    return softmax_(masked_scores(q, k, attn_mask, is_causal=is_causal, scale=scale))


def scaled_dot_product_attention(q, k, v, attn_mask=None, *, is_causal=False,
                                 scale=None, enable_gqa=False) -> np.ndarray:
    """``softmax(q k^T * scale + mask) @ v``: q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev).

    Same semantics as ``torch.nn.functional.scaled_dot_product_attention`` (without
    dropout): boolean ``attn_mask`` True = may attend, float ``attn_mask`` is added;
    it broadcasts to (..., L, S).  ``scale`` defaults to ``1/sqrt(E)``.  A query with
    no allowed key returns zeros.  The dtype of q (float32/float64) is kept.
    ``enable_gqa=True``: q has H heads at dim -3, k and v have H_kv (H divisible by
    H_kv), query head h uses key/value head h // (H/H_kv) (see :mod:`.gqa`).
    """
    if enable_gqa:
        from .gqa import gqa_attention
        return gqa_attention(q, k, v, attn_mask, is_causal=is_causal, scale=scale)
    check_qkv(q, k, v)
    p = attention_weights(q, k, attn_mask, is_causal=is_causal, scale=scale)
    return np.matmul(p, v)


def scaled_dot_product_attention_backward(dout, q, k, v, attn_mask=None, *, is_causal=False,
                                          scale=None, probs=None, enable_gqa=False):
    """Gradients (dq, dk, dv) of a loss through :func:`scaled_dot_product_attention`.

    With P the probabilities and dO = ``dout`` (..., L, Ev)::

        dv = P^T @ dO                    (..., S, Ev)
        dP = dO @ v^T                    (..., L, S)
        dS = P * (dP - rowsum(dP * P))   softmax backward
        dq = dS @ k * scale,  dk = dS^T @ q * scale

    Masked entries have P = 0 and therefore no gradient.  ``probs`` may pass the P of
    the forward call to skip recomputing it.  Where q, k or v were broadcast over
    leading dims, their gradient is summed back to their own shape (and with
    ``enable_gqa=True`` over the query heads sharing a key/value head; no ``probs``).
    """
    if enable_gqa:
        if probs is not None:
            raise ValueError("probs cannot be passed together with enable_gqa=True")
        from .gqa import gqa_attention_backward
        return gqa_attention_backward(dout, q, k, v, attn_mask, is_causal=is_causal,
                                      scale=scale)
    batch, L, S = check_qkv(q, k, v)
    dout = check_array("dout", dout)
    want = batch + (L, v.shape[-1])
    if dout.shape != want:
        raise ValueError(f"dout must have the output's shape {want}, got {dout.shape}")
    s = _scale(scale, q.shape[-1])
    if probs is None:
        probs = attention_weights(q, k, attn_mask, is_causal=is_causal, scale=scale)
    elif probs.shape != batch + (L, S):
        raise ValueError(f"probs must have shape {batch + (L, S)}, got {probs.shape}")
    dv = np.matmul(np.swapaxes(probs, -1, -2), dout)
    dp = np.matmul(dout, np.swapaxes(v, -1, -2))
    ds = softmax_backward_(dp, probs)
    ds *= ds.dtype.type(s)
    dq = np.matmul(ds, k)
    dk = np.matmul(np.swapaxes(ds, -1, -2), q)
    return sum_to_shape(dq, q.shape), sum_to_shape(dk, k.shape), sum_to_shape(dv, v.shape)


def sum_to_shape(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Undo broadcasting: sum ``g`` over the axes that were broadcast to reach its shape."""
    if g.shape == tuple(shape):
        return g
    extra = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(extra))) if extra else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g

"""Softmax along one axis, numerically stable, and its backward pass.

``softmax(x)_i = exp(x_i) / sum_j exp(x_j)``.  Computing ``exp`` of a logit of 1e4
overflows (float32 overflows above 88.7, float64 above 709.8), so the row maximum
``m`` is subtracted first: ``exp(x_i - m) / sum_j exp(x_j - m)`` is the same value
mathematically and every exponent is <= 0, so nothing overflows and the largest term
is exactly 1.

Masked entries arrive as ``-inf``.  A row in which *every* entry is ``-inf`` (a query
that may attend to nothing) has no meaningful distribution; the textbook formula gives
``(-inf) - (-inf) = NaN``.  Here such a row comes out as **all zeros**, never NaN -- the
same choice as ``torch.nn.functional.scaled_dot_product_attention`` (while
``torch.nn.MultiheadAttention`` returns NaN there).

Cost per row of length n: n exponentials, about 4n flops, 2 passes over the row.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array


def softmax_(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """In-place softmax of a float array that may hold ``-inf`` (no checks): returns ``x``.

    Used on freshly computed score arrays so that no second N x N buffer is allocated.
    All ``-inf`` rows become zeros.
    """
    m = np.max(x, axis=axis, keepdims=True)
    # a row of -inf has max -inf; shift it by 0 instead so exp gives 0s, not NaN
    m[~np.isfinite(m)] = 0.0
    np.subtract(x, m, out=x)
    np.exp(x, out=x)
    s = np.sum(x, axis=axis, keepdims=True)
    # s == 0 only for rows that were all -inf: they hold zeros already, leave them
    np.divide(x, s, out=x, where=s > 0)
    return x


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax of ``x`` along ``axis``; same shape and dtype (float32 or float64).

    Stable for any finite logits (the row maximum is subtracted before ``exp``);
    ``-inf`` entries (masked) get probability 0, and a row whose entries are all
    ``-inf`` returns **zeros**, not NaN.  NaN or ``+inf`` inputs raise ``ValueError``.
    """
    x = check_array("x", x, finite=False)
    if x.ndim == 0:
        raise ValueError("x must have at least one axis, got a 0-d array")
    if np.isnan(x).any() or np.isposinf(x).any():
        raise ValueError(f"x (shape {x.shape}) contains NaN or +inf; only -inf (masked) is allowed")
    _check_axis(axis, x)
    return softmax_(np.array(x, copy=True), axis)


def softmax_backward(dy: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of a loss through ``y = softmax(x)``, given ``dy = dL/dy``: returns ``dL/dx``.

    The Jacobian of one row is ``diag(y) - y y^T``, so
    ``dx = y * (dy - sum(dy * y, axis))`` -- O(n) per row, the n x n Jacobian is never
    formed.  Masked entries (y = 0) and all-masked rows get gradient 0.
    Shapes: dy and y the same shape; returns that shape in their dtype.
    """
    dy = check_array("dy", dy)
    y = check_array("y", y)
    if dy.shape != y.shape:
        raise ValueError(f"dy and y must have the same shape, got dy {dy.shape}, y {y.shape}")
    _check_axis(axis, y)
    return softmax_backward_(dy, y, axis)


def softmax_backward_(dy: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """:func:`softmax_backward` without input checks (a new array)."""
    dot = np.sum(dy * y, axis=axis, keepdims=True)
    return y * (dy - dot)


def _check_axis(axis: int, x: np.ndarray) -> None:
    if not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be an int in [-{x.ndim}, {x.ndim}) for x of shape "
                         f"{x.shape}, got {axis!r}")

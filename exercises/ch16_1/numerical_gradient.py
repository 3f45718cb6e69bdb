"""Exercise 16.1b -- a float64 central-difference gradient checker.

For a scalar function ``f`` of an array ``x``, the central difference

    g[k] = (f(x + eps*e_k) - f(x - eps*e_k)) / (2*eps)

approximates ``df/dx[k]`` with error O(eps**2) (the one-sided difference has error O(eps)).
Evaluating ``f`` in float64 keeps the rounding error (about 1e-16 / eps) far below that.
Plain NumPy only.
"""
from __future__ import annotations

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    Args:
        f: callable taking an array shaped like ``x`` and returning a Python/NumPy scalar.
        x: ndarray of any shape and float dtype. Not modified.
        eps: the step.

    Returns:
        float64 ndarray shaped like ``x``.
    """
    # BEGIN SOLUTION: return a float64 array g shaped like x with g[k] = (f(x+eps*e_k) -
    # f(x-eps*e_k)) / (2*eps) for every index k (np.ndindex). Work on a float64 copy of x, so f
    # always sees float64 values and the caller's x is never modified; restore each entry after
    # its two evaluations.
    xc = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros(xc.shape, dtype=np.float64)
    for k in np.ndindex(xc.shape):
        keep = xc[k]
        xc[k] = keep + eps
        f_plus = float(f(xc))
        xc[k] = keep - eps
        f_minus = float(f(xc))
        xc[k] = keep
        grad[k] = (f_plus - f_minus) / (2.0 * eps)
    return grad
    # END SOLUTION

"""Exercise 16.4c -- the backward pass of layer normalisation.

Forward (given below; ``torch.nn.LayerNorm`` over the last axis, D features)::

    mu   = mean(x)                      over the last axis, per position
    var  = mean((x - mu)**2)            biased variance, as torch
    xhat = (x - mu) / sqrt(var + eps)
    y    = gamma * xhat + beta          gamma, beta of shape (D,)

Given ``dy = dL/dy`` you return ``dx``, ``dgamma`` and ``dbeta``. ``dgamma`` and
``dbeta`` sum over every position. For ``dx`` remember that mu and var depend on
every x of the position: three paths (direct, through mu, through var) combine into
one short formula in terms of ``g = dy * gamma``, ``xhat`` and ``1/sqrt(var + eps)``.
Shapes: x and dy (..., D); gamma (D,). Keep the dtype; do not modify the inputs.
Plain NumPy only.
"""
from __future__ import annotations

import numpy as np


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Given: x (..., D) -> y (..., D), normalising over the last axis."""
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def layernorm_backward(dy, x, gamma, eps=1e-5):
    """Gradients of :func:`layernorm_forward`.

    Args:
        dy: (..., D) upstream gradient.
        x: (..., D) forward input.
        gamma: (D,) scale.
        eps: the forward's eps.

    Returns:
        (dx, dgamma, dbeta): shapes (..., D), (D,), (D,), all in ``x.dtype``.
    """
    # BEGIN SOLUTION: recompute mu, var (biased), rstd = 1/sqrt(var + eps) and xhat over the last
    # axis. dbeta = dy summed over all leading axes; dgamma = (dy * xhat) summed the same way.
    # With g = dy * gamma: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), means over the last
    # axis (keepdims).
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * rstd
    lead = tuple(range(x.ndim - 1))
    dbeta = dy.sum(axis=lead)
    dgamma = (dy * xhat).sum(axis=lead)
    g = dy * gamma
    dx = rstd * (g - g.mean(axis=-1, keepdims=True)
                 - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    return dx.astype(x.dtype), dgamma.astype(x.dtype), dbeta.astype(x.dtype)
    # END SOLUTION

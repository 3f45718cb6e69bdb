"""The two activations of the Transformer feed-forward block, with their derivatives.

* ReLU: ``max(x, 0)``; derivative 1 for x > 0, else 0 (torch uses 0 at x = 0 too).
* GELU, exact form (torch's default ``approximate='none'``):
  ``x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))``, Phi the standard normal CDF;
  derivative ``Phi(x) + x * phi(x)`` with ``phi(x) = exp(-x^2/2) / sqrt(2 pi)``.
  (The tanh formula is an approximation that differs by up to ~5e-4; it is not used.)
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

ACTIVATIONS = ("relu", "gelu")


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, x.dtype.type(0))


def relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    return dy * (x > 0)


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, ``0.5 x (1 + erf(x/sqrt 2))``, in x's dtype."""
    t = x.dtype.type
    return t(0.5) * x * (t(1.0) + erf(x * t(1.0 / math.sqrt(2.0))))


def gelu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dy * (Phi(x) + x phi(x))."""
    t = x.dtype.type
    cdf = t(0.5) * (t(1.0) + erf(x * t(1.0 / math.sqrt(2.0))))
    pdf = np.exp(t(-0.5) * x * x) * t(1.0 / math.sqrt(2.0 * math.pi))
    return dy * (cdf + x * pdf)


def get_activation(name: str):
    """``"relu"`` or ``"gelu"`` -> (forward, backward) functions."""
    if name == "relu":
        return relu, relu_backward
    if name == "gelu":
        return gelu, gelu_backward
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")

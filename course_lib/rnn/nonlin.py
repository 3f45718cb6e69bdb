"""The two gate nonlinearities, in place and overflow-free.

sigmoid(a) = 1 / (1 + exp(-a)) overflows exp for a < -88 in float32 (a warning,
and inf in an intermediate).  The identity sigmoid(a) = (1 + tanh(a/2)) / 2 is
exact, never overflows, and lets one ``np.tanh`` call serve all four LSTM gates:
halve the sigmoid gates' pre-activations, take tanh of the whole block, then map
the sigmoid columns by t -> t/2 + 1/2.  Halving is exact in binary floating point.
"""
from __future__ import annotations

import numpy as np


def sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Element-wise logistic function via tanh; same shape and dtype as ``a``."""
    out = np.multiply(a, a.dtype.type(0.5), out=out)
    np.tanh(out, out=out)
    out *= a.dtype.type(0.5)
    out += a.dtype.type(0.5)
    return out


def sigmoid_grad_from_output(s: np.ndarray) -> np.ndarray:
    """d sigmoid / da written with the output s: s (1 - s)."""
    return s * (1 - s)


def tanh_grad_from_output(t: np.ndarray) -> np.ndarray:
    """d tanh / da written with the output t: 1 - t^2."""
    return 1 - t * t

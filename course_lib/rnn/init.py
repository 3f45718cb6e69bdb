"""Weight initialisation, named for what each rule actually is.

PyTorch's recurrent layers draw *every* weight and bias from U(-k, k) with
k = 1/sqrt(hidden_size), whatever the input size (``torch.nn.LSTM`` docs).

The two rules usually quoted for feed-forward layers depend on a weight's fans.
For a matrix W of shape (fan_out, fan_in) that maps fan_in inputs to fan_out
outputs:

* Glorot / Xavier (Glorot & Bengio, 2010): Var(W) = 2 / (fan_in + fan_out),
  i.e. normal with std sqrt(2/(fan_in+fan_out)) or uniform with bound
  sqrt(6/(fan_in+fan_out)).  It balances forward and backward variance for
  linear / tanh units.
* He / Kaiming (He et al., 2015): Var(W) = 2 / fan_in, i.e. std sqrt(2/fan_in)
  or bound sqrt(6/fan_in).  The factor 2 compensates ReLU zeroing half the inputs.

For one gate's weights acting on [h, x] (shape (H, I+H)), fan_in = I + H and
fan_out = H.  A stacked matrix (4H, I) has fan_out 4H if taken whole; the
per-gate value H is the meaningful one, and :func:`gate_fans` returns it.
"""
from __future__ import annotations

import numpy as np

from ._args import check_dtype, check_size

SCHEMES = ("torch", "glorot_uniform", "glorot_normal", "he_normal", "he_uniform")


def torch_bound(hidden_size: int) -> float:
    """PyTorch's k = 1/sqrt(H) for every RNN/LSTM/GRU weight and bias."""
    return 1.0 / np.sqrt(check_size("hidden_size", hidden_size))


def glorot_std(fan_in: int, fan_out: int) -> float:
    """Standard deviation of Glorot (Xavier) normal: sqrt(2 / (fan_in + fan_out))."""
    return float(np.sqrt(2.0 / (fan_in + fan_out)))


def glorot_bound(fan_in: int, fan_out: int) -> float:
    """Bound of Glorot (Xavier) uniform: sqrt(6 / (fan_in + fan_out)) (same variance as the normal)."""
    return float(np.sqrt(6.0 / (fan_in + fan_out)))


def he_std(fan_in: int) -> float:
    """Standard deviation of He (Kaiming) normal for ReLU: sqrt(2 / fan_in)."""
    return float(np.sqrt(2.0 / fan_in))


def he_bound(fan_in: int) -> float:
    """Bound of He (Kaiming) uniform for ReLU: sqrt(6 / fan_in)."""
    return float(np.sqrt(6.0 / fan_in))


def gate_fans(weight_shape: tuple[int, int], n_gates: int) -> tuple[int, int]:
    """(fan_in, fan_out) of ONE gate block of a stacked (n_gates*H, fan_in) matrix."""
    rows, fan_in = weight_shape
    if rows % n_gates:
        raise ValueError(f"weight shape {weight_shape} does not stack {n_gates} gates")
    return fan_in, rows // n_gates


def init_weight(rng: np.random.Generator, shape: tuple[int, ...], scheme: str, hidden_size: int,
                n_gates: int, dtype=np.float32) -> np.ndarray:
    """Draw one parameter of a recurrent layer.

    ``shape`` is (n_gates*H, fan_in) for a weight or (n_gates*H,) for a bias.
    ``"torch"`` draws U(-1/sqrt(H), 1/sqrt(H)) for both; the other schemes use the
    per-gate fans for weights and set biases to zero.
    """
    dtype = check_dtype(dtype)
    if scheme not in SCHEMES:
        raise ValueError(f"init must be one of {SCHEMES}, got {scheme!r}")
    if scheme == "torch":
        k = torch_bound(hidden_size)
        return rng.uniform(-k, k, shape).astype(dtype)
    if len(shape) == 1:
        return np.zeros(shape, dtype)
    fan_in, fan_out = gate_fans(shape, n_gates)
    if scheme == "glorot_uniform":
        b = glorot_bound(fan_in, fan_out)
        return rng.uniform(-b, b, shape).astype(dtype)
    if scheme == "he_uniform":
        b = he_bound(fan_in)
        return rng.uniform(-b, b, shape).astype(dtype)
    std = glorot_std(fan_in, fan_out) if scheme == "glorot_normal" else he_std(fan_in)
    return (rng.standard_normal(shape) * std).astype(dtype)

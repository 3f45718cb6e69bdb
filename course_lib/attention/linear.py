"""A fully connected layer in PyTorch's layout: ``y = x @ W^T + b``.

Shapes: x (..., in), W (out, in) (``torch.nn.Linear.weight``), b (out,) -> y (..., out).
All leading dims are flattened into one so the product is a single GEMM of
(M, in) x (in, out) with M = prod(leading dims): 2*M*in*out flops.
"""
from __future__ import annotations

import math

import numpy as np

from .._validate import check_array
from .module import Module, as_rng, check_float_dtype


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """``x @ w.T + b`` over the last axis of x, as one 2-D matrix product (no input checks)."""
    x2 = x.reshape(-1, x.shape[-1])
    y = x2 @ w.T
    if b is not None:
        y += b
    return y.reshape(x.shape[:-1] + (w.shape[0],))


def linear_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray, has_bias: bool = True):
    """Gradients of :func:`linear`: returns (dx, dw, db); db is None without a bias.

    dx = dy @ W (..., in); dW = dy^T x summed over every leading index (out, in);
    db = dy summed over every leading index (out,).
    """
    dy2 = dy.reshape(-1, dy.shape[-1])
    x2 = x.reshape(-1, x.shape[-1])
    dx = (dy2 @ w).reshape(x.shape)
    dw = dy2.T @ x2
    db = dy2.sum(axis=0) if has_bias else None
    return dx, dw, db


def uniform_init(rng: np.random.Generator, shape, bound: float, dtype) -> np.ndarray:
    """Uniform(-bound, bound) draws in float64, cast to ``dtype`` (the same numbers for both dtypes)."""
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Linear(Module):
    """``torch.nn.Linear(in_features, out_features, bias)``: parameters ``weight`` (out, in), ``bias`` (out,).

    Initialised like PyTorch: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)) (the same
    distribution, not the same numbers: use ``load_state_dict`` to copy torch's).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype=np.float32, rng=None) -> None:
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"{name} must be an int >= 1, got {n!r}")
        dtype, rng = check_float_dtype(dtype), as_rng(rng)
        bound = 1.0 / math.sqrt(in_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.params["weight"] = uniform_init(rng, (out_features, in_features), bound, dtype)
        if bias:
            self.params["bias"] = uniform_init(rng, (out_features,), bound, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (..., in) -> (..., out)."""
        x = check_array("x", x)
        w = self.params["weight"]
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"x must have last dim in_features={self.in_features}, got shape {x.shape}")
        if x.dtype != w.dtype:
            raise TypeError(f"x has dtype {x.dtype} but the layer's weights are {w.dtype}")
        self._cache = {"x": x}
        return linear(x, w, self.params.get("bias"))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy (..., out) -> dx (..., in); sets ``grads['weight']`` (and ``grads['bias']``)."""
        x = self._cache["x"]
        dx, dw, db = linear_backward(dy, x, self.params["weight"], "bias" in self.params)
        self.grads = {"weight": dw} if db is None else {"weight": dw, "bias": db}
        return dx

"""A convolution layer object: parameters, forward with a cache, backward."""
from __future__ import annotations

import math

import numpy as np

from .._validate import as_pair
from .backward import conv2d_backward
from .backward_naive import conv2d_backward_naive
from .direct import conv2d_direct
from .naive import conv2d_naive

_ALGOS = {"direct": (conv2d_direct, conv2d_backward),
          "naive": (conv2d_naive, conv2d_backward_naive)}


class Conv2d:
    """2-D convolution layer with PyTorch's layout and default initialisation.

    weight: (C_out, C_in, KH, KW); bias: (C_out,) or None.  Both are drawn from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_in*KH*KW, which is what
    ``torch.nn.Conv2d`` gets from ``kaiming_uniform_(a=sqrt(5))``.

    ``forward(x)`` caches x; ``backward(dy)`` returns dx and stores ``.dw`` and ``.db``.
    ``algo`` picks the implementation pair: "direct" (default) or "naive".
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, *, dtype=np.float32, seed: int | None = None,
                 rng: np.random.Generator | None = None, algo: str = "direct"):
        if algo not in _ALGOS:
            raise ValueError(f"algo must be one of {sorted(_ALGOS)}, got {algo!r}")
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        kh, kw = as_pair("kernel_size", kernel_size, 1)
        self.stride = as_pair("stride", stride, 1)
        self.padding = as_pair("padding", padding, 0)
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        if rng is None:
            rng = np.random.default_rng(seed)
        bound = 1.0 / math.sqrt(in_channels * kh * kw)
        self.weight = rng.uniform(-bound, bound, (out_channels, in_channels, kh, kw)).astype(dtype)
        self.bias = rng.uniform(-bound, bound, out_channels).astype(dtype) if bias else None
        self.algo = algo
        self._forward, self._backward = _ALGOS[algo]
        self._x: np.ndarray | None = None
        self.dw: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (B, C_in, H, W) -> y (B, C_out, OH, OW); keeps x for the backward pass."""
        y = self._forward(x, self.weight, self.bias, self.stride, self.padding)
        self._x = x
        return y

    __call__ = forward

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy (B, C_out, OH, OW) -> dx (B, C_in, H, W); sets ``.dw`` and ``.db`` (None without bias)."""
        if self._x is None:
            raise RuntimeError("Conv2d.backward called before forward (no cached input)")
        dx, dw, db = self._backward(dy, self._x, self.weight, self.stride, self.padding)
        self.dw = dw
        self.db = db if self.bias is not None else None
        return dx

    def __repr__(self) -> str:
        co, ci, kh, kw = self.weight.shape
        return (f"Conv2d({ci}, {co}, kernel_size=({kh}, {kw}), stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}, "
                f"dtype={self.weight.dtype}, algo={self.algo!r})")

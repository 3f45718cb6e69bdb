"""Inverted dropout with a seeded NumPy generator.

In training mode each element is kept with probability 1-p and scaled by 1/(1-p), so
the expected output equals the input and evaluation mode can be the identity.  The
random numbers come from the module's own ``numpy.random.Generator``: the same seed
gives the same masks, call after call, which makes training runs reproducible.
(PyTorch's generator is a different one, so masks never match torch's; tests compare
with torch in evaluation mode, or pass the same mask to both.)
"""
from __future__ import annotations

import numpy as np

from .module import Module, as_rng


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode; identity in eval mode or for p = 0."""

    def __init__(self, p: float = 0.5, *, rng=None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability p must be a number in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = as_rng(rng)

    @property
    def active(self) -> bool:
        return self.training and self.p > 0.0

    def mask(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        """Draw a fresh keep-mask already scaled by 1/(1-p): values 0 or 1/(1-p)."""
        keep = self.rng.random(shape) >= self.p
        return keep.astype(dtype) * dtype.type(1.0 / (1.0 - self.p))

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.active:
            self._cache = {"scale": None}
            return x
        m = self.mask(x.shape, x.dtype)
        self._cache = {"scale": m}
        return x * m

    def backward(self, dy: np.ndarray) -> np.ndarray:
        m = self._cache["scale"]
        return dy if m is None else dy * m

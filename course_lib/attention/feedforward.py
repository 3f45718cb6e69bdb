"""The position-wise feed-forward block of a Transformer layer.

``FF(x) = linear2(dropout(act(linear1(x))))``: x (..., d_model) -> hidden
(..., dim_feedforward) -> (..., d_model), applied to every position independently.
Parameter names are those of ``torch.nn.TransformerEncoderLayer``
(``linear1.weight`` (d_ff, d_model), ``linear1.bias``, ``linear2.weight``
(d_model, d_ff), ``linear2.bias``).  Cost: 4 * M * d_model * d_ff flops for M
positions -- with d_ff = 4 d_model this is twice the attention projections' cost.
"""
from __future__ import annotations

import numpy as np

from .activations import get_activation
from .dropout import Dropout
from .linear import Linear
from .module import Module, as_rng


class FeedForward(Module):
    """``linear1 -> activation ('relu' or exact 'gelu') -> dropout -> linear2``."""

    def __init__(self, d_model: int, dim_feedforward: int, activation: str = "relu",
                 dropout: float = 0.0, bias: bool = True, *, dtype=np.float32, rng=None) -> None:
        super().__init__()
        rng = as_rng(rng)
        self.act, self.act_backward = get_activation(activation)
        self.activation = activation
        self.linear1 = Linear(d_model, dim_feedforward, bias, dtype=dtype, rng=rng)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias, dtype=dtype, rng=rng)
        self._children = {"linear1": self.linear1, "dropout": self.dropout,
                          "linear2": self.linear2}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (..., d_model) -> (..., d_model)."""
        h = self.linear1(x)
        a = self.act(h)
        self._cache = {"h": h}
        return self.linear2(self.dropout(a))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy (..., d_model) -> dx; gradients land in linear1.grads / linear2.grads."""
        da = self.dropout.backward(self.linear2.backward(dy))
        return self.linear1.backward(self.act_backward(da, self._cache["h"]))

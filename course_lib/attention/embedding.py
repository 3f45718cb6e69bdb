"""Token embedding: row ``i`` of a (vocab, d_model) table is the vector of token ``i``.

The forward pass is a gather ``W[tokens]``; the backward pass is the matching
scatter-add: every occurrence of token i adds its upstream gradient to row i
(``np.add.at`` handles repeated tokens, which plain fancy-index assignment would not).
"""
from __future__ import annotations

import numpy as np

from .module import Module, as_rng, check_float_dtype


class Embedding(Module):
    """``torch.nn.Embedding(num_embeddings, embedding_dim)``: parameter ``weight`` ~ N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, *, dtype=np.float32,
                 rng=None) -> None:
        super().__init__()
        dtype, rng = check_float_dtype(dtype), as_rng(rng)
        self.params["weight"] = rng.standard_normal((num_embeddings, embedding_dim)).astype(dtype)

    def forward(self, tokens: np.ndarray) -> np.ndarray:
        """tokens (...) integers in [0, vocab) -> (..., embedding_dim)."""
        tokens = np.asarray(tokens)
        V = self.params["weight"].shape[0]
        if tokens.dtype.kind not in "iu":
            raise TypeError(f"tokens must be integers, got dtype {tokens.dtype}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= V):
            raise ValueError(f"tokens must lie in [0, {V}), got values in "
                             f"[{tokens.min()}, {tokens.max()}]")
        self._cache = {"tokens": tokens}
        return self.params["weight"][tokens]

    def backward(self, dy: np.ndarray) -> None:
        """Scatter-add ``dy`` into ``grads['weight']``; tokens have no gradient (returns None)."""
        w = self.params["weight"]
        g = np.zeros_like(w)
        tokens = self._cache["tokens"]
        np.add.at(g, tokens.reshape(-1), dy.reshape(-1, w.shape[1]))
        self.grads = {"weight": g}
        return None

"""A tiny end-to-end training run built only on this package: learn to reverse digits.

Task: the input is a sequence of L random digits (0-9); the target at position i is
the input digit at position L-1-i.  Which digit goes where depends only on positions,
so the model must learn to attend from position i to position L-1-i -- the attention
maps of the trained model show that anti-diagonal.

Model (batch-first throughout)::

    tokens (N, L) -> Embedding (N, L, d) + sinusoidal PE
                  -> num_layers x TransformerEncoderLayer (pre-LN, no dropout)
                  -> final LayerNorm -> Linear (N, L, vocab) -> cross entropy

Trained with :class:`~.optim.Adam` from fresh random batches (no data set to overfit).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .blas_threads import blas_threads
from .embedding import Embedding
from .encoder_layer import TransformerEncoderLayer
from .layernorm import LayerNorm
from .linear import Linear
from .loss import cross_entropy
from .module import Module, as_rng
from .optim import Adam
from .positional import sinusoidal_positional_encoding


class TinyEncoder(Module):
    """Embedding + positional encoding + encoder layers + a linear read-out per position."""

    def __init__(self, vocab: int = 10, d_model: int = 32, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int = 64, max_len: int = 64, dropout: float = 0.0,
                 norm_first: bool = True, *, dtype=np.float32, rng=None) -> None:
        super().__init__()
        rng = as_rng(rng)
        self.d_model = d_model
        self.embed = Embedding(vocab, d_model, dtype=dtype, rng=rng)
        self.pe = sinusoidal_positional_encoding(max_len, d_model, dtype=dtype)
        self.layers = [TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                               batch_first=True, norm_first=norm_first,
                                               dtype=dtype, rng=rng)
                       for _ in range(num_layers)]
        self.norm = LayerNorm(d_model, dtype=dtype)
        self.head = Linear(d_model, vocab, dtype=dtype, rng=rng)
        self._children = {"embed": self.embed, **{f"layers.{i}": l for i, l in enumerate(self.layers)},
                          "norm": self.norm, "head": self.head}

    def forward(self, tokens: np.ndarray) -> np.ndarray:
        """tokens (N, L) ints -> logits (N, L, vocab)."""
        L = tokens.shape[1]
        # no sqrt(d) scaling of the embedding: at d = 32 it would drown the position signal
        x = self.embed(tokens) + self.pe[:L]
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x))

    def backward(self, dlogits: np.ndarray) -> None:
        """Gradients of every parameter (read them with :meth:`named_grads`)."""
        d = self.norm.backward(self.head.backward(dlogits))
        for layer in reversed(self.layers):
            d = layer.backward(d)
        self.embed.backward(d)

    def attention_maps(self) -> list[np.ndarray]:
        """The attention probabilities of the last forward call: one (N, H, L, L) per layer."""
        return [layer.self_attn._cache["probs"] for layer in self.layers]


def reverse_batch(rng: np.random.Generator, n: int, length: int, vocab: int = 10):
    """(tokens, targets), both (n, length) int64: targets are the tokens reversed."""
    tokens = rng.integers(0, vocab, size=(n, length))
    return tokens, tokens[:, ::-1].copy()


@dataclass
class TrainResult:
    model: TinyEncoder
    losses: list[float] = field(default_factory=list)        # per step
    accuracies: list[float] = field(default_factory=list)    # per step, on the training batch
    test_accuracy: float = 0.0     # token accuracy on fresh sequences, eval mode
    sequence_accuracy: float = 0.0  # fraction of fresh sequences reversed without a mistake
    seconds: float = 0.0


def train_reverse(steps: int = 300, batch: int = 64, length: int = 8, vocab: int = 10,
                  d_model: int = 32, nhead: int = 4, num_layers: int = 2,
                  dim_feedforward: int = 64, lr: float = 3e-3, seed: int = 0,
                  test_size: int = 1000, threads: int | None = 1) -> TrainResult:
    """Train a :class:`TinyEncoder` to reverse digit sequences; return losses and accuracies.

    Seeded: the same arguments give the same numbers.  The defaults take a few seconds
    on a 2-core CPU.  ``threads``: BLAS threads while training (1 is fastest for
    matrices this small; None leaves the setting alone).
    """
    with blas_threads(threads):
        return _train(steps, batch, length, vocab, d_model, nhead, num_layers,
                      dim_feedforward, lr, seed, test_size)


def _train(steps, batch, length, vocab, d_model, nhead, num_layers, dim_feedforward, lr, seed,
           test_size) -> TrainResult:
    rng = np.random.default_rng(seed)
    model = TinyEncoder(vocab, d_model, nhead, num_layers, dim_feedforward, max_len=length,
                        rng=rng)
    opt = Adam(model.named_parameters(), lr=lr)
    result = TrainResult(model)
    t0 = time.perf_counter()
    for _ in range(steps):
        tokens, targets = reverse_batch(rng, batch, length, vocab)
        logits = model(tokens)
        loss, dlogits = cross_entropy(logits, targets)
        model.backward(dlogits)
        opt.step(model.named_grads())
        result.losses.append(loss)
        result.accuracies.append(float(np.mean(logits.argmax(-1) == targets)))
    result.seconds = time.perf_counter() - t0
    model.eval()
    tokens, targets = reverse_batch(np.random.default_rng(seed + 1), test_size, length, vocab)
    pred = model(tokens).argmax(-1)
    result.test_accuracy = float(np.mean(pred == targets))
    result.sequence_accuracy = float(np.mean((pred == targets).all(axis=1)))
    return result

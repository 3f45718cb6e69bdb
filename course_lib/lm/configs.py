"""Configurations of the two language models of 16.6, as plain data.

The modules (:mod:`.lstm_lm`, :mod:`.transformer_lm`) are built from these, and the
analytic counts (:mod:`.counts`) read them without touching any module, so a count can
be checked against the module it describes.

Named sizes:

* :data:`SOURCE_SIZED_LSTM` -- vocab 32,000, d_embed = hidden = 1024, 2 layers, head
  tied to the embedding: 49.6 M parameters (the source's table says "50M" for a 2-layer
  LSTM).  Tying needs d_embed = hidden; a hidden size of 1024 is what puts the two
  recurrent layers (16.8 M) next to a 32.8 M embedding.
* :data:`SOURCE_SIZED_TRANSFORMER` -- vocab 32,000, d_model 768, 6 layers, 12 heads,
  d_ff 3072 (the BERT-base/GPT-2-small block), learned positions up to 2048, head tied:
  68.7 M parameters (the source: "65M" for 6 layers; 42.5 M of ours are the blocks,
  24.6 M the token embedding, 1.6 M the position table).  max_len 2048, not the source's
  512, so that decoding can be measured at contexts up to 2047.
* :data:`TINY_LSTM`, :data:`TINY_TRANSFORMER` -- a few thousand parameters, for tests.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


def _check_positive(**values) -> None:
    for name, v in values.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")


@dataclass(frozen=True)
class LSTMLMConfig:
    """Embedding (vocab, d_embed) -> ``layers`` LSTM layers of width ``hidden`` -> head.

    ``tie_weights``: the head's weight is the embedding matrix (needs d_embed = hidden);
    the head keeps its own bias of ``vocab`` entries either way.
    """

    vocab: int
    d_embed: int
    hidden: int
    layers: int = 2
    tie_weights: bool = True

    def __post_init__(self):
        _check_positive(vocab=self.vocab, d_embed=self.d_embed, hidden=self.hidden,
                        layers=self.layers)
        if self.tie_weights and self.d_embed != self.hidden:
            raise ValueError(f"tie_weights=True needs d_embed == hidden (the head reuses the "
                             f"embedding matrix), got d_embed={self.d_embed}, "
                             f"hidden={self.hidden}")

    def to_dict(self) -> dict:
        return {"kind": "lstm", **asdict(self)}


@dataclass(frozen=True)
class TransformerLMConfig:
    """Decoder-only Transformer: token + learned position embedding, ``layers`` pre-LN
    blocks (causal self-attention with ``heads`` heads, GELU FFN of width ``d_ff``), final
    LayerNorm, head tied to the token embedding (no bias).  ``max_len``: positions."""

    vocab: int
    d_model: int
    layers: int = 6
    heads: int = 12
    d_ff: int = 3072
    max_len: int = 2048

    def __post_init__(self):
        _check_positive(vocab=self.vocab, d_model=self.d_model, layers=self.layers,
                        heads=self.heads, d_ff=self.d_ff, max_len=self.max_len)
        if self.d_model % self.heads:
            raise ValueError(f"d_model must be divisible by heads, got d_model={self.d_model}, "
                             f"heads={self.heads}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads

    def to_dict(self) -> dict:
        return {"kind": "transformer", **asdict(self)}


SOURCE_SIZED_LSTM = LSTMLMConfig(vocab=32_000, d_embed=1024, hidden=1024, layers=2,
                                 tie_weights=True)
SOURCE_SIZED_TRANSFORMER = TransformerLMConfig(vocab=32_000, d_model=768, layers=6, heads=12,
                                               d_ff=3072, max_len=2048)
TINY_LSTM = LSTMLMConfig(vocab=50, d_embed=16, hidden=16, layers=2, tie_weights=True)
TINY_TRANSFORMER = TransformerLMConfig(vocab=50, d_model=16, layers=2, heads=2, d_ff=32,
                                       max_len=32)

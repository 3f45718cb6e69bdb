"""A 2-layer LSTM language model: embedding -> torch.nn.LSTM -> linear head.

Shapes (B batch, T time steps, V vocab, E = d_embed, H = hidden, L = layers)::

    tokens (B, T) int64 -> embed (B, T, E) -> LSTM -> outputs (B, T, H) -> logits (B, T, V)
    state = (h, c), each (L, B, H)

The whole state carried from one token to the next is (h, c): 2·L·B·H numbers, whatever
the length of the text so far -- the property 16.6 sets against the Transformer's KV
cache, which grows with every token (:func:`.counts.lstm_state_bytes`).

Generation feeds one token at a time (:meth:`LSTMLanguageModel.step`), which is the same
computation as the full-sequence forward cut into T calls (tested).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_index, check_tokens
from .configs import LSTMLMConfig

State = tuple[torch.Tensor, torch.Tensor]


class LSTMLanguageModel(nn.Module):
    """Embedding (V, E), ``layers`` LSTM layers (``torch.nn.LSTM``, batch_first), head.

    ``tie_weights=True``: the head's weight *is* the embedding matrix (E = H required),
    plus a bias of V entries; otherwise the head is ``nn.Linear(H, V)``.
    """

    def __init__(self, vocab: int, d_embed: int, hidden: int, layers: int = 2,
                 tie_weights: bool = True):
        super().__init__()
        self.config = LSTMLMConfig(vocab, d_embed, hidden, layers, tie_weights)
        self.embed = nn.Embedding(vocab, d_embed)
        self.lstm = nn.LSTM(d_embed, hidden, num_layers=layers, batch_first=True)
        if tie_weights:
            self.head = None
            self.head_bias = nn.Parameter(torch.zeros(vocab))
        else:
            self.head = nn.Linear(hidden, vocab)
            self.head_bias = None

    @classmethod
    def from_config(cls, cfg: LSTMLMConfig) -> "LSTMLanguageModel":
        return cls(cfg.vocab, cfg.d_embed, cfg.hidden, cfg.layers, cfg.tie_weights)

    def head_weight(self) -> torch.Tensor:
        """(V, H): the embedding matrix when tied, the head's own weight otherwise."""
        return self.embed.weight if self.head is None else self.head.weight

    def init_state(self, batch: int, dtype: torch.dtype | None = None,
                   device: torch.device | str | None = None) -> State:
        """Zero (h, c), each (L, B, H), in the model's dtype and device by default."""
        check_index("batch", batch, 1)
        p = self.embed.weight
        shape = (self.config.layers, batch, self.config.hidden)
        return (torch.zeros(shape, dtype=dtype or p.dtype, device=device or p.device),
                torch.zeros(shape, dtype=dtype or p.dtype, device=device or p.device))

    def _check_state(self, state, batch: int) -> None:
        want = (self.config.layers, batch, self.config.hidden)
        if (not isinstance(state, (tuple, list)) or len(state) != 2
                or not all(isinstance(s, torch.Tensor) for s in state)):
            raise TypeError(f"state must be a pair (h, c) of tensors of shape {want}, got "
                            f"{type(state).__name__}")
        shapes = tuple(tuple(s.shape) for s in state)
        if shapes != (want, want):
            raise ValueError(f"state (h, c) must have shapes {want} (layers, batch, hidden), "
                             f"got {shapes}")

    def forward(self, tokens: torch.Tensor, state: State | None = None
                ) -> tuple[torch.Tensor, State]:
        """tokens (B, T) int64 -> (logits (B, T, V), state (h, c) after the last token)."""
        check_tokens(tokens, self.config.vocab)
        if state is not None:
            self._check_state(state, tokens.shape[0])
        out, state = self.lstm(self.embed(tokens), state)
        bias = self.head_bias if self.head is None else self.head.bias
        return F.linear(out, self.head_weight(), bias), state

    def step(self, token: torch.Tensor, state: State | None = None
             ) -> tuple[torch.Tensor, State]:
        """One token per sequence: token (B,) int64 -> (logits (B, V), new state)."""
        if not isinstance(token, torch.Tensor) or token.dim() != 1:
            got = (tuple(token.shape) if isinstance(token, torch.Tensor)
                   else type(token).__name__)
            raise ValueError(f"token must be a 1-D tensor (B,) of token ids, got {got}")
        logits, state = self(token[:, None], state)
        return logits[:, 0], state

    @torch.no_grad()
    def generate(self, prompt: torch.Tensor, steps: int) -> torch.Tensor:
        """Greedy continuation: prompt (B, P) -> the next ``steps`` tokens (B, steps).

        The prompt is read in one forward; each new token then costs one :meth:`step`,
        carrying (h, c) only.
        """
        check_index("steps", steps, 1)
        logits, state = self(prompt)
        tok = logits[:, -1].argmax(-1)
        out = [tok]
        for _ in range(steps - 1):
            logits, state = self.step(tok, state)
            tok = logits.argmax(-1)
            out.append(tok)
        return torch.stack(out, dim=1)

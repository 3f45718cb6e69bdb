"""Input checks of the language models: token ids, positions, states."""
from __future__ import annotations

import torch


def check_tokens(tokens: object, vocab: int, name: str = "tokens") -> torch.Tensor:
    """``tokens`` must be an int64 tensor of shape (B, T), T >= 1, ids in [0, vocab)."""
    if not isinstance(tokens, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of token ids, got {type(tokens).__name__}")
    if tokens.dtype != torch.int64:
        raise TypeError(f"{name} must have dtype torch.int64 (token ids), got {tokens.dtype} "
                        f"(shape {tuple(tokens.shape)}); convert with {name}.long()")
    if tokens.dim() != 2 or tokens.shape[1] < 1 or tokens.shape[0] < 1:
        raise ValueError(f"{name} must have shape (B, T) with B, T >= 1, got "
                         f"{tuple(tokens.shape)}")
    lo, hi = int(tokens.min()), int(tokens.max())
    if lo < 0 or hi >= vocab:
        raise ValueError(f"{name} ids must lie in [0, vocab={vocab}), got min {lo}, max {hi}")
    return tokens


def check_index(name: str, value: object, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value

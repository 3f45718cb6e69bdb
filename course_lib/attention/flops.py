"""Flop and memory counts of the blocks of an attention layer (one forward pass).

A multiply-add counts as 2 flops; ``exp``, a division and a square root count as 1
each (their real cost differs per machine, which the benchmark shows).  Shapes:
batch N, L queries, S keys, width E, H heads, feed-forward width F.
"""
from __future__ import annotations


def mha_flops(N: int, L: int, S: int, E: int, H: int, kdim: int | None = None,
              vdim: int | None = None) -> dict[str, int]:
    """Flops of each step of multi-head attention (forward), by step name."""
    kdim, vdim = kdim or E, vdim or E
    return {
        "q projection": 2 * N * L * E * E,
        "k projection": 2 * N * S * kdim * E,
        "v projection": 2 * N * S * vdim * E,
        "scores Q K^T": 2 * N * L * S * E,          # H heads of width E/H
        "softmax": 5 * N * H * L * S,               # max, subtract, exp, sum, divide
        "P V": 2 * N * L * S * E,
        "out projection": 2 * N * L * E * E,
    }


def encoder_layer_flops(N: int, S: int, E: int, H: int, F: int) -> dict[str, int]:
    """Flops of each block of a Transformer encoder layer (self-attention, L = S)."""
    out = {f"attention: {k}": v for k, v in mha_flops(N, S, S, E, H).items()}
    out["feed-forward linear1"] = 2 * N * S * E * F
    out["activation"] = N * S * F
    out["feed-forward linear2"] = 2 * N * S * F * E
    out["2 LayerNorms + 2 residual adds"] = 2 * 8 * N * S * E + 2 * N * S * E
    return out


def attention_matrix_bytes(batch: int, heads: int, L: int, S: int | None = None,
                           bytes_per_value: int = 4) -> int:
    """Bytes of one (batch, heads, L, S) score or probability array -- the N^2 term."""
    S = L if S is None else S
    return batch * heads * L * S * bytes_per_value

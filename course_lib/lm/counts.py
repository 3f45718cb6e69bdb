"""Analytic sizes and costs of the two language models, from their configs alone.

Nothing here builds a module: the tests compare these formulas with the modules'
actual parameter counts and tensor sizes, so each side checks the other.

Notation: V vocab, L layers, B batch, T sequence length, n context (tokens already
seen); LSTM: E = d_embed, H = hidden; Transformer: d = d_model, f = d_ff, P = max_len.
A multiply-add counts as 2 FLOPs; only matrix products are counted (LayerNorm, GELU,
softmax and the LSTM's gate nonlinearities are O(d) per token per layer, under 1 % of
the total at the named sizes).

**LSTM parameters.**  Embedding V·E.  Layer l (input width i_l = E for l = 0, H
after) has W_ih (4H, i_l), W_hh (4H, H) and two bias vectors of 4H (torch keeps b_ih
and b_hh): 4H(i_l + H) + 8H.  Head: tied -> only its bias V; untied -> H·V + V.

**Transformer parameters.**  Token embedding V·d, position table P·d.  One block:
LN1 2d; W_qkv 3d² + 3d; W_o d² + d; LN2 2d; W_1 d·f + f; W_2 f·d + d; in all
4d² + 2d·f + 9d + f.  Final LayerNorm 2d.  Tied head: no parameters of its own.

**Forward FLOPs, full sequence.**  LSTM, per token: layer l 2·4H·i_l (input
projection) + 2·4H·H (recurrence); head 2·H·V -- the same for every token, so a
sequence costs T times that.  Transformer, per token per layer: projections
2·(3d² + d²) + FFN 2·2·d·f; head 2·d·V per token.  Attention: query at position t
(0-based) scores against t + 1 keys (2·d·(t + 1): QKᵀ over all heads) and mixes t + 1
values (another 2·d·(t + 1)).  Summed over t = 0..T-1 that is 4d·T(T+1)/2 =
2d·T(T+1) per layer with the causal mask's zero half *skipped*; a kernel that computes
the full T×T score matrix and masks it afterwards (the math backend) does 4d·T² --
:func:`transformer_forward_flops` gives either (``causal_skip``).

**Decode FLOPs** (one new token after n cached ones): LSTM, the per-token cost above,
independent of n.  Transformer with a KV cache: the per-token projections, FFN and
head, plus 4d·(n + 1) per layer of attention against the n + 1 keys.  Without a cache,
the whole prefix is recomputed: a full forward of n + 1 tokens.

**Training step** (forward + cross-entropy + backward): each matrix product's backward
is two products of the same size (input and weight gradients), so 3 × forward.

**State.**  LSTM: (h, c), 2·L·B·H numbers, independent of the context.  KV cache at
n tokens: keys and values, L·2·B·n·d numbers.
"""
from __future__ import annotations

import torch

from .configs import LSTMLMConfig, TransformerLMConfig


def itemsize(dtype: torch.dtype | str | int) -> int:
    """Bytes per element of a torch dtype, its name ("float16") or an int itemsize."""
    if isinstance(dtype, int) and not isinstance(dtype, bool):
        if dtype not in (1, 2, 4, 8):
            raise ValueError(f"dtype as an itemsize must be 1, 2, 4 or 8 bytes, got {dtype}")
        return dtype
    if isinstance(dtype, str):
        dt = getattr(torch, dtype, None)
        if not isinstance(dt, torch.dtype):
            raise ValueError(f"dtype {dtype!r} is not a torch dtype name")
        dtype = dt
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype, its name or an itemsize, got {dtype!r}")
    return torch.empty((), dtype=dtype).element_size()


def _lstm_inputs(cfg: LSTMLMConfig) -> list[int]:
    return [cfg.d_embed] + [cfg.hidden] * (cfg.layers - 1)


def lstm_lm_params(cfg: LSTMLMConfig) -> int:
    """Parameters of :class:`.LSTMLanguageModel` (derivation: module doc)."""
    H, V = cfg.hidden, cfg.vocab
    layers = sum(4 * H * (i + H) + 8 * H for i in _lstm_inputs(cfg))
    head = V if cfg.tie_weights else H * V + V
    return V * cfg.d_embed + layers + head


def transformer_block_params(cfg: TransformerLMConfig) -> int:
    d, f = cfg.d_model, cfg.d_ff
    return 4 * d * d + 2 * d * f + 9 * d + f


def transformer_lm_params(cfg: TransformerLMConfig) -> int:
    """Parameters of :class:`.TransformerLanguageModel` (tied head; module doc)."""
    d = cfg.d_model
    return (cfg.vocab + cfg.max_len) * d + cfg.layers * transformer_block_params(cfg) + 2 * d


def lstm_flops_per_token(cfg: LSTMLMConfig) -> int:
    """Forward FLOPs per token (full sequence or decoding: the same)."""
    H = cfg.hidden
    return sum(8 * H * i + 8 * H * H for i in _lstm_inputs(cfg)) + 2 * H * cfg.vocab


def lstm_forward_flops(cfg: LSTMLMConfig, batch: int, seq_len: int) -> int:
    """Forward FLOPs of a (batch, seq_len) sequence."""
    return batch * seq_len * lstm_flops_per_token(cfg)


def _transformer_dense_per_token(cfg: TransformerLMConfig) -> int:
    d, f = cfg.d_model, cfg.d_ff
    return cfg.layers * (8 * d * d + 4 * d * f) + 2 * d * cfg.vocab


def transformer_forward_flops(cfg: TransformerLMConfig, batch: int, seq_len: int,
                              causal_skip: bool = True) -> int:
    """Forward FLOPs of a (batch, seq_len) sequence from position 0.

    ``causal_skip``: count only the scores a causal mask keeps (2d·T(T+1) per layer);
    False: the full T×T (4d·T² per layer), what the math backend computes.
    """
    d, T = cfg.d_model, seq_len
    attn = 2 * d * T * (T + 1) if causal_skip else 4 * d * T * T
    return batch * (T * _transformer_dense_per_token(cfg) + cfg.layers * attn)


def transformer_decode_flops(cfg: TransformerLMConfig, context: int, batch: int = 1,
                             cached: bool = True) -> int:
    """FLOPs to produce one token per sequence after ``context`` tokens.

    ``cached``: projections of the new token only, attention to context + 1 keys;
    otherwise a full forward of context + 1 tokens (causal half skipped).
    """
    if not cached:
        return transformer_forward_flops(cfg, batch, context + 1)
    d = cfg.d_model
    return batch * (_transformer_dense_per_token(cfg) + cfg.layers * 4 * d * (context + 1))


def train_step_flops(forward_flops: int) -> int:
    """Forward + backward: backward does two products per forward product."""
    return 3 * forward_flops


def kv_cache_bytes(cfg: TransformerLMConfig, batch: int, length: int,
                   dtype: torch.dtype | str | int = torch.float32) -> int:
    """Keys and values of ``length`` tokens for every layer: L·2·B·length·d·itemsize."""
    return cfg.layers * 2 * batch * length * cfg.d_model * itemsize(dtype)


def lstm_state_bytes(cfg: LSTMLMConfig, batch: int,
                     dtype: torch.dtype | str | int = torch.float32) -> int:
    """(h, c) of every layer: 2·L·B·H·itemsize, whatever the context length."""
    return 2 * cfg.layers * batch * cfg.hidden * itemsize(dtype)


def lstm_forward_activation_bytes(cfg: LSTMLMConfig, batch: int, seq_len: int,
                                  dtype: torch.dtype | str | int = torch.float32) -> dict:
    """Tensors an inference forward must hold at its peak, in bytes (an estimate).

    ``logits`` (B, T, V) -- the output; at the head the LSTM's outputs (B, T, H) are
    alive; inside the LSTM a layer's input and output sequences (B, T, i_l), (B, T, H) and
    the input projections of all steps (B, T, 4H), which torch computes in one GEMM.
    ``total`` is the larger of the two moments (head, or inside the last layer).
    """
    s, B, T, H = itemsize(dtype), batch, seq_len, cfg.hidden
    parts = {"logits": B * T * cfg.vocab * s, "layer_io": B * T * (max(_lstm_inputs(cfg)) + H) * s,
             "gate_inputs": B * T * 4 * H * s}
    at_head = parts["logits"] + B * T * H * s
    in_lstm = parts["layer_io"] + parts["gate_inputs"]
    return {**parts, "total": max(at_head, in_lstm)}


def transformer_forward_activation_bytes(cfg: TransformerLMConfig, batch: int, seq_len: int,
                                         dtype: torch.dtype | str | int = torch.float32,
                                         scores: bool = True, score_copies: int = 2) -> dict:
    """Tensors an inference forward must hold at its peak, in bytes (an estimate).

    ``logits`` (B, T, V); inside a block the residual stream (B, T, d), the q/k/v
    projection (B, T, 3d) and the FFN hidden layer (B, T, f); with ``scores`` (the math
    backend) ``score_copies`` tensors of (B, h, T, T) -- the L×L term that a fused (flash)
    kernel never stores.  Two (the scores and their softmax) is the least any unfused
    implementation holds; torch 2.13's CPU math path was measured holding about three
    (the masked scores are a further copy).  ``total``: the larger of the head moment
    (logits + residual) and the block moment.  Weights, and workspace such as a BLAS
    library's packed copy of a weight matrix, are not included.
    """
    s, B, T, d = itemsize(dtype), batch, seq_len, cfg.d_model
    parts = {"logits": B * T * cfg.vocab * s, "residual": B * T * d * s,
             "qkv": B * T * 3 * d * s, "ffn_hidden": B * T * cfg.d_ff * s,
             "scores": score_copies * B * cfg.heads * T * T * s if scores else 0}
    block = parts["residual"] + max(parts["qkv"] + parts["scores"], parts["ffn_hidden"])
    return {**parts, "total": max(parts["logits"] + parts["residual"], block)}

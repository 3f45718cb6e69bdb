"""A decoder-only (causal) Transformer language model with a KV cache.

Shapes (B batch, T new tokens, d = d_model, h heads, e = d / h, V vocab)::

    tokens (B, T) int64 at positions start_pos .. start_pos + T - 1
    x = tok_embed[tokens] + pos_embed[positions]                  (B, T, d)
    per block (pre-LN):  x = x + Attn(LN1(x));  x = x + FFN(LN2(x))
        Attn: qkv = LN1(x) W_qkv + b  -> q, k, v (B, h, T, e); with a cache, k and v of
              the new tokens are stored and the keys/values of all start_pos + T
              positions are read back; out = SDPA(q, k, v) (B, T, d) -> W_o
        FFN:  GELU(x W_1 + b_1) W_2 + b_2,   W_1 (d, d_ff)
    logits = LN_f(x) tok_embedᵀ                                   (B, T, V)  (tied head)

Causality: query i of the chunk sits at position start_pos + i and sees keys
j <= start_pos + i.  ``is_causal=True`` in SDPA aligns the mask top-left (j <= i), right
only when the keys start with the chunk itself (no cache, or start_pos = 0); one new
token (T = 1) may see every stored key, so it needs no mask; a chunk appended after a
prefix gets an explicit boolean mask.

Attention backend (:class:`~torch.nn.attention.SDPBackend`): ``backend=None`` lets
torch choose; "math" (the explicit softmax(QKᵀ/√e)V, which materialises the (T, S)
score matrix per head), "flash" (FLASH_ATTENTION, tiled, no score matrix), "efficient"
(EFFICIENT_ATTENTION) or "cudnn".  The CPU build of torch 2.13 runs MATH and
FLASH_ATTENTION (float32 and float64, with or without masks); EFFICIENT_ATTENTION and
CUDNN_ATTENTION are CUDA-only and fail there with "No viable backend".
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from ._checks import check_index, check_tokens
from .configs import TransformerLMConfig
from .kv_cache import KVCache

BACKENDS = {"math": SDPBackend.MATH, "flash": SDPBackend.FLASH_ATTENTION,
            "efficient": SDPBackend.EFFICIENT_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}


def check_backend(backend: str | None) -> str | None:
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend must be None or one of {sorted(BACKENDS)}, got {backend!r}")
    return backend


def backend_context(backend: str | None):
    """``sdpa_kernel`` restricted to one backend, or a no-op for ``None``."""
    check_backend(backend)
    return contextlib.nullcontext() if backend is None else sdpa_kernel(BACKENDS[backend])


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: one (d, 3d) projection for q, k, v, one (d, d) out."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, d_model // heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, T, d) -> q, k, v, each (B, h, T, e)."""
        B, T, _ = x.shape
        qkv = self.qkv(x).view(B, T, 3, self.heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        return q, k, v

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0,
                start_pos: int = 0) -> torch.Tensor:
        B, T, d = x.shape
        q, k, v = self.split_heads(x)
        mask, causal = None, True
        if cache is not None:
            k, v = cache.write(layer, start_pos, k, v)
            if start_pos > 0:
                causal = False
                if T > 1:     # bottom-right aligned: query i sees keys j <= start_pos + i
                    j = torch.arange(start_pos + T, device=x.device)
                    i = torch.arange(T, device=x.device)[:, None]
                    mask = j <= start_pos + i
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal and T > 1)
        return self.out(y.transpose(1, 2).reshape(B, T, d))


class DecoderBlock(nn.Module):
    """Pre-LN block: x + Attn(LN(x)), then x + FFN(LN(x)) with a GELU FFN."""

    def __init__(self, d_model: int, heads: int, d_ff: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0,
                start_pos: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), cache, layer, start_pos)
        return x + self.ff2(F.gelu(self.ff1(self.ln2(x))))


class TransformerLanguageModel(nn.Module):
    """Token + learned position embedding, ``layers`` pre-LN decoder blocks, final
    LayerNorm, head tied to the token embedding.  ``backend``: SDPA backend (see the
    module doc), may be changed on the instance."""

    def __init__(self, vocab: int, d_model: int, layers: int = 6, heads: int = 12,
                 d_ff: int = 3072, max_len: int = 2048, backend: str | None = None):
        super().__init__()
        self.config = TransformerLMConfig(vocab, d_model, layers, heads, d_ff, max_len)
        self.backend = check_backend(backend)
        self.tok_embed = nn.Embedding(vocab, d_model)
        self.pos_embed = nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(DecoderBlock(d_model, heads, d_ff) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)

    @classmethod
    def from_config(cls, cfg: TransformerLMConfig, backend: str | None = None
                    ) -> "TransformerLanguageModel":
        return cls(cfg.vocab, cfg.d_model, cfg.layers, cfg.heads, cfg.d_ff, cfg.max_len,
                   backend)

    def new_cache(self, batch: int, capacity: int | None = None) -> KVCache:
        """An empty cache for ``batch`` sequences of up to ``capacity`` (default max_len)
        tokens, in the model's dtype and device."""
        c = self.config
        capacity = c.max_len if capacity is None else capacity
        check_index("capacity", capacity, 1)
        if capacity > c.max_len:
            raise ValueError(f"capacity={capacity} exceeds the model's max_len={c.max_len}")
        w = self.tok_embed.weight
        return KVCache(c.layers, batch, c.heads, c.head_dim, capacity, w.dtype, w.device)

    def forward(self, tokens: torch.Tensor, kv_cache: KVCache | None = None,
                start_pos: int = 0, last_only: bool = False) -> torch.Tensor:
        """tokens (B, T) int64 at positions start_pos.. -> logits (B, T, V).

        With ``kv_cache`` the new keys/values are stored at [start_pos, start_pos + T) and
        the cache's ``length`` becomes start_pos + T.  ``last_only``: logits of the last
        position only, (B, 1, V) -- all that generation needs; the head's (T, d) x (d, V)
        product is the largest single matmul of a long prefix.
        """
        c = self.config
        check_tokens(tokens, c.vocab)
        check_index("start_pos", start_pos, 0)
        B, T = tokens.shape
        if start_pos + T > c.max_len:
            raise ValueError(f"sequence too long: start_pos={start_pos} + T={T} exceeds "
                             f"max_len={c.max_len}")
        if kv_cache is not None:
            if not isinstance(kv_cache, KVCache):
                raise TypeError(f"kv_cache must be a KVCache, got {type(kv_cache).__name__}")
            if kv_cache.batch != B:
                raise ValueError(f"kv_cache holds batch {kv_cache.batch}, tokens have batch {B}")
            kv_cache.check_write(start_pos, T)
        pos = torch.arange(start_pos, start_pos + T, device=tokens.device)
        x = self.tok_embed(tokens) + self.pos_embed(pos)
        with backend_context(self.backend):
            for i, block in enumerate(self.blocks):
                x = block(x, kv_cache, i, start_pos)
        if kv_cache is not None:
            kv_cache.length = start_pos + T
        if last_only:
            x = x[:, -1:]
        return F.linear(self.ln_f(x), self.tok_embed.weight)

    @torch.no_grad()
    def generate(self, prompt: torch.Tensor, steps: int, use_cache: bool = True
                 ) -> torch.Tensor:
        """Greedy continuation: prompt (B, P) -> the next ``steps`` tokens (B, steps).

        ``use_cache``: one prefill, then each token reads the stored keys/values;
        otherwise every token reruns the whole prefix (the cost the cache removes).
        """
        check_index("steps", steps, 1)
        B, P = prompt.shape
        if P + steps - 1 > self.config.max_len:
            raise ValueError(f"prompt length {P} + steps {steps} - 1 exceeds "
                             f"max_len={self.config.max_len}")
        seq, out = prompt, []
        cache = self.new_cache(B, P + steps - 1) if use_cache else None
        logits = self(prompt, cache, last_only=True)
        for s in range(steps):
            tok = logits[:, -1].argmax(-1)
            out.append(tok)
            if s == steps - 1:
                break
            if use_cache:
                logits = self(tok[:, None], cache, start_pos=P + s)
            else:
                seq = torch.cat([seq, tok[:, None]], dim=1)
                logits = self(seq, last_only=True)
        return torch.stack(out, dim=1)

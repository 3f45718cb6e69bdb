"""Public tests for decode_cost.py: a small decoder-only Transformer written here in torch runs
one cached decoding step under torch's FlopCounterMode; its KV cache tensors give the bytes."""
import numbers

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_lib.grading import (GradingFailure, assert_self_contained, exercise_path,
                                submission_fixture)

sub = submission_fixture("decode_cost")

# the first FlopCounterMode use loads torch's tracing machinery (seconds): pay that while this
# file is collected, not inside a test's time limit
with FlopCounterMode(display=False):
    torch.ones(1, 1) @ torch.ones(1, 1)


class Block(nn.Module):
    """Pre-LayerNorm decoder block; attention of one new token against a (K, V) cache."""

    def __init__(self, d, heads, kv_heads, d_ff):
        super().__init__()
        self.h, self.kvh, self.hd = heads, kv_heads, d // heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.o = nn.Linear(d, d), nn.Linear(d, d)
        self.k, self.v = nn.Linear(d, kv_heads * self.hd), nn.Linear(d, kv_heads * self.hd)
        self.up, self.down = nn.Linear(d, d_ff), nn.Linear(d_ff, d)

    def forward(self, x, cache):
        """x (B, 1, d), cache (K, V) each (B, kv_heads, t, hd) -> (B, 1, d), cache with t + 1."""
        B = x.shape[0]
        a = self.ln1(x)
        q = self.q(a).view(B, 1, self.h, self.hd).transpose(1, 2)
        k = self.k(a).view(B, 1, self.kvh, self.hd).transpose(1, 2)
        v = self.v(a).view(B, 1, self.kvh, self.hd).transpose(1, 2)
        K, V = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        g = self.h // self.kvh
        s = q @ K.repeat_interleave(g, dim=1).transpose(-1, -2) / self.hd ** 0.5
        att = torch.softmax(s, dim=-1) @ V.repeat_interleave(g, dim=1)    # (B, h, 1, hd)
        x = x + self.o(att.transpose(1, 2).reshape(B, 1, -1))
        return x + self.down(F.gelu(self.up(self.ln2(x)))), (K, V)


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, heads = cfg["d_model"], cfg["heads"]
        kvh = cfg.get("kv_heads", heads)
        self.emb = nn.Embedding(cfg["vocab"], d)
        self.blocks = nn.ModuleList(Block(d, heads, kvh, cfg["d_ff"]) for _ in range(cfg["layers"]))
        self.ln_f, self.head = nn.LayerNorm(d), nn.Linear(d, cfg["vocab"], bias=False)
        if cfg["tied_head"]:
            self.head.weight = self.emb.weight
        self.cache_shape = (kvh, d // heads)

    def empty_cache(self, batch, length=0):
        kvh, hd = self.cache_shape
        w = self.emb.weight
        return [tuple(torch.randn(batch, kvh, length, hd, dtype=w.dtype) for _ in "kv")
                for _ in self.blocks]

    def step(self, tokens, caches):
        """tokens (B,) -> logits (B, vocab) and the caches, one position longer."""
        x = self.emb(tokens)[:, None]
        new = []
        for block, cache in zip(self.blocks, caches):
            x, cache = block(x, cache)
            new.append(cache)
        return self.head(self.ln_f(x))[:, 0], new


def torch_decode_flops(cfg, context):
    torch.manual_seed(0)
    model = Decoder(cfg)
    caches = model.empty_cache(1, context)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.step(torch.tensor([3]), caches)
    return counter.get_total_flops()


def check_count(name, got, expected, case, hint):
    if isinstance(got, bool) or not isinstance(got, (numbers.Integral, np.integer)):
        raise GradingFailure(f"case {case}: {name} should be an int, got {type(got).__name__} "
                             f"{got!r}", "wrong type")
    if got != expected:
        raise GradingFailure(f"case {case}: {name} is {got}, expected {expected} "
                             f"(off by {got - expected:+d}); hint: {hint}", "wrong values")


SMALL = {"layers": 2, "d_model": 16, "heads": 4, "d_ff": 40, "vocab": 50, "tied_head": False}
TIED = {"layers": 3, "d_model": 24, "heads": 3, "d_ff": 64, "vocab": 37, "tied_head": True}


@pytest.mark.points(0)
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "decode_cost"))


@pytest.mark.points(2)
@pytest.mark.parametrize("cfg,context", [(SMALL, 0), (SMALL, 7), (TIED, 5)],
                         ids=["first-token", "context-7", "tied-context-5"])
def test_decode_flops_match_flop_counter(sub, cfg, context):
    check_count("decode_flops", sub.decode_flops(cfg, context), torch_decode_flops(cfg, context),
                f"config={cfg} context={context}",
                "per layer: Q, K, V, output projections, scores and weighted sum over "
                "context + 1 positions, two MLP matrices; then the LM head; 2 FLOPs per MAC")


@pytest.mark.points(1)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_kv_cache_bytes_match_the_cache_tensors(sub, dtype):
    torch.manual_seed(1)
    model = Decoder(SMALL).to(dtype)
    batch, steps = 3, 5
    caches = model.empty_cache(batch)
    with torch.no_grad():
        for t in range(steps):
            _, caches = model.step(torch.full((batch,), t), caches)
    ref = sum(x.numel() * x.element_size() for kv in caches for x in kv)
    elem = torch.empty((), dtype=dtype).element_size()
    check_count("kv_cache_bytes", sub.kv_cache_bytes(SMALL, batch, steps, elem), ref,
                f"batch={batch} length={steps} bytes_per_elem={elem}",
                "K and V, every layer: 2 * layers * batch * kv_heads * head_size * length * bytes")


@pytest.mark.points(1)
def test_missing_key_is_named(sub):
    cfg = {k: v for k, v in SMALL.items() if k != "d_ff"}
    with pytest.raises(ValueError) as e:
        sub.decode_flops(cfg, 3)
    assert "d_ff" in str(e.value), f"the ValueError should name 'd_ff', got: {str(e.value)!r}"

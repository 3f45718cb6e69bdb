"""Hidden tests for decode_cost.py (models on torch's meta device: shapes only, no memory)."""
import numbers

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_lib.grading import GradingFailure, submission_fixture

sub = submission_fixture("decode_cost")

# the first FlopCounterMode use loads torch's tracing machinery (seconds): pay that while this
# file is collected, not inside a test's time limit
with FlopCounterMode(display=False):
    torch.ones(1, 1) @ torch.ones(1, 1)


class Layer(nn.Module):
    def __init__(self, d, h, kvh, d_ff):
        super().__init__()
        self.h, self.kvh, self.hd = h, kvh, d // h
        self.wq, self.wk = nn.Linear(d, d, bias=False), nn.Linear(d, kvh * self.hd, bias=False)
        self.wv, self.wo = nn.Linear(d, kvh * self.hd, bias=False), nn.Linear(d, d, bias=False)
        self.norm1, self.norm2 = nn.RMSNorm(d), nn.RMSNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, d_ff), nn.ReLU(), nn.Linear(d_ff, d))

    def forward(self, x, k_cache, v_cache):
        B = x.shape[0]
        a = self.norm1(x)
        q = self.wq(a).reshape(B, self.h, 1, self.hd)
        k = torch.cat([k_cache, self.wk(a).reshape(B, self.kvh, 1, self.hd)], dim=2)
        v = torch.cat([v_cache, self.wv(a).reshape(B, self.kvh, 1, self.hd)], dim=2)
        q = q.reshape(B, self.kvh, self.h // self.kvh, self.hd)          # groups of query heads
        p = torch.softmax(torch.einsum("bkgd,bknd->bkgn", q, k), dim=-1)
        o = torch.einsum("bkgn,bknd->bkgd", p, v).reshape(B, 1, -1)
        x = x + self.wo(o)
        return x + self.mlp(self.norm2(x)), k, v


def run_step(cfg, batch, context, dtype=torch.float32):
    """(FLOPs of one step, bytes of the caches after it) of the model on the meta device."""
    d, h = cfg["d_model"], cfg["heads"]
    kvh = cfg.get("kv_heads", h)
    with torch.device("meta"):
        emb = nn.Embedding(cfg["vocab"], d, dtype=dtype)
        layers = [Layer(d, h, kvh, cfg["d_ff"]).to(dtype) for _ in range(cfg["layers"])]
        head = nn.Linear(d, cfg["vocab"], bias=False, dtype=dtype)
        if cfg["tied_head"]:
            head.weight = emb.weight
        caches = [(torch.empty(batch, kvh, context, d // h, dtype=dtype),
                   torch.empty(batch, kvh, context, d // h, dtype=dtype)) for _ in layers]
        tokens = torch.zeros(batch, dtype=torch.long)
    new = []
    with FlopCounterMode(display=False) as counter:
        x = emb(tokens)[:, None]
        for layer, (kc, vc) in zip(layers, caches):
            x, kc, vc = layer(x, kc, vc)
            new.append((kc, vc))
        head(x)
    nbytes = sum(t.numel() * t.element_size() for kv in new for t in kv)
    return counter.get_total_flops(), nbytes


def check(got, ref):
    if isinstance(got, bool) or not isinstance(got, numbers.Integral) or got != ref:
        raise GradingFailure(f"got {got!r}", "wrong values")


GQA = {"layers": 3, "d_model": 64, "heads": 8, "kv_heads": 2, "d_ff": 96, "vocab": 101,
       "tied_head": False}
GPT2_SMALL = {"layers": 12, "d_model": 768, "heads": 12, "d_ff": 3072, "vocab": 50257,
              "tied_head": True}
LLAMA_LIKE = {"layers": 32, "d_model": 4096, "heads": 32, "kv_heads": 8, "d_ff": 11008,
              "vocab": 32000, "tied_head": False}


@pytest.mark.points(2)
def test_grouped_query_attention(sub):
    flops, _ = run_step(GQA, 1, 9)
    check(sub.decode_flops(GQA, 9), flops)
    _, nbytes = run_step(GQA, 4, 9, torch.float16)
    check(sub.kv_cache_bytes(GQA, 4, 10, 2), nbytes)


@pytest.mark.points(1)
@pytest.mark.parametrize("cfg,context", [(GPT2_SMALL, 1023), (LLAMA_LIKE, 4095)],
                         ids=["gpt2-small", "llama-like"])
def test_real_model_sizes(sub, cfg, context):
    flops, _ = run_step(cfg, 1, context)
    check(sub.decode_flops(cfg, context), flops)
    _, nbytes = run_step(cfg, 8, context, torch.bfloat16)
    check(sub.kv_cache_bytes(cfg, 8, context + 1, 2), nbytes)


@pytest.mark.points(1)
@pytest.mark.parametrize("change,context", [({"d_model": 30}, 0), ({"kv_heads": 3}, 0),
                                            ({}, -1)], ids=["d%heads", "heads%kv", "context<0"])
def test_bad_sizes_raise(sub, change, context):
    with pytest.raises(ValueError):
        sub.decode_flops(dict(GQA, **change), context)

"""FlashAttention (NumPy, tiled) forward and backward against torch SDPA, the standard
attention of 16.4, float64 central differences, and its memory bound."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attention_cases import close, tt
from course_lib.attention import scaled_dot_product_attention
from course_lib.attention.flash import (DIAGONAL, FULL, SKIP, causal_tile_plan, flash_attention,
                                        flash_attention_backward)
from course_lib.gradcheck import check_gradient
from course_lib.memory import peak_memory


@dataclass(frozen=True)
class FlashCase:
    batch: tuple
    L: int
    S: int
    E: int
    Ev: int
    causal: bool
    block_q: int
    block_k: int
    scale: float | None = None
    kv_heads: int | None = None      # GQA: k/v have this many heads at dim -3

    def __str__(self):
        return (f"b{'x'.join(map(str, self.batch)) or '-'}_L{self.L}_S{self.S}_E{self.E}_"
                f"Ev{self.Ev}{'_causal' if self.causal else ''}_bq{self.block_q}_bk{self.block_k}"
                f"{'' if self.scale is None else '_s%.2g' % self.scale}"
                f"{'' if self.kv_heads is None else '_kv%d' % self.kv_heads}")

    @property
    def gqa(self):
        return self.kv_heads is not None

    def arrays(self, dtype, seed=0):
        rng = np.random.default_rng(seed)
        kvb = self.batch[:-1] + (self.kv_heads,) if self.gqa else self.batch
        q = rng.standard_normal(self.batch + (self.L, self.E)).astype(dtype)
        k = rng.standard_normal(kvb + (self.S, self.E)).astype(dtype)
        v = rng.standard_normal(kvb + (self.S, self.Ev)).astype(dtype)
        return q, k, v


def flash_cases(n=40, seed=165):
    rng = np.random.default_rng(seed)
    cases = [FlashCase((), 1, 1, 1, 1, False, 1, 1),
             FlashCase((2, 3), 64, 64, 16, 16, False, 64, 64),        # one tile exactly
             FlashCase((2, 3), 64, 64, 16, 16, True, 16, 16),         # square tiles, causal
             FlashCase((2,), 37, 53, 8, 5, False, 16, 8),             # ragged last tiles
             FlashCase((2,), 37, 53, 8, 5, True, 16, 8),              # causal, L < S
             FlashCase((1, 2), 50, 19, 4, 7, True, 7, 5),             # causal, L > S
             FlashCase((3,), 9, 9, 4, 4, True, 100, 100),             # blocks larger than L, S
             FlashCase((2, 8), 21, 30, 8, 8, True, 5, 9, kv_heads=2),  # GQA
             FlashCase((1, 4), 12, 12, 6, 6, False, 4, 4, scale=0.3, kv_heads=1)]   # MQA
    while len(cases) < n:
        nb = int(rng.integers(0, 3))
        batch = tuple(int(b) for b in rng.integers(1, 4, nb))
        kvh = None
        if nb and rng.integers(0, 3) == 0:
            hkv = int(rng.integers(1, 3))
            batch = batch[:-1] + (hkv * int(rng.integers(1, 4)),)
            kvh = hkv
        cases.append(FlashCase(batch, int(rng.integers(1, 40)), int(rng.integers(1, 40)),
                               int(rng.integers(1, 9)), int(rng.integers(1, 9)),
                               bool(rng.integers(0, 2)), int(rng.integers(1, 20)),
                               int(rng.integers(1, 20)),
                               None if rng.integers(0, 4) else float(rng.uniform(0.1, 2)), kvh))
    return cases


CASES = flash_cases()


def test_cases_cover_the_corners():
    assert any(c.causal and c.L > c.S for c in CASES) and any(c.causal and c.L < c.S for c in CASES)
    assert any(c.L % c.block_q and c.S % c.block_k for c in CASES)         # ragged tiles
    assert any(c.block_q > c.L for c in CASES) and any(c.gqa for c in CASES)
    assert any(c.gqa and c.kv_heads == 1 for c in CASES) and any(c.scale for c in CASES)


def torch_attention(q, k, v, case):
    """torch SDPA (math backend on the CPU) with autograd; causal as an explicit tril mask."""
    qt, kt, vt = (tt(a, grad=True) for a in (q, k, v))
    mask = torch.ones(case.L, case.S, dtype=torch.bool).tril() if case.causal else None
    out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mask, scale=case.scale,
                                         enable_gqa=case.gqa)
    return out, (qt, kt, vt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward_and_backward_match_torch(case: FlashCase, dtype):
    q, k, v = case.arrays(dtype)
    kw = dict(is_causal=case.causal, scale=case.scale, block_q=case.block_q,
              block_k=case.block_k, enable_gqa=case.gqa)
    out, lse = flash_attention(q, k, v, return_lse=True, **kw)
    ref, (qt, kt, vt) = torch_attention(q, k, v, case)
    assert out.dtype == dtype and lse.dtype == dtype
    close(out, ref, dtype, "out", scale=2)
    # lse against torch's logsumexp of the masked scores
    s = (qt.detach() @ (kt.detach() if not case.gqa else
                        kt.detach().repeat_interleave(q.shape[-3] // k.shape[-3], -3)
                        ).transpose(-1, -2)) * (case.scale or case.E ** -0.5)
    if case.causal:
        s = s.masked_fill(~torch.ones(case.L, case.S, dtype=torch.bool).tril(), float("-inf"))
    close(lse, torch.logsumexp(s, -1), dtype, "lse", scale=4)
    # the standard (16.4) attention, an independent algorithm in this library
    std = scaled_dot_product_attention(q, k, v, is_causal=case.causal, scale=case.scale,
                                       enable_gqa=case.gqa)
    close(out, std, dtype, "out vs standard", scale=2)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    ref.backward(tt(dout))
    grads = flash_attention_backward(dout, q, k, v, out, lse, **kw)
    for name, g, t in zip("qkv", grads, (qt, kt, vt)):
        assert g.dtype == dtype and g.shape == t.shape
        close(g, t.grad, dtype, f"d{name}", scale=8)


@pytest.mark.parametrize("causal", [False, True])
def test_backward_against_central_differences(causal):
    """A tiny float64 case with ragged tiles, every input element perturbed."""
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4, 3)), \
        rng.standard_normal((2, 4, 2))
    w = rng.standard_normal((2, 5, 2))       # loss = sum(w * out)
    kw = dict(is_causal=causal, block_q=2, block_k=3)
    out, lse = flash_attention(q, k, v, return_lse=True, **kw)
    grads = dict(zip("qkv", flash_attention_backward(w, q, k, v, out, lse, **kw)))
    args = dict(q=q, k=k, v=v)
    for name in "qkv":
        def f(x, name=name):
            a = dict(args, **{name: x})
            return float(np.sum(w * flash_attention(a["q"], a["k"], a["v"], **kw)))
        rep = check_gradient(f, grads[name], args[name])
        assert rep.passed, (name, rep)


def causal_plan_by_brute_force(L, S, bq, bk):
    """Classify each tile by looking at the full causal mask's entries in it."""
    allowed = np.tri(L, S, dtype=bool)
    nq, nk = -(-L // bq), -(-S // bk)
    plan = np.empty((nq, nk), int)
    for i in range(nq):
        for j in range(nk):
            t = allowed[i * bq:(i + 1) * bq, j * bk:(j + 1) * bk]
            plan[i, j] = SKIP if not t.any() else FULL if t.all() else DIAGONAL
    return plan


@pytest.mark.parametrize("L,S,bq,bk", [(8, 8, 2, 2), (37, 53, 16, 8), (50, 19, 7, 5),
                                       (64, 64, 64, 64), (10, 30, 3, 4), (1, 1, 1, 1)])
def test_causal_tiles_skipped(L, S, bq, bk):
    plan = causal_tile_plan(L, S, bq, bk)
    np.testing.assert_array_equal(plan, causal_plan_by_brute_force(L, S, bq, bk))
    stats = {}
    rng = np.random.default_rng(0)
    flash_attention(rng.standard_normal((L, 4)), rng.standard_normal((S, 4)),
                    rng.standard_normal((S, 4)), is_causal=True, block_q=bq, block_k=bk,
                    stats=stats)
    assert stats == dict(tiles_computed=int((plan != SKIP).sum()),
                         tiles_skipped=int((plan == SKIP).sum()))


def test_about_half_the_tiles_are_skipped_for_long_causal_sequences():
    plan = causal_tile_plan(4096, 4096, 64, 64)
    n = plan.shape[0]
    assert (plan == SKIP).sum() == n * (n - 1) // 2 and (plan == DIAGONAL).sum() == n
    assert (plan == FULL).sum() == n * (n - 1) // 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_memory_is_a_tile_not_the_score_matrix(dtype):
    """tracemalloc: the standard version holds (L, S) scores; the tiled one a tile + O(L*E)."""
    rng = np.random.default_rng(3)
    L = S = 1024
    E, bq, bk = 32, 64, 64
    q, k, v = (rng.standard_normal((L, E)).astype(dtype) for _ in range(3))
    std = peak_memory(scaled_dot_product_attention, q, k, v)
    fl = peak_memory(flash_attention, q, k, v, block_q=bq, block_k=bk)
    item = np.dtype(dtype).itemsize
    assert std.peak_bytes >= L * S * item                      # the score matrix
    # output + lse + a few (bq, bk) and (bq, E) temporaries; generous constant factors
    bound = (L * (E + 1) + 6 * bq * bk + 8 * bq * E) * item + 64 * 1024
    assert fl.peak_bytes <= bound, (fl.peak_bytes, bound)
    assert fl.peak_bytes * 10 <= std.peak_bytes
    close(fl.result, std.result, dtype, "out")


def test_backward_memory_has_no_score_matrix():
    rng = np.random.default_rng(4)
    L, E = 1024, 16
    q, k, v, dout = (rng.standard_normal((L, E)) for _ in range(4))
    out, lse = flash_attention(q, k, v, return_lse=True)
    rep = peak_memory(flash_attention_backward, dout, q, k, v, out, lse)
    assert rep.peak_bytes < L * L * 8 / 10


@pytest.mark.parametrize("L,S", [(5, 9), (9, 5), (7, 7)])
def test_causal_is_torchs_is_causal_for_any_lengths(L, S):
    """torch's own is_causal=True (top-left aligned when L != S), not only an explicit mask."""
    rng = np.random.default_rng(L * 10 + S)
    q, k, v = (rng.standard_normal(s) for s in ((2, L, 4), (2, S, 4), (2, S, 3)))
    ref = F.scaled_dot_product_attention(tt(q), tt(k), tt(v), is_causal=True)
    close(flash_attention(q, k, v, is_causal=True, block_q=2, block_k=3), ref, np.float64, "out")

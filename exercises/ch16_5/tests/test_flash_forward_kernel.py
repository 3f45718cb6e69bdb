"""Public tests for flash_forward_kernel.cu (launched by flash_forward_kernel.py): PyTorch float64.

The kernel runs where the grader runs: on a CUDA GPU through CuPy when one is present, else on
the CPU emulator, where cases run under two thread schedules.  out and lse are filled with NaN
before each launch, so elements the kernel never writes show up.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import (assert_cuda_source, assert_self_contained, compare, exercise_path,
                                submission_fixture)
from course_lib.grading.cuda_checks import check_unchanged, check_written, memory_errors_as_failures

sub = submission_fixture("flash_forward_kernel")
KERNEL_FILE = "flash_forward_kernel.cu"
HINT = ("per tile: s_j = qr . Ks[j] (NEG_INF where causal and k0 + j > i), m_new = max(m, s_j); "
        "if m_new is finite: alpha = expf(m - m_new), l and acc[] times alpha, then p_j = "
        "expf(s_j - m_new), l += p_j, acc[d] += p_j * Vs[j][d]; m = m_new")
SCHEDULES = ["forward", "reverse"]


def reference(q, k, v, causal, scale=None):
    """torch in float64: SDPA output and the log-sum-exp of the scaled scores."""
    tq, tk, tv = (torch.tensor(a, dtype=torch.float64) for a in (q, k, v))
    out = F.scaled_dot_product_attention(tq, tk, tv, is_causal=causal, scale=scale)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = (tq @ tk.transpose(-1, -2)) * scale
    if causal:
        L, S = q.shape[-2], k.shape[-2]
        s = s.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    return out.numpy().astype(np.float32), torch.logsumexp(s, -1).numpy().astype(np.float32)


def qkv(lead, L, S, E, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((*lead, n, E)).astype(np.float32) for n in (L, S, S))


def run_case(sub, q, k, v, causal=False, scale=None, **options):
    case = {"q": q.shape, "k": k.shape, "is_causal": causal, "scale": scale, **options}
    copies = [a.copy() for a in (q, k, v)]
    with memory_errors_as_failures(KERNEL_FILE):
        out, lse = sub.flash_forward_kernel(*copies, is_causal=causal, scale=scale, **options)
    check_unchanged(q=(q, copies[0]), k=(k, copies[1]), v=(v, copies[2]))
    check_written("out", out, KERNEL_FILE, case)
    check_written("lse", lse, KERNEL_FILE, case)
    ref_out, ref_lse = reference(q, k, v, causal, scale)
    compare("out", out, ref_out, rtol=1e-4, atol=1e-5, case=case, hint=HINT)
    compare("lse", lse, ref_lse, rtol=1e-4, atol=1e-5, case=case, hint=HINT)


@pytest.mark.points(0)  # a gate, not a skill: the launcher imports only the kernel runtime
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "flash_forward_kernel"))
    assert_cuda_source(exercise_path(__file__, "flash_forward_kernel").with_suffix(".cu"))


@pytest.mark.points(1)
def test_one_tile(sub):
    """L = 8 queries, S = 20 keys: one query block, one (ragged) key tile."""
    run_case(sub, *qkv((1,), 8, 20, 16))


@pytest.mark.points(1)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_several_key_tiles(sub, schedule):
    """S = 75: tiles of 32, 32 and 11 keys; the running max and sum carry over between them."""
    run_case(sub, *qkv((2,), 10, 75, 16, seed=1), schedule=schedule)


@pytest.mark.points(1)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_causal(sub, schedule):
    """Query i sees keys 0..i; L = S = 40 (a diagonal tile masked entry by entry)."""
    run_case(sub, *qkv((1,), 40, 40, 16, seed=2), causal=True, schedule=schedule)


@pytest.mark.points(1)
def test_huge_scores_are_stable(sub):
    """scale = 1000: scores of thousands; exp overflows without the running-max shift."""
    run_case(sub, *qkv((1,), 6, 50, 8, seed=3), scale=1000.0)

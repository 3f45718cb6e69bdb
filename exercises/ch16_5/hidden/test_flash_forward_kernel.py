"""Hidden tests for flash_forward_kernel.cu: more query blocks, causal L != S, E = 64, AddressSanitizer."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import compare, submission_fixture
from course_lib.grading.cuda_checks import check_written, memory_errors_as_failures

sub = submission_fixture("flash_forward_kernel")
KERNEL_FILE = "flash_forward_kernel.cu"


def reference(q, k, v, causal):
    tq, tk, tv = (torch.tensor(a, dtype=torch.float64) for a in (q, k, v))
    out = F.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
    s = (tq @ tk.transpose(-1, -2)) / np.sqrt(q.shape[-1])
    if causal:
        s = s.masked_fill(~torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril(),
                          float("-inf"))
    return out.numpy().astype(np.float32), torch.logsumexp(s, -1).numpy().astype(np.float32)


def qkv(lead, L, S, E, seed):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((*lead, n, E)).astype(np.float32) for n in (L, S, S))


def check(sub, q, k, v, causal=False, **options):
    case = {"q": q.shape, "k": k.shape, "is_causal": causal, **options}
    with memory_errors_as_failures(KERNEL_FILE):
        out, lse = sub.flash_forward_kernel(q, k, v, is_causal=causal, **options)
    check_written("out", out, KERNEL_FILE, case)
    check_written("lse", lse, KERNEL_FILE, case)
    ref_out, ref_lse = reference(q, k, v, causal)
    compare("out", out, ref_out, rtol=1e-4, atol=1e-5, case=case)
    compare("lse", lse, ref_lse, rtol=1e-4, atol=1e-5, case=case)


@pytest.mark.points(2)
def test_two_query_blocks_head_dim_64(sub):
    """L = 70: a second block with 6 rows; E = 64 fills the register rows."""
    check(sub, *qkv((2, 2), 70, 45, 64, seed=5), schedule="random")


@pytest.mark.points(2)
@pytest.mark.parametrize("L,S", [(70, 33), (20, 100)], ids=["L>S", "L<S"])
def test_causal_rectangles(sub, L, S):
    """Top-left alignment: for L > S the last rows see every key, for L < S keys past L are
    never seen (and their tiles are skipped)."""
    check(sub, *qkv((1,), L, S, 16, seed=6), causal=True)


@pytest.mark.points(2)
@pytest.mark.timeout(120)  # AddressSanitizer build and run
def test_no_out_of_bounds_access(sub):
    """AddressSanitizer on the emulator, any machine: padded rows past L, a ragged key tile."""
    check(sub, *qkv((1,), 5, 37, 16, seed=7), causal=True, backend="emulator",
          sanitizer="address")

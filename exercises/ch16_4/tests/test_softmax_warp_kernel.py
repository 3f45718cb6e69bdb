"""Public tests for softmax_warp_kernel.cu (launched by softmax_warp_kernel.py): PyTorch float64.

The kernel runs where the grader runs: on a CUDA GPU through CuPy when one is present, else on
the CPU emulator, where each case runs under two thread schedules (a correct kernel gives the
same answer under both). The output is filled with NaN before each launch, so elements the
kernel never writes show up.
"""
import numpy as np
import pytest
import torch

from course_lib.grading import (assert_cuda_source, assert_self_contained, compare, exercise_path,
                                submission_fixture)
from course_lib.grading.cuda_checks import check_unchanged, check_written, memory_errors_as_failures

sub = submission_fixture("softmax_warp_kernel")
KERNEL_FILE = "softmax_warp_kernel.cu"
HINT = ("one warp per row: row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; lanes stride "
        "over the columns by 32; max, then sum of expf(x - max) combined with __shfl_xor_sync; a "
        "row of all -inf gives zeros")
SCHEDULES = ["forward", "reverse"]


def reference(x):
    """softmax in float64 by PyTorch; rows of all -inf (0/0 there) -> zeros."""
    y = torch.softmax(torch.tensor(x, dtype=torch.float64), dim=-1)
    return torch.nan_to_num(y, nan=0.0).numpy().astype(np.float32)


def logits(shape, seed=0, scale=3.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def run_case(sub, x, schedule="forward", **options):
    """Launch the learner's kernel on x and compare with PyTorch's float64 softmax."""
    case = {"x": x, "schedule": schedule}
    out = np.full(x.shape, np.nan, dtype=np.float32)
    xc = x.copy()
    with memory_errors_as_failures(KERNEL_FILE):
        got = sub.softmax_warp_kernel(xc, out=out, schedule=schedule, **options)
    check_unchanged(x=(x, xc))
    check_written("y", got, KERNEL_FILE, case)
    compare("y", got, reference(x), rtol=1e-5, atol=1e-6, case=case, hint=HINT)


@pytest.mark.points(0)  # a gate, not a skill: the launcher imports only the kernel runtime
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "softmax_warp_kernel"))
    assert_cuda_source(exercise_path(__file__, "softmax_warp_kernel").with_suffix(".cu"))


@pytest.mark.points(1)
def test_one_row_of_32(sub):
    run_case(sub, logits((1, 32)))


@pytest.mark.points(1)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_rows_and_columns_not_multiples(sub, schedule):
    """14 rows: the last block of 4 warps has 2 warps without a row; S = 45: lanes 0-12 get two
    columns, the others one."""
    run_case(sub, logits((2, 7, 45), seed=1), schedule=schedule)


@pytest.mark.points(1)
@pytest.mark.parametrize("shape", [(5, 1), (3, 33)], ids=["S1", "S33"])
def test_short_rows(sub, shape):
    """S = 1: every output is 1 and 31 lanes per warp have no column."""
    run_case(sub, logits(shape, seed=2))


@pytest.mark.points(1)
def test_huge_logits_are_stable(sub):
    """+-1e4: exp(1e4) is inf in float32; subtracting the row max keeps every exponent <= 0."""
    rng = np.random.default_rng(3)
    x = (rng.choice([-1e4, 1e4], size=(6, 40)) + rng.standard_normal((6, 40))).astype(np.float32)
    run_case(sub, x)


@pytest.mark.points(1)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_masked_entries_and_a_fully_masked_row(sub, schedule):
    x = logits((5, 37), seed=4)
    x[0, ::3] = -np.inf          # masked entries get probability 0
    x[3, :] = -np.inf            # nothing to attend to: zeros, not NaN
    run_case(sub, x, schedule=schedule)

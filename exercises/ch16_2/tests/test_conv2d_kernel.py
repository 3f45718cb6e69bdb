"""Public tests for conv2d_kernel.cu (launched by conv2d_kernel.py): a float64 direct-sum reference.

The kernel runs where the grader runs: on a CUDA GPU through CuPy when one is present, else on
the CPU emulator, where each case runs under two thread schedules (a correct kernel gives the
same answer under both). The output is filled with NaN before each launch, so elements the
kernel never writes show up.
"""
import numpy as np
import pytest

from course_lib.grading import (assert_cuda_source, assert_self_contained, compare, exercise_path,
                                submission_fixture)
from course_lib.grading.cuda_checks import check_unchanged, check_written, memory_errors_as_failures
from course_lib.grading.references import direct_conv2d

sub = submission_fixture("conv2d_kernel")
KERNEL_FILE = "conv2d_kernel.cu"
HINT = ("one thread per output element, flat index i = blockIdx.x * blockDim.x + threadIdx.x with "
        "ow fastest; input row oh*sh - ph + kh, column ow*sw - pw + kw; skip positions outside "
        "the image")
SCHEDULES = ["forward", "reverse"]


def as_pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def run_case(sub, x_shape, w_shape, stride=1, padding=0, bias=True, schedule="forward", seed=0,
             **options):
    """Launch the learner's kernel on random float32 data and compare with the float64 sums."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32) if bias else None
    expected = direct_conv2d(x, w, b, as_pair(stride), as_pair(padding))
    case = {"x": x, "w": w, "bias": bias, "stride": stride, "padding": padding, "schedule": schedule}
    out = np.full(expected.shape, np.nan, dtype=np.float32)
    xc, wc, bc = x.copy(), w.copy(), None if b is None else b.copy()
    with memory_errors_as_failures(KERNEL_FILE):
        got = sub.conv2d_kernel(xc, wc, bc, stride, padding, out=out, schedule=schedule, **options)
    check_unchanged(x=(x, xc), w=(w, wc), b=(b, bc))
    check_written("y", got, KERNEL_FILE, case)
    compare("y", got, expected.astype(np.float32), rtol=1e-4, atol=1e-4, case=case, hint=HINT)


@pytest.mark.points(0)  # a gate, not a skill: the launcher imports only the kernel runtime
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "conv2d_kernel"))
    assert_cuda_source(exercise_path(__file__, "conv2d_kernel").with_suffix(".cu"))


@pytest.mark.points(1)
def test_single_channel_no_padding(sub):
    run_case(sub, (1, 1, 5, 6), (1, 1, 3, 3), bias=False)


@pytest.mark.points(1)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_channels_and_batch(sub, schedule):
    run_case(sub, (2, 3, 6, 7), (4, 3, 3, 3), bias=False, schedule=schedule)


@pytest.mark.points(1)
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("x_shape,w_shape,stride,padding", [
    ((2, 3, 7, 9), (4, 3, 3, 3), 1, 1),
    ((2, 2, 9, 8), (3, 2, 3, 2), (2, 1), (1, 0)),
    ((1, 3, 10, 7), (2, 3, 5, 5), 2, 2),
], ids=["k3-s1-p1", "k32-s21-p10", "k5-s2-p2"])
def test_stride_and_padding(sub, x_shape, w_shape, stride, padding, schedule):
    run_case(sub, x_shape, w_shape, stride, padding, schedule=schedule, seed=1)


@pytest.mark.points(1)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_sizes_not_a_multiple_of_the_block(sub, schedule):
    """495 outputs: the second block of 256 threads has 17 threads with nothing to compute."""
    run_case(sub, (1, 2, 13, 11), (5, 2, 3, 3), schedule=schedule, seed=2)


@pytest.mark.points(1)
def test_bias_is_added_per_channel(sub):
    run_case(sub, (2, 2, 5, 5), (6, 2, 3, 3), 1, 1, bias=True, seed=3)

"""Hidden tests for softmax_warp_kernel.cu: long rows, many rows, other launches, AddressSanitizer."""
import numpy as np
import pytest
import torch

from course_lib.cuda import RawModule, default_backend
from course_lib.grading import compare, exercise_path, submission_fixture
from course_lib.grading.cuda_checks import check_written, memory_errors_as_failures

sub = submission_fixture("softmax_warp_kernel")
KERNEL_FILE = "softmax_warp_kernel.cu"


def reference(x):
    y = torch.softmax(torch.tensor(x, dtype=torch.float64), dim=-1)
    return torch.nan_to_num(y, nan=0.0).numpy().astype(np.float32)


def logits(shape, seed, scale=3.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def check(sub, x, **options):
    case = {"x": x, **options}
    out = np.full(x.shape, np.nan, dtype=np.float32)
    with memory_errors_as_failures(KERNEL_FILE):
        got = sub.softmax_warp_kernel(x, out=out, **options)
    check_written("y", got, KERNEL_FILE, case)
    compare("y", got, reference(x), rtol=1e-5, atol=1e-6, case=case)


@pytest.mark.points(2)
@pytest.mark.parametrize("shape", [(3, 1000), (2, 4097)], ids=["S1000", "S4097"])
def test_long_rows(sub, shape):
    """Each lane loops over 32-129 columns."""
    check(sub, logits(shape, seed=5))


@pytest.mark.points(1)
def test_many_rows_random_schedule(sub):
    """1001 rows = 250 full blocks and one block with a single busy warp."""
    check(sub, logits((1001, 20), seed=6), schedule="random")


@pytest.mark.points(1)
def test_masks_of_every_kind(sub):
    rng = np.random.default_rng(7)
    x = logits((9, 70), seed=7)
    x[rng.random(x.shape) < 0.4] = -np.inf
    x[2] = -np.inf
    x[5, 1:] = -np.inf            # one visible entry: probability 1
    x[8, :-1] = -np.inf
    check(sub, x)


@pytest.mark.points(2)
@pytest.mark.timeout(90)  # AddressSanitizer build and run
def test_no_out_of_bounds_access(sub):
    """AddressSanitizer on the emulator, any machine: idle warps in the last block, S = 33."""
    x = logits((6, 33), seed=8)
    x[4] = -np.inf
    check(sub, x, backend="emulator", sanitizer="address")


@pytest.mark.points(1)
def test_kernel_alone_with_another_launch(sub):
    """The .cu file launched by this test: blocks of 2 warps (64 threads) and one spare block."""
    x = logits((7, 50), seed=9)
    y = np.full(x.shape, np.nan, dtype=np.float32)
    path = exercise_path(__file__, "softmax_warp_kernel").with_suffix(".cu")
    kernel = RawModule(path=path, backend=default_backend()).get_function("softmax_warp_kernel")
    with memory_errors_as_failures(KERNEL_FILE):
        kernel((-(-7 // 2) + 1,), (64,), (x, y, np.int32(7), np.int32(50)))
    check_written("y", y, KERNEL_FILE)
    compare("y", y, reference(x), rtol=1e-5, atol=1e-6)

"""Hidden tests for conv2d_kernel.cu: more geometries, ragged grids, an AddressSanitizer run."""
import numpy as np
import pytest

from course_lib.cuda import RawModule, default_backend
from course_lib.grading import compare, exercise_path, submission_fixture
from course_lib.grading.cuda_checks import check_written, memory_errors_as_failures
from course_lib.grading.references import direct_conv2d

sub = submission_fixture("conv2d_kernel")
KERNEL_FILE = "conv2d_kernel.cu"


def pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def make_case(x_shape, w_shape, stride, padding, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32) if bias else None
    return x, w, b, direct_conv2d(x, w, b, pair(stride), pair(padding))


def check(sub, x_shape, w_shape, stride=1, padding=0, bias=True, seed=5, **options):
    x, w, b, expected = make_case(x_shape, w_shape, stride, padding, bias, seed)
    case = {"x": x, "w": w, "stride": stride, "padding": padding, "bias": bias}
    out = np.full(expected.shape, np.nan, dtype=np.float32)
    with memory_errors_as_failures(KERNEL_FILE):
        got = sub.conv2d_kernel(x, w, b, stride, padding, out=out, **options)
    check_written("y", got, KERNEL_FILE, case)
    compare("y", got, expected.astype(np.float32), rtol=1e-4, atol=1e-4, case=case)


@pytest.mark.points(2)
@pytest.mark.parametrize("x_shape,w_shape,stride,padding", [
    ((3, 4, 6, 5), (2, 4, 1, 1), 1, 0),          # 1x1 convolution
    ((2, 1, 12, 12), (7, 1, 5, 3), (3, 2), (2, 1)),
    ((1, 5, 4, 4), (3, 5, 4, 4), 1, 0),          # the filter covers the whole image: 1x1 output
    ((1, 2, 3, 3), (2, 2, 5, 5), 1, 1),          # filter larger than the image, padding fills it
    ((2, 3, 8, 8), (2, 3, 2, 2), 3, 1),          # stride larger than the filter
])
def test_more_geometries(sub, x_shape, w_shape, stride, padding):
    check(sub, x_shape, w_shape, stride, padding)


@pytest.mark.points(1)
@pytest.mark.parametrize("x_shape,w_shape", [
    ((1, 1, 1, 259), (1, 1, 1, 3)),    # 257 outputs: one thread in the second block has work
    ((1, 1, 2, 2), (1, 1, 2, 2)),      # a single output, 255 idle threads
    ((3, 2, 11, 13), (5, 2, 2, 4)),    # 1500 outputs
])
def test_ragged_grids(sub, x_shape, w_shape):
    check(sub, x_shape, w_shape, bias=False)


@pytest.mark.points(1)
def test_random_schedule_without_bias(sub):
    check(sub, (2, 3, 7, 6), (4, 3, 3, 3), 1, 1, bias=False, schedule="random", seed=11)


@pytest.mark.points(2)
@pytest.mark.timeout(90)  # AddressSanitizer build and run
def test_no_out_of_bounds_access(sub):
    """AddressSanitizer on the emulator, any machine: ragged grid, padding on every side."""
    check(sub, (1, 2, 9, 10), (3, 2, 3, 3), 2, 1, backend="emulator", sanitizer="address", seed=9)


@pytest.mark.points(1)
def test_kernel_alone_with_another_launch(sub):
    """The .cu file launched by this test: blocks of 128 threads and one spare block."""
    x, w, b, expected = make_case((2, 3, 7, 8), (3, 3, 3, 3), (1, 2), (1, 1), True, 13)
    g = [int(v) for v in (2, 3, 7, 8, 3, 3, 3, 1, 2, 1, 1) + expected.shape[2:]]
    y = np.full(expected.shape, np.nan, dtype=np.float32)
    path = exercise_path(__file__, "conv2d_kernel").with_suffix(".cu")
    kernel = RawModule(path=path, backend=default_backend()).get_function("conv2d_kernel")
    with memory_errors_as_failures(KERNEL_FILE):
        kernel((-(-y.size // 128) + 1,), (128,), (x, w, b, y, *(np.int32(v) for v in g)))
    check_written("y", y, KERNEL_FILE)
    compare("y", y, expected.astype(np.float32), rtol=1e-4, atol=1e-4)

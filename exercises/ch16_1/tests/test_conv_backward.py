"""Public tests for conv_backward.py: compared with PyTorch autograd (float64)."""
import numpy as np
import pytest

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture, unpack)
from course_lib.grading.torch_refs import torch_conv2d_grads

sub = submission_fixture("conv_backward")
HINT = "dx scatter-adds dy*w into the padded input at stride steps, then crops the padding"

CASES = [  # (x shape, w shape, stride, padding)
    ((1, 1, 4, 4), (1, 1, 3, 3), 1, 0),
    ((2, 3, 6, 5), (4, 3, 3, 3), 1, 1),
    ((2, 3, 7, 5), (4, 3, 3, 2), (2, 1), 1),
    ((1, 2, 8, 8), (3, 2, 3, 3), 2, (0, 2)),
]


def run_case(sub, xs, ws, stride, padding, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    s, p = (stride, stride) if np.isscalar(stride) else stride, \
        (padding, padding) if np.isscalar(padding) else padding
    oh = (xs[2] + 2 * p[0] - ws[2]) // s[0] + 1
    ow = (xs[3] + 2 * p[1] - ws[3]) // s[1] + 1
    dy = rng.standard_normal((xs[0], ws[0], oh, ow)).astype(dtype)
    case = {"stride": stride, "padding": padding, "x": x, "w": w, "dtype": np.dtype(dtype).name}
    got = unpack("conv2d_backward(...)", call_checked(sub.conv2d_backward, dy, x, w, stride, padding,
                                                     case=case), 3, case)
    ref = torch_conv2d_grads(dy, x, w, stride, padding)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for name, g, r in zip(("dx", "dw", "db"), got, ref):
        compare(name, g, r.astype(dtype), case=case, hint=HINT, **tol)


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    """The submission imports no torch/scipy/course_lib (it must not wrap a library)."""
    assert_self_contained(exercise_path(__file__, "conv_backward"))


@pytest.mark.points(2)
@pytest.mark.parametrize("xs,ws,stride,padding", CASES, ids=["1ch-3x3", "pad1", "stride21-k32",
                                                          "stride2-pad02"])
def test_matches_torch_float64(sub, xs, ws, stride, padding):
    run_case(sub, xs, ws, stride, padding, np.float64)


@pytest.mark.points(1)
def test_float32_stays_float32(sub):
    run_case(sub, (2, 2, 5, 5), (3, 2, 3, 3), 1, 1, np.float32)

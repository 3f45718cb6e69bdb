"""Public tests for col2im.py: compared with torch.nn.functional.fold (float64)."""
import numpy as np
import pytest

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)
from course_lib.grading.torch_refs import torch_fold

sub = submission_fixture("col2im")
HINT = "overlapping windows must be summed (+=), and the padding cropped at the end"


def out_size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def run_case(sub, x_shape, kernel, stride, padding, dtype=np.float64, seed=0):
    k, s, p = [(v, v) if np.isscalar(v) else v for v in (kernel, stride, padding)]
    B, C, H, W = x_shape
    L = out_size(H, k[0], s[0], p[0]) * out_size(W, k[1], s[1], p[1])
    cols = np.random.default_rng(seed).standard_normal((B, C * k[0] * k[1], L)).astype(dtype)
    case = {"x_shape": x_shape, "kernel": kernel, "stride": stride, "padding": padding, "cols": cols,
            "dtype": np.dtype(dtype).name}
    got = call_checked(sub.col2im, cols, x_shape, kernel, stride, padding, case=case)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    compare("x", got, torch_fold(cols, (H, W), k, s, p).astype(dtype), case=case, hint=HINT, **tol)


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "col2im"))


@pytest.mark.points(1)
def test_non_overlapping(sub):
    run_case(sub, (1, 2, 4, 6), 2, 2, 0)


@pytest.mark.points(2)
@pytest.mark.parametrize("x_shape,kernel,stride,padding", [
    ((2, 3, 5, 5), 3, 1, 0),
    ((2, 3, 7, 6), (3, 2), (2, 1), 1),
    ((1, 2, 8, 7), 3, 2, (1, 2)),
], ids=["k3-s1-p0", "k32-s21-p1", "k3-s2-p12"])
def test_matches_fold(sub, x_shape, kernel, stride, padding):
    run_case(sub, x_shape, kernel, stride, padding)


@pytest.mark.points(1)
def test_float32_stays_float32(sub):
    run_case(sub, (2, 2, 6, 6), 3, 1, 1, np.float32)

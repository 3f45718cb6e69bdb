"""Public tests for fft_correlate.py: scipy.signal.correlate2d and torch conv2d references."""
import numpy as np
import pytest
from scipy.signal import correlate2d

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)
from course_lib.grading.torch_refs import torch_conv2d

sub = submission_fixture("fft_correlate")
HINT = "correlation = irfft2(rfft2(x) * conj(rfft2(w, s)), s), valid part at the top-left"


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "fft_correlate"))


@pytest.mark.points(2)
@pytest.mark.parametrize("xs,ws", [((8, 8), (3, 3)), ((9, 6), (2, 4))], ids=["8x8-k3x3", "9x6-k2x4"])
def test_correlate2d_matches_scipy(sub, xs, ws):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    case = {"x": x, "w": w}
    got = call_checked(sub.fft_correlate2d, x, w, case=case)
    compare("y", got, correlate2d(x, w, mode="valid"), rtol=1e-9, atol=1e-10, case=case, hint=HINT)


@pytest.mark.points(1)
def test_correlate2d_float32(sub):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((7, 10)).astype(np.float32), rng.standard_normal((3, 3)).astype(np.float32)
    case = {"x": x, "w": w, "dtype": "float32"}
    got = call_checked(sub.fft_correlate2d, x, w, case=case)
    compare("y", got, correlate2d(x, w, mode="valid").astype(np.float32), rtol=1e-4, atol=1e-4,
            case=case, hint="cast the result back to x.dtype")


@pytest.mark.points(2)
@pytest.mark.parametrize("padding", [0, 1])
def test_conv2d_matches_torch(sub, padding):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    case = {"x": x, "w": w, "padding": padding}
    got = call_checked(sub.fft_conv2d, x, w, padding, case=case)
    compare("y", got, torch_conv2d(x, w, 1, padding), rtol=1e-9, atol=1e-10, case=case,
            hint="sum the channel products in the frequency domain before the inverse FFT")

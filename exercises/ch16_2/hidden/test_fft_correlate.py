"""Hidden tests for fft_correlate.py."""
import numpy as np
import pytest
from scipy.signal import correlate2d

from course_lib.grading import call_checked, compare, submission_fixture
from course_lib.grading.torch_refs import torch_conv2d

sub = submission_fixture("fft_correlate")


@pytest.mark.points(1)
def test_kernel_as_large_as_input(sub):
    rng = np.random.default_rng(31)
    x, w = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    compare("y", call_checked(sub.fft_correlate2d, x, w), correlate2d(x, w, mode="valid"),
            rtol=1e-9, atol=1e-10)


@pytest.mark.points(2)
def test_conv2d_float32_odd_sizes(sub):
    rng = np.random.default_rng(32)
    x = rng.standard_normal((1, 2, 9, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 4, 3)).astype(np.float32)
    got = call_checked(sub.fft_conv2d, x, w, 2)
    compare("y", got, torch_conv2d(x, w, 1, 2).astype(np.float32), rtol=1e-4, atol=1e-4)

"""Hidden tests for winograd.py."""
import numpy as np
import pytest

from course_lib.grading import call_checked, compare, submission_fixture
from course_lib.grading.references import direct_correlate2d

sub = submission_fixture("winograd")


@pytest.mark.points(1)
def test_tile_float32(sub):
    rng = np.random.default_rng(21)
    d, g = rng.standard_normal((4, 4)).astype(np.float32), rng.standard_normal((3, 3)).astype(np.float32)
    got = call_checked(sub.winograd_tile, d, sub.filter_transform(g))
    compare("Y", got, direct_correlate2d(d, g).astype(np.float32), rtol=1e-5, atol=1e-5)


@pytest.mark.points(2)
def test_correlate2d_larger_float32(sub):
    rng = np.random.default_rng(22)
    x, g = rng.standard_normal((11, 8)).astype(np.float32), rng.standard_normal((3, 3)).astype(np.float32)
    got = call_checked(sub.winograd_correlate2d, x, g)
    compare("y", got, direct_correlate2d(x, g).astype(np.float32), rtol=1e-4, atol=1e-4)


@pytest.mark.points(1)
def test_minimal_input(sub):
    x, g = np.arange(9.0).reshape(3, 3), np.eye(3)[::-1]
    compare("y", sub.winograd_correlate2d(x, g), direct_correlate2d(x, g), rtol=1e-12, atol=1e-12)

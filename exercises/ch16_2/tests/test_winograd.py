"""Public tests for winograd.py: compared with direct float64 correlation sums."""
import numpy as np
import pytest

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)
from course_lib.grading.references import direct_correlate1d, direct_correlate2d

sub = submission_fixture("winograd")


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "winograd"))


@pytest.mark.points(2)
@pytest.mark.parametrize("seed", [0, 1])
def test_f23_1d(sub, seed):
    rng = np.random.default_rng(seed)
    d, g = rng.standard_normal(4), rng.standard_normal(3)
    got = call_checked(sub.winograd_f23, d, g, case={"d": d, "g": g})
    compare("y", got, direct_correlate1d(d, g), rtol=1e-12, atol=1e-12, case={"d": d, "g": g},
            hint="y = AT @ ((G @ g) * (BT @ d)); correlation, the filter is not flipped")


@pytest.mark.points(1)
def test_filter_transform_corners(sub):
    """G's first and last rows pick g's first and last taps, so U's corners are g's corners."""
    g = np.random.default_rng(2).standard_normal((3, 3)).astype(np.float32)
    U = call_checked(sub.filter_transform, g, case={"g": g})
    compare("U", U, np.zeros((4, 4), np.float32), rtol=0, atol=np.inf, case={"g": g},
            hint="U = G @ g @ G.T is 4x4 and keeps g's dtype")
    corners = U[np.ix_([0, 3], [0, 3])]
    compare("U corners", corners, g[np.ix_([0, 2], [0, 2])], rtol=1e-6, atol=1e-6, case={"g": g},
            hint="U[0, 0] = g[0, 0] and U[3, 3] = g[2, 2]; check the order G @ g @ G.T")


@pytest.mark.points(2)
def test_tile_2d(sub):
    rng = np.random.default_rng(3)
    d, g = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))
    case = {"d": d, "g": g}
    got = call_checked(sub.winograd_tile, d, sub.filter_transform(g), case=case)
    compare("Y", got, direct_correlate2d(d, g), rtol=1e-12, atol=1e-12, case=case,
            hint="Y = AT @ (U * (BT @ d @ BT.T)) @ AT.T")


@pytest.mark.points(2)
@pytest.mark.parametrize("shape", [(6, 6), (7, 9)])
def test_correlate2d(sub, shape):
    rng = np.random.default_rng(4)
    x, g = rng.standard_normal(shape), rng.standard_normal((3, 3))
    case = {"x": x, "g": g}
    got = call_checked(sub.winograd_correlate2d, x, g, case=case)
    compare("y", got, direct_correlate2d(x, g), rtol=1e-12, atol=1e-12, case=case,
            hint="odd output sizes need a zero-padded last tile and a crop")

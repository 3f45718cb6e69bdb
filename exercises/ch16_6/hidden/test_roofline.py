"""Hidden tests for roofline.py."""
from fractions import Fraction

import numpy as np
import pytest

from course_lib.grading import GradingFailure, call_checked, compare, submission_fixture

sub = submission_fixture("roofline")


@pytest.mark.points(1)
def test_pure_copy_has_zero_flops(sub):
    got = (sub.attainable_gflops(0, 8e9, 100.0, 20.0), sub.bound(0, 8e9, 100.0, 20.0),
           sub.min_time_s(0, 8e9, 100.0, 20.0))
    if got[0] != 0 or got[1] != "memory" or abs(got[2] - 0.4) > 1e-15:
        raise GradingFailure(f"got {got!r}", "wrong values")


@pytest.mark.points(1)
@pytest.mark.parametrize("which", [0, 1, 3])
def test_one_bad_element_in_an_array_raises(sub, which):
    args = [np.array([1e9, 2e9, 3e9]), np.array([1e6, 1e7, 1e8]), 100.0, 10.0]
    args[which] = np.array([1.0, np.nan, 2.0]) if which else np.array([1.0, -2.0, 3.0])
    with pytest.raises(ValueError):
        sub.min_time_s(*args)


@pytest.mark.points(2)
def test_time_is_flops_over_attainable_rate(sub):
    rng = np.random.default_rng(8)
    f, q = 10 ** rng.uniform(3, 13, 50), 10 ** rng.uniform(3, 11, 50)
    peak, bw = rng.uniform(1, 2000, 50), rng.uniform(1, 4000, 50)
    ref = np.array([float(max(Fraction(a) / (Fraction(c) * 10**9),
                              Fraction(b) / (Fraction(d) * 10**9)))
                    for a, b, c, d in zip(f, q, peak, bw)])
    got = call_checked(sub.min_time_s, f, q, peak, bw, case="random")
    compare("min_time_s", got, ref, rtol=1e-12, atol=0, case="random")
    rate = call_checked(sub.attainable_gflops, f, q, peak, bw, case="random")
    compare("flops / attainable", f / (np.asarray(rate) * 1e9), ref, rtol=1e-12, atol=0,
            case="random")

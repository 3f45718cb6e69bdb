"""Public tests for roofline.py, against the roofline's definition evaluated in exact rational
arithmetic (fractions.Fraction), one element at a time."""
from fractions import Fraction

import numpy as np
import pytest

from course_lib.grading import (GradingFailure, assert_self_contained, call_checked, compare,
                                exercise_path, submission_fixture)

sub = submission_fixture("roofline")
HINT = "attainable = min(peak, flops / nbytes * bandwidth); memory-bound left of peak / bandwidth"


def exact(flops, nbytes, peak, bw):
    """(attainable GFLOP/s, bound, min time s) of one operation from the definition."""
    f, q, p, b = (Fraction(float(v)) for v in (flops, nbytes, peak, bw))
    memory_bound = f * b < p * q            # intensity f/q left of the ridge p/b
    attainable = f / q * b if memory_bound else p
    seconds = max(f / (p * 10**9), q / (b * 10**9))
    return float(attainable), "memory" if memory_bound else "compute", float(seconds)


def check_scalar(name, got, expected, kind, case, hint=HINT):
    if not isinstance(got, kind) or isinstance(got, bool):
        raise GradingFailure(f"case {case}: {name} should be a {kind.__name__} for scalar inputs, "
                             f"got {type(got).__name__} {got!r}", "wrong type")
    ok = got == expected if kind is str else abs(got - expected) <= 1e-12 * abs(expected)
    if not ok:
        raise GradingFailure(f"case {case}: {name} is {got!r}, expected {expected!r}; hint: {hint}",
                             "wrong values")


def check_all(sub, flops, nbytes, peak, bw):
    case = f"flops={flops:g} nbytes={nbytes:g} peak_gflops={peak:g} bandwidth_gbs={bw:g}"
    want = exact(flops, nbytes, peak, bw)
    args = (flops, nbytes, peak, bw)
    check_scalar("attainable_gflops", sub.attainable_gflops(*args), want[0], float, case)
    check_scalar("bound", sub.bound(*args), want[1], str, case)
    check_scalar("min_time_s", sub.min_time_s(*args), want[2], float, case,
                 "the larger of flops / (peak * 1e9) and nbytes / (bandwidth * 1e9)")


@pytest.mark.points(0)
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "roofline"))


@pytest.mark.points(1)
@pytest.mark.parametrize("flops,nbytes", [(2e9, 1e9), (3e6, 4e6), (5e12, 1e10), (1e13, 1e10)],
                         ids=["I=2", "I=0.75", "I=500", "I=1000"])
def test_memory_and_compute_regimes(sub, flops, nbytes):
    check_all(sub, flops, nbytes, 989.5, 3350.0)   # an H100-like ridge at ~295 FLOP/byte


@pytest.mark.points(2)
def test_ridge_point(sub):
    peak, bw = 1000.0, 250.0                 # ridge at exactly 4 FLOP/byte
    check_all(sub, 4e9, 1e9, peak, bw)       # on the ridge: both times equal, "compute"
    check_all(sub, 3.999e9, 1e9, peak, bw)   # just left of it
    check_all(sub, 4.001e9, 1e9, peak, bw)   # just right of it


@pytest.mark.points(2)
def test_arrays_broadcast(sub):
    rng = np.random.default_rng(5)
    flops = 10 ** rng.uniform(6, 12, (5, 1))
    nbytes = 10 ** rng.uniform(6, 10, (1, 4))
    peak, bw = 500.0, np.array([20.0, 50.0, 100.0, 900.0])
    want = [[exact(flops[i, 0], nbytes[0, j], peak, bw[j]) for j in range(4)] for i in range(5)]
    case = {"flops": flops, "nbytes": nbytes, "peak_gflops": peak, "bandwidth_gbs": bw}
    got = call_checked(sub.attainable_gflops, flops, nbytes, peak, bw, case=case)
    compare("attainable_gflops", got, np.array([[w[0] for w in r] for r in want]),
            rtol=1e-12, atol=0, case=case, hint=HINT)
    got = call_checked(sub.min_time_s, flops, nbytes, peak, bw, case=case)
    compare("min_time_s", got, np.array([[w[2] for w in r] for r in want]), rtol=1e-12, atol=0,
            case=case, hint=HINT)
    got = call_checked(sub.bound, flops, nbytes, peak, bw, case=case)
    expected = np.array([[w[1] for w in r] for r in want])
    if not isinstance(got, np.ndarray) or got.shape != expected.shape or \
            not (got.astype(str) == expected).all():
        raise GradingFailure(f"bound for {case} should be an array of shape {expected.shape} "
                             f"equal to\n{expected}\ngot\n{got!r}", "wrong values")


@pytest.mark.points(1)
@pytest.mark.parametrize("args,name", [((1e9, 0.0, 100.0, 10.0), "nbytes"),
                                       ((1e9, 1e9, -5.0, 10.0), "peak_gflops"),
                                       ((-1.0, 1e9, 100.0, 10.0), "flops")])
def test_bad_inputs_name_the_argument(sub, args, name):
    with pytest.raises(ValueError) as e:
        sub.attainable_gflops(*args)
    assert name in str(e.value), f"the ValueError should name {name!r}, got: {str(e.value)!r}"

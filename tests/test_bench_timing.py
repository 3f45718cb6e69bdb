"""course_lib.bench.timing against workloads of known duration and known relative cost."""
import time

import numpy as np
import pytest

from course_lib.bench.timing import Timing, auto_repeats, time_cpu, time_interleaved


def test_sleep_of_20_ms_is_timed_as_20_ms():
    t = time_cpu(lambda: time.sleep(0.02), repeats=5, warmup=1)
    assert t.repeats == 5 and t.warmup == 1
    assert t.min >= 0.0199                      # sleep never returns early
    assert t.median == pytest.approx(0.02, abs=0.015)   # wake-up latency on a loaded box


def _busy(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def test_twice_the_work_takes_twice_the_time():
    # calls of ~0.3 ms, shorter than a scheduler time slice: on a loaded machine many
    # samples still run undisturbed, and the fastest of 41 is one of them
    n = 5_000
    ts = time_interleaved({"1x": lambda: _busy(n), "2x": lambda: _busy(2 * n)}, repeats=41)
    ratio = ts["2x"].min / ts["1x"].min
    assert 1.6 < ratio < 2.5, ratio


def test_number_divides_the_sample_by_the_inner_calls():
    t1 = time_cpu(lambda: time.sleep(0.005), repeats=3, number=4)
    assert t1.number == 4 and t1.min >= 0.0049 and t1.median < 0.02


def test_statistics_match_numpy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 8, 13):
        s = tuple(rng.random(n))
        t = Timing(s)
        assert t.median == pytest.approx(float(np.median(s)))
        q1, q3 = t.quartiles
        assert q1 == pytest.approx(float(np.percentile(s, 25)))
        assert q3 == pytest.approx(float(np.percentile(s, 75)))
        assert t.iqr == pytest.approx(q3 - q1) and t.min == min(s) and t.max == max(s)
        assert t.ms == pytest.approx(1e3 * float(np.median(s)))
        assert Timing.from_dict(t.to_dict()) == t


def test_interleaved_runs_round_robin_after_warmup():
    calls = []
    time_interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                     repeats=3, warmup=1)
    assert "".join(calls) == "ab" + "ab" * 3


def test_auto_repeats_from_the_first_call():
    calls = []
    t = time_cpu(lambda: calls.append(1), repeats=None, warmup=1)
    assert t.repeats == auto_repeats(0.0) == 9 and len(calls) == 1 + 9
    assert time_cpu(lambda: None, repeats=None, quick=True).repeats == 2
    assert auto_repeats(2.0) == 2 and auto_repeats(0.1) == 7


@pytest.mark.parametrize("kw", [dict(repeats=0), dict(repeats=2, warmup=-1),
                                dict(repeats=2, number=0), dict(repeats=1.5)])
def test_bad_counts_raise(kw):
    with pytest.raises(ValueError, match=next(iter(k for k in kw if k != "repeats"), "repeats")):
        time_cpu(lambda: None, **kw)


def test_empty_inputs_raise():
    with pytest.raises(ValueError, match="sample"):
        Timing(())
    with pytest.raises(ValueError, match="fns"):
        time_interleaved({}, repeats=1)

"""``run_within_budget``: parts run in order, none starts after the budget, a failing part
is recorded without stopping the others.  A fake clock makes the budget exact."""
import pytest

from course_lib.bench.budget import run_within_budget


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_parts_run_in_order_and_results_are_saved():
    clock, seen, saved = Clock(), [], []

    def part(name, cost):
        def fn():
            seen.append(name)
            clock.t += cost
            return name.upper()
        return fn

    parts = [("a", part("a", 4)), ("b", part("b", 4)), ("c", part("c", 4)), ("d", part("d", 1))]
    out = run_within_budget(parts, budget_s=7, log=lambda s: None, clock=clock,
                            on_done=lambda n, v: saved.append((n, v)))
    # a ends at 4 s, b starts (4 <= 7) and ends at 8 s: c and d are never started
    assert seen == ["a", "b"] and saved == [("a", "A"), ("b", "B")]
    assert out.skipped == ["c", "d"] and set(out.errors) == {"c", "d"}
    assert "budget" in out.errors["c"] and not out.failed


def test_a_failing_part_is_recorded_and_the_rest_still_run():
    logs = []

    def boom():
        raise ZeroDivisionError("planted")

    out = run_within_budget([("x", boom), ("y", lambda: 3)], budget_s=60, log=logs.append,
                            clock=Clock())
    assert out.values == {"y": 3} and out.failed
    assert "ZeroDivisionError: planted" in out.errors["x"]
    assert any("planted" in line for line in logs)


@pytest.mark.parametrize("budget", [0, -1.0, float("nan")])
def test_bad_budget(budget):
    with pytest.raises(ValueError, match="budget_s"):
        run_within_budget([("x", lambda: 1)], budget_s=budget)


def test_duplicate_names():
    with pytest.raises(ValueError, match="unique"):
        run_within_budget([("x", lambda: 1), ("x", lambda: 2)], budget_s=1)


def test_store_receives_each_value_before_on_done():
    store, seen = {}, []
    run_within_budget([("a", lambda: 1), ("b", lambda: 2)], budget_s=60, log=lambda s: None,
                      store=store, on_done=lambda n, v: seen.append(dict(store)),
                      clock=Clock())
    assert store == {"a": 1, "b": 2} and seen == [{"a": 1}, {"a": 1, "b": 2}]

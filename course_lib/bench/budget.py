"""Run a benchmark's parts in order within a wall-clock budget.

A GPU check has a fixed time on a lent machine, so every GPU script works the same way:
it starts no further part once ``budget_s`` seconds have gone, a part that raises is
logged and recorded but does not stop the others, and the script saves its results after
every part (a run killed by an outer time limit still leaves what it measured)::

    outcome = run_within_budget(parts, budget_s=240, log=log, store=result,
                                on_done=lambda name, value: save(result))
    result["stage_errors"].update(outcome.errors)

``parts`` is a sequence of ``(name, fn)``; ``fn()``'s value goes to ``store[name]`` (when
a dict is given) and then to ``on_done(name, value)``.  The names in ``outcome.skipped``
were never started.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


@dataclass
class BudgetOutcome:
    """What happened to each part: ``values`` (name -> return value), ``errors``
    (name -> short traceback, or the reason it was skipped), ``skipped`` (names)."""

    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when a part raised (skipped parts are not failures)."""
        return any(name not in self.skipped for name in self.errors)


def run_within_budget(parts: Sequence[tuple[str, Callable[[], Any]]], *, budget_s: float,
                      log: Callable[[str], None] = print,
                      on_done: Callable[[str, Any], None] | None = None,
                      store: dict | None = None,
                      clock: Callable[[], float] = time.monotonic) -> BudgetOutcome:
    """Call each part's ``fn`` in order; start none after ``budget_s`` seconds.

    A part that raises gets its traceback (3 frames) in ``errors`` and the run goes on;
    ``store[name]`` receives each returned value; ``on_done`` is called after every part
    that returned, for saving partial results.
    """
    if not budget_s > 0:
        raise ValueError(f"budget_s must be > 0 seconds, got {budget_s!r}")
    names = [name for name, _ in parts]
    if len(set(names)) != len(names):
        raise ValueError(f"part names must be unique, got {names}")
    out = BudgetOutcome()
    t0 = clock()
    for name, fn in parts:
        used = clock() - t0
        if used > budget_s:
            out.skipped.append(name)
            out.errors[name] = f"skipped: {budget_s:.0f} s budget used up"
            log(f"budget of {budget_s:.0f} s used up ({used:.0f} s): skipping {name}")
            continue
        log(f"[{name}] ...")
        try:
            value = fn()
        except Exception:
            out.errors[name] = traceback.format_exc(limit=3)
            log(out.errors[name])
            continue
        out.values[name] = value
        if store is not None:
            store[name] = value
        log(f"[{name}] done at {clock() - t0:.1f} s")
        if on_done is not None:
            on_done(name, value)
    return out

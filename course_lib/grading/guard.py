"""Call a submission safely: it gets copies of the inputs, and modifying them is reported."""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from .feedback import GradingFailure, describe_case


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def call_checked(fn: Callable, *args: Any, case=None, **kwargs: Any) -> Any:
    """Return ``fn(*args, **kwargs)`` called on copies of every ndarray argument.

    The caller's arrays are never touched (so later reference computations stay valid), and if
    ``fn`` modified one of its copies a :class:`GradingFailure` names the argument: functions in
    these exercises must not change their inputs in place. A submission's function (it runs in
    the sandbox, see :mod:`.proxy`) reports the state of its copies after the call.
    """
    given_args = [_copy(a) for a in args]
    given_kwargs = {k: _copy(v) for k, v in kwargs.items()}
    if hasattr(fn, "call_with_state"):
        out, after, kw_after = fn.call_with_state(*given_args, **given_kwargs)
        names = list(getattr(fn, "parameter_names", []))
        after_args = [after[i] if i < len(after) and isinstance(after[i], np.ndarray) else mine
                      for i, mine in enumerate(given_args)]
        after_kwargs = {k: kw_after.get(k, v) if isinstance(v, np.ndarray) else v
                        for k, v in given_kwargs.items()}
    else:
        out = fn(*given_args, **given_kwargs)
        try:
            names = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            names = []
        after_args, after_kwargs = given_args, given_kwargs
    pairs = [(names[i] if i < len(names) else f"argument {i + 1}", orig, mine)
             for i, (orig, mine) in enumerate(zip(args, after_args))]
    pairs += [(k, kwargs[k], after_kwargs[k]) for k in kwargs if k != "out"]
    for name, orig, mine in pairs:
        if isinstance(orig, np.ndarray):
            same = (isinstance(mine, np.ndarray) and mine.shape == orig.shape
                    and mine.dtype == orig.dtype and np.array_equal(mine, orig, equal_nan=True))
            if not same:
                text = describe_case(case)
                pre = f"case {text}: " if text else ""
                raise GradingFailure(f"{pre}your function modified its input '{name}' in place; "
                                     f"work on a copy (e.g. np.pad or x.copy()) instead",
                                     "modified its input")
    return out

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
    these exercises must not change their inputs in place.
    """
    given_args = [_copy(a) for a in args]
    given_kwargs = {k: _copy(v) for k, v in kwargs.items()}
    out = fn(*given_args, **given_kwargs)
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    pairs = [(names[i] if i < len(names) else f"argument {i + 1}", orig, mine)
             for i, (orig, mine) in enumerate(zip(args, given_args))]
    pairs += [(k, kwargs[k], given_kwargs[k]) for k in kwargs]
    for name, orig, mine in pairs:
        if isinstance(orig, np.ndarray):
            same = (mine.shape == orig.shape and mine.dtype == orig.dtype
                    and np.array_equal(mine, orig, equal_nan=True))
            if not same:
                text = describe_case(case)
                pre = f"case {text}: " if text else ""
                raise GradingFailure(f"{pre}your function modified its input '{name}' in place; "
                                     f"work on a copy (e.g. np.pad or x.copy()) instead",
                                     "modified its input")
    return out

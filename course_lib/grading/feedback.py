"""Assertions that explain themselves: shape, dtype and value checks for exercise tests.

Every failure raises :class:`GradingFailure` (an ``AssertionError``) whose message names the
case (shapes, stride, padding), what was wrong and where, so a learner can act on it. The
``category`` attribute is a short generic label ("wrong shape", ...) that the grader may show
for hidden tests, whose full message is never shown.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np


class GradingFailure(AssertionError):
    """A test failure with a learner-facing message and a generic ``category``."""

    def __init__(self, message: str, category: str = "wrong result"):
        super().__init__(message)
        self.category = category


def _shape(a: Any) -> str:
    return "(" + ",".join(str(int(s)) for s in np.shape(a)) + ")"


def describe_case(case: str | Mapping[str, Any] | None) -> str:
    """Format a test case: arrays show as ``name(shape)``, everything else as ``name=value``.

    >>> describe_case({"stride": (2, 1), "padding": 1, "x": np.zeros((2, 3, 7, 5))})
    'stride=(2, 1) padding=1 x(2,3,7,5)'
    """
    if case is None:
        return ""
    if isinstance(case, str):
        return case
    parts = []
    for key, value in case.items():
        if isinstance(value, np.ndarray):
            parts.append(f"{key}{_shape(value)}")
        else:
            parts.append(f"{key}={value!r}")
    return " ".join(parts)


def _prefix(case) -> str:
    text = describe_case(case)
    return f"case {text}: " if text else ""


def _suffix(hint: str | None) -> str:
    return f"; hint: {hint}" if hint else ""


def compare(name: str, got: Any, expected: np.ndarray, *, rtol: float = 1e-5, atol: float = 1e-6,
            case: str | Mapping[str, Any] | None = None, hint: str | None = None,
            dtype: Any = "same") -> None:
    """Assert that ``got`` is an ndarray with ``expected``'s shape, dtype and values.

    ``dtype="same"`` demands ``expected.dtype``; pass a dtype to demand another one, or
    ``None`` to skip the dtype check. Values must satisfy
    ``|got - expected| <= atol + rtol * |expected|`` element-wise; the message reports the worst
    element (largest excess over that bound) with its absolute and relative error.
    """
    expected = np.asarray(expected)
    pre, post = _prefix(case), _suffix(hint)
    if not isinstance(got, np.ndarray):
        raise GradingFailure(f"{pre}{name} should be a numpy.ndarray of shape {_shape(expected)}, "
                             f"got {type(got).__name__}{post}", "wrong type")
    if got.shape != expected.shape:
        raise GradingFailure(f"{pre}{name} has shape {_shape(got)}, expected {_shape(expected)}"
                             f"{post}", "wrong shape")
    want = expected.dtype if dtype == "same" else (None if dtype is None else np.dtype(dtype))
    if want is not None and got.dtype != want:
        raise GradingFailure(f"{pre}{name} has dtype {got.dtype}, expected {want} (keep the dtype of "
                             f"the inputs; avoid silent float64 promotion){post}", "wrong dtype")
    g = got.astype(np.float64)
    e = expected.astype(np.float64)
    finite = np.isfinite(g)
    if not finite.all():
        idx = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise GradingFailure(f"{pre}{name} contains {int((~finite).sum())} NaN/inf value(s), first at "
                             f"index {idx}{post}", "NaN or inf")
    err = np.abs(g - e)
    bound = atol + rtol * np.abs(e)
    if (err <= bound).all():
        return
    idx = np.unravel_index(int(np.argmax(err - bound)), err.shape)
    worst = float(err.max())
    rel = worst / max(float(np.abs(e).max()), np.finfo(np.float64).tiny)
    nbad = int((err > bound).sum())
    at = tuple(int(i) for i in idx)
    raise GradingFailure(
        f"{pre}{name} max abs err {worst:.1e} (rel {rel:.1e}); {nbad} of {err.size} elements out of "
        f"tolerance (rtol={rtol:g}, atol={atol:g}); worst at index {at}: got {g[idx]:.6g}, "
        f"expected {e[idx]:.6g}{post}", "wrong values")


def unpack(name: str, got: Any, n: int, case=None, hint: str | None = None) -> tuple:
    """Assert ``got`` is a tuple/list of ``n`` items (a function returning several arrays)."""
    if not isinstance(got, (tuple, list)) or len(got) != n:
        what = f"{type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) \
            else type(got).__name__
        raise GradingFailure(f"{_prefix(case)}{name} should be a tuple of {n} arrays, got {what}"
                             f"{_suffix(hint)}", "wrong type")
    return tuple(got)

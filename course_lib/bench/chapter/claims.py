"""A claim of the source chapter, our measurement beside it, and a verdict.

Three verdicts, decided by one rule so that the chapter cannot pick them by hand:

* **confirmed** -- we measured the same quantity, under conditions the claim names,
  and it agrees within ``rel_tol`` (a relative tolerance stated per claim: round
  figures such as "25M" are given 5 %);
* **corrected** -- we measured it and it does not agree; the row shows our value;
* **unverifiable** -- we did not or cannot measure it here (another device, a trained
  model, a dataset); the row says why, and what we measured instead if anything.

A claim about an order ("B is faster than A") is a :class:`Claim` with
``source_value=True`` and ``measured`` the truth value we found (None: not measured).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

VERDICTS = ("confirmed", "corrected", "unverifiable")


def verdict(source_value, measured, rel_tol: float = 0.05) -> str:
    """``"confirmed"``, ``"corrected"`` or ``"unverifiable"`` (``measured`` None).

    Numbers agree when ``|measured - source| <= rel_tol * |source|``; booleans (an
    order or a yes/no claim) when they are equal.
    """
    if not (isinstance(rel_tol, (int, float)) and rel_tol >= 0 and math.isfinite(rel_tol)):
        raise ValueError(f"rel_tol must be a finite number >= 0, got {rel_tol!r}")
    if measured is None:
        return "unverifiable"
    if isinstance(source_value, bool) or isinstance(measured, bool):
        if not (isinstance(source_value, bool) and isinstance(measured, bool)):
            raise TypeError(f"a yes/no claim needs booleans on both sides, got "
                            f"source_value={source_value!r}, measured={measured!r}")
        return "confirmed" if source_value == measured else "corrected"
    try:
        s, m = float(source_value), float(measured)
    except (TypeError, ValueError):
        raise TypeError(f"source_value and measured must be numbers or booleans, got "
                        f"{source_value!r} and {measured!r}") from None
    if not (math.isfinite(s) and math.isfinite(m)):
        raise ValueError(f"source_value and measured must be finite, got {s!r} and {m!r}")
    return "confirmed" if abs(m - s) <= rel_tol * abs(s) else "corrected"


def _plain(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


@dataclass(frozen=True)
class Claim:
    """One cell of a source table.

    ``what``: the quantity ("ResNet-50 parameters"); ``source_value``: the number (in
    ``unit``) or True for a yes/no claim; ``measured``: ours in the same unit, or None;
    ``basis``: how ours was obtained (device, size) or, when ``measured`` is None, why
    there is no measurement; ``fmt``: formats both values for display.
    """

    what: str
    source_value: object
    measured: object = None
    unit: str = ""
    basis: str = ""
    rel_tol: float = 0.05
    fmt: Callable[[object], str] | None = None

    def __post_init__(self):
        if not self.what:
            raise ValueError("a claim needs a description (what), got an empty string")
        if self.measured is None and not self.basis:
            raise ValueError(f"claim {self.what!r}: an unmeasured claim must say why "
                             f"(basis), got an empty basis")

    @property
    def verdict(self) -> str:
        return verdict(self.source_value, self.measured, self.rel_tol)


def judge(claim: Claim) -> tuple[str, str, str, str, str]:
    """A table row: (what, source's value, ours, verdict, basis).  A corrected number
    also shows our value relative to the source's (e.g. ``x 0.31``)."""
    f = claim.fmt or _plain
    unit = f" {claim.unit}" if claim.unit else ""
    src = f(claim.source_value) + (unit if not isinstance(claim.source_value, bool) else "")
    v = claim.verdict
    if claim.measured is None:
        ours = "not measured"
    else:
        ours = f(claim.measured) + (unit if not isinstance(claim.measured, bool) else "")
        if v == "corrected" and not isinstance(claim.measured, bool) \
                and float(claim.source_value) != 0:
            ours += f" (x {float(claim.measured) / float(claim.source_value):.2g})"
    return claim.what, src, ours, v, claim.basis


def tally(claims) -> dict[str, int]:
    """How many claims got each verdict (all three keys present)."""
    out = {v: 0 for v in VERDICTS}
    for c in claims:
        out[c.verdict] += 1
    return out

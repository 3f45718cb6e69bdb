"""One table per operation: the course's implementations of it side by side.

Input: the measured implementations of one operation, as plain dicts -- the result rows
of a :mod:`.records` record (``benchmarks/bench_ops.py`` writes them), so a chapter can
rebuild the tables from a committed JSON file::

    {"name": "numpy im2col",
     "params": {"op": "conv", "shape": {...}, "device": "cpu", "threads": 2},
     "timing": {"median_s": ..., "q1_s": ..., "q3_s": ..., "samples_s": [...]} or None,
     "flops": 1.85e9,               # FLOPs of one call (the op's useful work)
     "bytes": 6.4e7,                # bytes the intensity is computed from (see below)
     "traffic": "compulsory",       # optional: which bytes those are (default compulsory)
     "max_abs_err": 2.9e-6,         # optional: max |out - float64 reference|
     "tolerance": 1e-3,             # optional: the error this row must stay within
     "note": "..."}                 # optional: why it was not timed, what it is

:func:`op_table` turns them into table rows with

* ``median_ms``, ``q1_ms``, ``q3_ms``, ``iqr_ms`` -- milliseconds per call;
* ``gflops`` -- ``flops / median / 1e9`` (GFLOP/s achieved);
* ``ratio_to_best`` -- median over the fastest row's median (the fastest is 1.00);
* ``intensity`` -- ``flops / bytes`` in FLOP/byte.  The bytes are the op's *compulsory*
  traffic (inputs read once, output written once: :mod:`.counts`), the same for every
  implementation of the op, unless a row's ``traffic`` names its own count (e.g. an
  attention that writes the L x S scores to memory); the ``traffic`` column says which;
* ``attainable_gflops`` -- ``min(peak, intensity x bandwidth)`` from the measured
  ceilings of the row's device (:mod:`.roofline`), ``roofline_fraction`` -- achieved
  over attainable, ``bound`` -- "memory" or "compute" (left or right of the ridge);
* ``max_abs_err``, ``tolerance``, ``passed`` -- the correctness check, when given.

A row without timing (an emulator run: correctness only; a GPU row on a machine
without a GPU) stays untimed: its time, GFLOP/s, ratio and roofline fraction are
``None`` -- never 0 -- and :func:`markdown_op_table` prints "not timed" with its note.

Everything here is a pure function of its arguments (no clock, no NumPy state).
"""
from __future__ import annotations

import math
import statistics
from typing import Mapping, Sequence

from .roofline import Ceilings, attainable_gflops
from .tables import markdown_table
from .timing import Timing, _quantile

COMPULSORY = "compulsory"

#: Columns of :func:`markdown_op_table`.
COLUMNS = ("implementation", "device", "median ms (IQR)", "GFLOP/s", "x best", "FLOP/B",
           "attainable GFLOP/s", "% of roof", "max abs err", "note")


# --------------------------------------------------------------------------- checks

def _number(row_name: str, key: str, v, *, positive: bool = True, allow_none: bool = True):
    """``v`` as a float, checked: None (if allowed) or finite and > 0 (>= 0 if not positive)."""
    if v is None:
        if allow_none:
            return None
        raise ValueError(f"row {row_name!r}: {key} is required, got None")
    if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
        raise ValueError(f"row {row_name!r}: {key} must be a number, got {v!r}")
    f = float(v)
    if not math.isfinite(f) or (f <= 0 if positive else f < 0):
        want = "finite and > 0" if positive else "finite and >= 0"
        raise ValueError(f"row {row_name!r}: {key} must be {want}, got {v!r}")
    return f


def _ceilings(c, what: str) -> Ceilings | None:
    if c is None or isinstance(c, Ceilings):
        return c
    if isinstance(c, Mapping) and "peak_gflops" in c and "bandwidth_gbs" in c:
        return Ceilings(float(c["peak_gflops"]), float(c["bandwidth_gbs"]), c.get("how", ""))
    raise ValueError(f"{what} must be None, a Ceilings or a dict with peak_gflops and "
                     f"bandwidth_gbs, got {c!r}")


def ceilings_for(ceilings, device: str | None) -> Ceilings | None:
    """The ceilings that apply to ``device``.

    ``ceilings``: None (no roofline), one ceiling set for every row (a :class:`Ceilings` or
    a dict with ``peak_gflops`` and ``bandwidth_gbs``), or a mapping ``{device: ceilings or
    None}`` (e.g. ``{"cpu": ..., "cuda": ...}``: a GPU kernel is placed on the GPU's roof).
    A device missing from the mapping has no roofline (None).
    """
    if ceilings is None or isinstance(ceilings, Ceilings):
        return ceilings
    if not isinstance(ceilings, Mapping):
        raise ValueError(f"ceilings must be None, a Ceilings, a ceilings dict or a "
                         f"{{device: ceilings}} dict, got {type(ceilings).__name__}")
    if "peak_gflops" in ceilings or "bandwidth_gbs" in ceilings:
        return _ceilings(ceilings, "ceilings")
    return _ceilings(ceilings.get(device), f"ceilings[{device!r}]")


# --------------------------------------------------------------------------- one row

def timing_summary(timing) -> dict | None:
    """Median, quartiles and IQR in seconds of a harness timing (dict or :class:`Timing`).

    A dict needs ``samples_s`` (the quartiles are recomputed from them) or ``median_s``
    (with ``q1_s``/``q3_s``, else the spread is unknown: None).  None -> None (not timed).
    """
    if timing is None:
        return None
    if isinstance(timing, Timing):
        timing = timing.to_dict()
    if not isinstance(timing, Mapping):
        raise ValueError(f"timing must be None, a Timing or a dict, got {type(timing).__name__}")
    samples = timing.get("samples_s")
    if samples:
        s = sorted(float(v) for v in samples)
        if any(not math.isfinite(v) or v <= 0 for v in s):
            raise ValueError(f"timing samples must be finite and > 0 s, got {samples!r}")
        med, q1, q3 = statistics.median(s), _quantile(s, 0.25), _quantile(s, 0.75)
    elif timing.get("median_s") is not None:
        med = _number("timing", "median_s", timing["median_s"])
        q1, q3 = timing.get("q1_s"), timing.get("q3_s")
    else:
        raise ValueError(f"timing needs samples_s or median_s, got keys {sorted(timing)}")
    iqr = None if q1 is None or q3 is None else float(q3) - float(q1)
    return {"median_s": med, "q1_s": q1, "q3_s": q3, "iqr_s": iqr}


def roofline_point(flops: float, nbytes: float, seconds: float | None,
                   ceilings: Ceilings | None) -> dict:
    """A row's place on the roofline.

    ``intensity = flops / nbytes`` (FLOP/byte); with ceilings, ``attainable_gflops =
    min(peak, intensity x bandwidth)`` and ``bound``; with a time too, ``gflops`` and
    ``roofline_fraction = gflops / attainable``.  Missing inputs give None entries.
    """
    out = {"intensity": None, "gflops": None, "attainable_gflops": None,
           "roofline_fraction": None, "bound": None}
    if flops is not None and seconds is not None:
        out["gflops"] = flops / seconds / 1e9
    if flops is None or nbytes is None:
        return out
    ai = flops / nbytes
    out["intensity"] = ai
    if ceilings is not None:
        roof = attainable_gflops(ai, ceilings.peak_gflops, ceilings.bandwidth_gbs)
        out["attainable_gflops"] = roof
        out["bound"] = "memory" if ai < ceilings.ridge else "compute"
        if out["gflops"] is not None:
            out["roofline_fraction"] = out["gflops"] / roof
    return out


def _passed(err, tol) -> bool | None:
    if tol is None or err is None:
        return None
    return err <= tol


# --------------------------------------------------------------------------- the table

def _op_of(row: Mapping) -> str | None:
    return (row.get("params") or {}).get("op")


def op_table(rows: Sequence[Mapping], ceilings=None) -> list[dict]:
    """The side-by-side table of one operation (see the module doc for the keys).

    ``rows``: the implementations, in the order the table lists them; names unique,
    every ``params.op`` the same (rows without one are accepted).  ``ceilings``: see
    :func:`ceilings_for`.  The fastest timed row that did not fail its check has
    ``ratio_to_best`` 1.0; untimed rows have None there and in every timing column.
    """
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or not rows:
        raise ValueError(f"rows must be a non-empty list of dicts, got {rows!r}")
    names, ops = set(), set()
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping):
            raise ValueError(f"rows[{i}] must be a dict, got {type(r).__name__}")
        name = r.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"rows[{i}] needs a non-empty 'name', got {name!r}")
        if name in names:
            raise ValueError(f"two rows are named {name!r}; implementation names must be unique")
        names.add(name)
        if _op_of(r) is not None:
            ops.add(_op_of(r))
        params = r.get("params") or {}
        device = params.get("device")
        flops = _number(name, "flops", r.get("flops"))
        nbytes = _number(name, "bytes", r.get("bytes"))
        err = r.get("max_abs_err")
        err = None if err is None else _error(name, err)
        tol = _number(name, "tolerance", r.get("tolerance"))
        t = timing_summary(r.get("timing"))
        point = roofline_point(flops, nbytes, None if t is None else t["median_s"],
                               ceilings_for(ceilings, device))
        ms = (lambda s: None if s is None else 1e3 * float(s))
        out.append({
            "name": name, "device": device, "timed": t is not None,
            "median_ms": None if t is None else ms(t["median_s"]),
            "q1_ms": None if t is None else ms(t["q1_s"]),
            "q3_ms": None if t is None else ms(t["q3_s"]),
            "iqr_ms": None if t is None else ms(t["iqr_s"]),
            "flops": flops, "bytes": nbytes,
            "traffic": (r.get("traffic") or COMPULSORY) if nbytes is not None else None,
            **point, "ratio_to_best": None,
            "max_abs_err": err, "tolerance": tol, "passed": _passed(err, tol),
            "note": r.get("note") or "",
        })
    if len(ops) > 1:
        raise ValueError(f"one table is one operation, but the rows hold {sorted(ops)}")
    eligible = [o["median_ms"] for o in out if o["timed"] and o["passed"] is not False]
    if eligible:
        best = min(eligible)
        for o in out:
            if o["timed"]:
                o["ratio_to_best"] = o["median_ms"] / best
    return out


def _error(name: str, err) -> float:
    """A max-abs-error: >= 0; NaN/inf are kept (a broken result must show as one)."""
    if isinstance(err, bool) or not isinstance(err, (int, float)):
        raise ValueError(f"row {name!r}: max_abs_err must be a number, got {err!r}")
    if err < 0:
        raise ValueError(f"row {name!r}: max_abs_err must be >= 0, got {err!r}")
    return float(err)


def table_key(row: Mapping) -> str:
    """Which table a record row belongs to: its ``params.op``, plus ``params.variant``
    when the op is measured in several variants (``"attention, causal"``)."""
    params = row.get("params") or {}
    op = params.get("op")
    if not op:
        raise ValueError(f"row {row.get('name')!r} has no params.op: cannot tell its table")
    v = params.get("variant")
    return f"{op}, {v}" if v else str(op)


def tables_from_record(record: Mapping) -> dict[str, list[dict]]:
    """``{table key: op_table(...)}`` for every operation in a record, in record order.

    Rows are grouped by :func:`table_key`; the ceilings are the record's per-device
    ceilings (``config.ceilings_by_device``) when present, else ``record["ceilings"]``
    for every row.
    """
    results = record.get("results") if isinstance(record, Mapping) else None
    if not results:
        raise ValueError("record must be a dict with a non-empty 'results' list")
    by_device = (record.get("config") or {}).get("ceilings_by_device")
    ceilings = by_device if by_device else record.get("ceilings")
    groups: dict[str, list] = {}
    for r in results:
        groups.setdefault(table_key(r), []).append(r)
    return {k: op_table(rows, ceilings) for k, rows in groups.items()}


# --------------------------------------------------------------------------- Markdown

def _fmt(v: float | None, digits: int = 3) -> str:
    """``digits`` significant figures, fixed-point where readable; None -> "–"."""
    if v is None:
        return "–"
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        d = max(0, digits - 1 - int(math.floor(math.log10(abs(v))))) if v else 0
        return f"{v:.{d}f}"
    return f"{v:.{digits - 1}e}"


def _time_cell(r: Mapping) -> str:
    if not r["timed"]:
        return "not timed"
    if r["q1_ms"] is None:
        return _fmt(r["median_ms"])
    return f"{_fmt(r['median_ms'])} ({_fmt(r['q1_ms'])}–{_fmt(r['q3_ms'])})"


def _err_cell(r: Mapping) -> str:
    if r["max_abs_err"] is None:
        return "–"
    verdict = {True: " ok", False: " FAIL", None: ""}[r["passed"]]
    return f"{r['max_abs_err']:.1e}{verdict}"


def markdown_op_table(table: Sequence[Mapping], title: str | None = None) -> list[str]:
    """Lines of a Markdown table of :func:`op_table`'s rows (:data:`COLUMNS`).

    The intensity cell names the traffic when a row counts its own (not the compulsory);
    "% of roof" above 100 means the row beats the measured ceiling (see :mod:`.roofline`).
    """
    cells = []
    for r in table:
        ai = _fmt(r["intensity"])
        if r["intensity"] is not None and r["traffic"] not in (None, COMPULSORY):
            ai += f" ({r['traffic']})"
        frac = r["roofline_fraction"]
        cells.append([r["name"], r["device"] or "–", _time_cell(r), _fmt(r["gflops"]),
                      "–" if r["ratio_to_best"] is None else f"{r['ratio_to_best']:.2f}",
                      ai, _fmt(r["attainable_gflops"]),
                      "–" if frac is None else f"{100 * frac:.0f}",
                      _err_cell(r), r["note"].replace("|", "\\|")])   # a "|" would split the cell
    return markdown_table(COLUMNS, cells, title)

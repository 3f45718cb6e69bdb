"""Benchmark results as JSON records under ``benchmarks/results/<machine-slug>/``.

One record per benchmark run::

    {"schema": "course_lib.bench/1", "benchmark": "conv_cpu", "quick": false,
     "created": "2026-12-01T20:00:00Z", "machine": {...machine_record()...},
     "ceilings": {...} or null, "config": {...},
     "results": [{"name": "im2col", "params": {"layer": "3x3 28px c128"},
                  "timing": {...Timing.to_dict()...}, "memory": {...}, "flops": 1.8e9,
                  "bytes": 3.2e6, ...}, ...]}

Every result keeps its raw timing samples, so plots can draw the spread and a later
reader can recompute any statistic.  :func:`read_record` checks the schema.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

from .machine import machine_record, machine_slug
from .memory import MemoryFigures
from .timing import Timing

SCHEMA = "course_lib.bench/1"
RESULTS_ROOT = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def new_record(benchmark: str, *, quick: bool = False, config: dict | None = None,
               machine: dict | None = None, ceilings=None) -> dict:
    """An empty record for one run of ``benchmark`` on this machine."""
    if not isinstance(benchmark, str) or not benchmark or "/" in benchmark:
        raise ValueError(f"benchmark must be a non-empty name without '/', got {benchmark!r}")
    return {"schema": SCHEMA, "benchmark": benchmark, "quick": bool(quick),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": machine_record() if machine is None else machine,
            "ceilings": None if ceilings is None else ceilings.to_dict(),
            "config": dict(config or {}), "results": []}


def _jsonable(v):
    if isinstance(v, Timing):
        return v.to_dict()
    if isinstance(v, MemoryFigures):
        return v.to_dict()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item") and callable(v.item):          # NumPy scalars
        return v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def add_result(record: dict, name: str, *, timing: Timing | None = None,
               memory: MemoryFigures | dict | None = None, flops: float | None = None,
               nbytes: float | None = None, params: dict | None = None, **extra) -> dict:
    """Append one measurement to ``record``; returns the stored row.

    ``timing``: seconds per call; ``memory``: peaks; ``flops``/``nbytes``: the counts
    of one call (for GFLOP/s and the roofline); ``params``: what was measured (sizes,
    layer); ``extra``: anything else (errors, ratios).
    """
    row = {"name": str(name), "params": _jsonable(params or {}),
           "timing": None if timing is None else timing.to_dict(),
           "memory": _jsonable(memory), "flops": flops, "bytes": nbytes}
    if timing is not None and flops:
        row["gflops"] = flops / timing.median / 1e9
    row.update({k: _jsonable(v) for k, v in extra.items()})
    record["results"].append(row)
    return row


def record_path(record: dict, root: Path | str | None = None) -> Path:
    """``<root>/<machine-slug>/<benchmark>[_quick].json``."""
    root = RESULTS_ROOT if root is None else Path(root)
    name = record["benchmark"] + ("_quick" if record.get("quick") else "")
    return root / machine_slug(record["machine"]) / f"{name}.json"


def write_record(record: dict, root: Path | str | None = None) -> Path:
    """Write ``record`` as JSON (indented, NaN/inf as null); returns the path."""
    path = record_path(record, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(record), indent=1, allow_nan=False) + "\n")
    return path


def read_record(path: Path | str) -> dict:
    """Load a record; ValueError if the file is not a ``course_lib.bench`` record."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a {SCHEMA} record (schema={data.get('schema')!r})"
                         if isinstance(data, dict) else f"{path} is not a JSON object")
    for key in ("benchmark", "machine", "results"):
        if key not in data:
            raise ValueError(f"{path}: record lacks {key!r}")
    return data


def timings(record: dict) -> dict[str, Timing]:
    """``{result name: Timing}`` of the results that were timed."""
    return {r["name"]: Timing.from_dict(r["timing"]) for r in record["results"]
            if r.get("timing")}


_PER_KEY = ("ms", "TFLOPs", "GBps", "max_abs_err", "errors", "pct_of_cudnn")


def add_rows(record: dict, part: str, rows: list[dict]) -> None:
    """Add a GPU script's table rows to ``record``: one result per timed key of each row.

    A row is ``{<what was measured>..., "ms": {key: ms}, "TFLOPs": {...}, ...}`` as the
    ``bench_*_gpu.py`` scripts build them; each ``key`` becomes a result named ``key``
    with the row's scalar fields as ``params`` and its per-key figures (ms, TFLOP/s,
    GB/s, error) beside it.  The full timings are kept by the script's timer.
    """
    for row in rows:
        params = {"part": part, **{k: v for k, v in row.items() if k not in _PER_KEY}}
        for key, ms in row.get("ms", {}).items():
            extra = {f: row[f][key] for f in _PER_KEY[1:] if key in row.get(f, {})}
            add_result(record, key, params=params, median_ms=ms, **extra)
        for key, err in row.get("errors", {}).items():
            if key not in row.get("ms", {}):
                add_result(record, key, params=params, errors=err)

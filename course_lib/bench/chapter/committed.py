"""Committed benchmark records: the newest one per benchmark and device, and its machine.

The harness writes ``benchmarks/results/<machine-slug>/<benchmark>[_quick].json``
(:mod:`course_lib.bench.records`).  A chapter asks for "the newest ``models_cpu``
measured on a CPU-only machine" or "the newest ``ops_gpu`` with a GPU"; the answer is
a record dict, or None when no such record has been committed (the chapter then says
so instead of showing a number).  ``*_quick.json`` records (smoke-test sizes) are
ignored unless asked for.

The GPU check of ``scripts/gpu_check.sh`` predates the harness; its files in
``results/gpu/`` (``env.json``, ``nvidia-smi.txt``, ``bench_conv_gpu.json``) are read
by :func:`gpu_check_run`.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable, Mapping

from ..records import RESULTS_ROOT, read_record

DEVICES = ("cpu", "cuda")


def record_device(record: Mapping) -> str:
    """``"cuda"`` when the record's machine has a GPU, else ``"cpu"``."""
    return "cuda" if (record.get("machine") or {}).get("gpus") else "cpu"


def _roots(roots) -> list[Path]:
    if roots is None:
        return [RESULTS_ROOT]
    if isinstance(roots, (str, Path)):
        return [Path(roots)]
    return [Path(r) for r in roots]


def list_records(benchmark: str, roots: Iterable | Path | str | None = None,
                 include_quick: bool = False) -> list[tuple[Path, dict]]:
    """Every readable harness record of ``benchmark`` under ``roots`` (default: the
    repository's ``benchmarks/results``), as ``(path, record)``.  Files that are not
    harness records (the scripts' compact summaries share some names) are skipped."""
    if not isinstance(benchmark, str) or not benchmark or "/" in benchmark:
        raise ValueError(f"benchmark must be a name such as 'models_cpu', got {benchmark!r}")
    names = {f"{benchmark}.json"} | ({f"{benchmark}_quick.json"} if include_quick else set())
    out = []
    for root in _roots(roots):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.json")):
            if path.name not in names:
                continue
            try:
                rec = read_record(path)
            except (ValueError, OSError, json.JSONDecodeError):
                continue
            if rec.get("benchmark") == benchmark:
                out.append((path, rec))
    return out


def newest_record(benchmark: str, *, device: str | None = None,
                  roots: Iterable | Path | str | None = None,
                  include_quick: bool = False) -> dict | None:
    """The most recently created record of ``benchmark`` (``device``: ``"cpu"`` for a
    machine without GPU, ``"cuda"`` with one, None for either); None if there is none.
    Full-size records win over quick ones of any date."""
    if device is not None and device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES} or None, got {device!r}")
    found = [(not rec.get("quick", False), rec.get("created", ""), str(p), rec)
             for p, rec in list_records(benchmark, roots, include_quick)
             if device is None or record_device(rec) == device]
    if not found:
        return None
    return max(found, key=lambda t: t[:3])[3]


def select(record: Mapping | None, name: str | None = None, **params) -> list[dict]:
    """The result rows of ``record`` with this ``name`` (None: any) whose ``params``
    hold every given key with the given value; [] for a missing record."""
    if record is None:
        return []
    out = []
    for row in record.get("results", []):
        if name is not None and row.get("name") != name:
            continue
        p = row.get("params") or {}
        if all(k in p and p[k] == v for k, v in params.items()):
            out.append(row)
    return out


def median_s(row: Mapping | None) -> float | None:
    """A row's median time in seconds (None: not timed)."""
    t = (row or {}).get("timing")
    return None if not t else float(t["median_s"])


def machine_summary(record: Mapping) -> dict:
    """What a reader needs to know about where a record was measured (JSON-ready)."""
    m = record.get("machine") or {}
    v = m.get("versions") or {}
    th = m.get("threads") or {}
    gpus = m.get("gpus") or []
    torch_th = (th.get("torch") or {}).get("intra_op")
    return {"benchmark": record.get("benchmark"),
            "date": str(record.get("created", ""))[:10],
            "cpu": m.get("cpu"), "cores": m.get("cores"),
            "gpu": gpus[0]["name"] if gpus else None,
            "cuda": gpus[0].get("cuda_runtime") if gpus else None,
            "blas_threads": th.get("blas"), "torch_threads": torch_th,
            "numpy": v.get("numpy"), "torch": v.get("torch"),
            "load_average": (m.get("load_average") or [None])[0],
            "quick": bool(record.get("quick"))}


_SMI_DATE = re.compile(r"^\w{3} (\w{3}) +(\d+) [\d:]+ (\d{4})", re.M)
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _smi_date(text: str) -> str | None:
    m = _SMI_DATE.search(text)
    if not m or m.group(1) not in _MONTHS:
        return None
    return f"{m.group(3)}-{_MONTHS.index(m.group(1)) + 1:02d}-{int(m.group(2)):02d}"


def gpu_check_run(folder: Path | str | None = None) -> dict | None:
    """The committed GPU check (``results/gpu/``): device, date, software versions and
    the convolution benchmark's rows; None when the folder has no ``env.json``.

    Keys: ``gpu``, ``date`` (from ``nvidia-smi.txt``, YYYY-MM-DD or None), ``env`` (the
    whole ``env.json``), ``conv`` (``bench_conv_gpu.json`` or None).
    """
    folder = RESULTS_ROOT / "gpu" if folder is None else Path(folder)
    env_path = folder / "env.json"
    if not env_path.is_file():
        return None
    env = json.loads(env_path.read_text())
    smi = folder / "nvidia-smi.txt"
    conv = folder / "bench_conv_gpu.json"
    return {"gpu": env.get("gpu"), "env": env,
            "date": _smi_date(smi.read_text()) if smi.is_file() else None,
            "conv": json.loads(conv.read_text()) if conv.is_file() else None}

"""Markdown tables for the benchmark scripts' printed and committed reports.

(The chapters render tables as HTML with :func:`course_lib.display.html_table`; a
script's report is Markdown, readable in a terminal and rendered on GitHub.)
"""
from __future__ import annotations

from typing import Sequence

from .timing import Timing


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[object]],
                   title: str | None = None) -> list[str]:
    """Lines of a Markdown table: first column left-aligned, the others right-aligned."""
    if not columns:
        raise ValueError("columns must name at least one column")
    for i, r in enumerate(rows):
        if len(r) != len(columns):
            raise ValueError(f"row {i} has {len(r)} cells for {len(columns)} columns: {list(r)}")
    lines = [f"### {title}", ""] if title else []
    lines += ["| " + " | ".join(str(c) for c in columns) + " |",
              "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines + [""]


def timing_cell(t: Timing, unit: str = "ms", digits: int = 1) -> str:
    """``median (q1-q3)`` of a Timing, e.g. ``12.3 (11.9-12.8)``."""
    k = {"s": 1.0, "ms": 1e3, "us": 1e6}[unit]
    q1, q3 = t.quartiles
    return f"{t.median * k:.{digits}f} ({q1 * k:.{digits}f}-{q3 * k:.{digits}f})"

"""Results as rendered HTML tables, for the chapters (pandas is not a dependency).

A notebook that prints a fixed-width table shows the HTML reader only its first columns:
the text is one ``<pre>`` block wider than the page.  :func:`html_table` turns rows into a
small HTML ``<table>`` that the browser lays out (numbers right-aligned, text left-aligned)
and that Jupyter, Colab and the built book all render.

    rows = [("naive", 1520.3, 1.0), ("direct", 3.1, 490.4)]
    html_table(rows, ["version", "time (ms)", "speed-up"],
               formats=[None, "{:.1f}", "{:.0f}x"])

Cost: linear in the number of cells; everything is escaped, so a cell may hold any text.
"""
from __future__ import annotations

import html
import numbers
from typing import Callable, Iterable, Sequence

from IPython.display import HTML

Format = str | Callable[[object], str] | None


def format_cell(value: object, fmt: Format = None) -> str:
    """One cell's text: ``fmt`` is a ``str.format`` pattern (``"{:.2f}"``), a callable or
    None (``str``, with floats in ``{:.3g}``).  None as a value gives an empty cell."""
    if value is None:
        return ""
    if fmt is None:
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
            return f"{value:.3g}"
        return str(value)
    if callable(fmt):
        return str(fmt(value))
    if isinstance(fmt, str):
        return fmt.format(value)
    raise TypeError(f"a format must be a str pattern, a callable or None; got {type(fmt).__name__}")


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def table_html(rows: Iterable[Sequence[object]], columns: Sequence[str], *,
               formats: Sequence[Format] | None = None, caption: str | None = None) -> str:
    """The ``<table>`` markup for ``rows`` (each a sequence of ``len(columns)`` values).

    Numeric cells are right-aligned, others left-aligned (class ``text``).  Raises
    ``ValueError`` naming the row when a row's length differs from ``len(columns)``, or
    when ``formats`` has the wrong length.
    """
    columns = [str(c) for c in columns]
    if not columns:
        raise ValueError("columns must name at least one column")
    ncol = len(columns)
    if formats is None:
        formats = [None] * ncol
    if len(formats) != ncol:
        raise ValueError(f"formats has {len(formats)} entries for {ncol} columns {columns}")
    rows = [list(r) for r in rows]
    for i, row in enumerate(rows):
        if len(row) != ncol:
            raise ValueError(f"row {i} has {len(row)} values for {ncol} columns {columns}: {row!r}")
    # a column is "text" unless every non-empty value in it is a number
    text_col = [not all(_is_number(r[j]) for r in rows if r[j] is not None) or not rows
                for j in range(ncol)]
    out = ['<table class="course-table">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(
        f'<th{" class=text" if text_col[j] else ""}>{html.escape(c)}</th>'
        for j, c in enumerate(columns)) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = []
        for j, value in enumerate(row):
            cls = ' class="text"' if text_col[j] else ""
            cells.append(f"<td{cls}>{html.escape(format_cell(value, formats[j]))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def html_table(rows: Iterable[Sequence[object]], columns: Sequence[str], *,
               formats: Sequence[Format] | None = None, caption: str | None = None) -> HTML:
    """:func:`table_html` wrapped for display: the last expression of a cell renders it."""
    return HTML(table_html(rows, columns, formats=formats, caption=caption))

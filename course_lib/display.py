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
import re
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


# A long identifier, file name or address ("lstm_pointwise_forward", "https://...") has no
# space to wrap at, so it sets the width of its column and can push the table past the
# text column.  <wbr> offers a line break after its separators without changing the text.
_LONG_TOKEN = re.compile(r"\S{13,}")
_SEPARATOR = re.compile(r"([_/.=&?-])(?=\w)")


def soft_breaks(text: str) -> str:
    """``text`` escaped for HTML, with ``<wbr>`` after ``_ / . = & ? -`` inside tokens of
    13 or more characters (break opportunities, invisible when the line fits)."""
    out, last = [], 0
    for m in _LONG_TOKEN.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        parts = _SEPARATOR.split(m.group(0))       # [text, separator, text, ...]
        out.append("".join(html.escape(part) + ("<wbr>" if k % 2 else "")
                           for k, part in enumerate(parts)))
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


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
            text = format_cell(value, formats[j])
            cells.append(f"<td{cls}>{soft_breaks(text) if text_col[j] else html.escape(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def html_table(rows: Iterable[Sequence[object]], columns: Sequence[str], *,
               formats: Sequence[Format] | None = None, caption: str | None = None) -> HTML:
    """:func:`table_html` wrapped for display: the last expression of a cell renders it."""
    return HTML(table_html(rows, columns, formats=formats, caption=caption))

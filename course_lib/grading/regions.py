"""Solution regions: one exercise file yields both the reference solution and the stub.

Inside a function body, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION`` are the
reference code. The stub replaces them with ``raise NotImplementedError(message)`` at the same
indentation. The message says exactly what to implement; it is the text after
``BEGIN SOLUTION:`` plus the comment lines directly below the BEGIN line::

    def relu(x):
        \"\"\"...\"\"\"
        # BEGIN SOLUTION: return max(x, 0) element-wise,
        # same shape and dtype as x (np.maximum)
        return np.maximum(x, 0)
        # END SOLUTION

becomes::

    def relu(x):
        \"\"\"...\"\"\"
        raise NotImplementedError(
            "return max(x, 0) element-wise, same shape and dtype as x (np.maximum)")
"""
from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?::(?P<msg>.*))?\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
COMMENT = re.compile(r"^[ \t]*#(?P<text>.*)$")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION")


class RegionError(ValueError):
    """A malformed solution region (unbalanced markers, no message, top-level region)."""


@dataclass(frozen=True)
class Region:
    begin: int  # 0-based line index of the BEGIN marker
    end: int    # 0-based line index of the END marker
    indent: str
    message: str


def find_regions(source: str, filename: str = "<exercise>") -> list[Region]:
    """Parse the solution regions of ``source``; raise :class:`RegionError` if malformed."""
    lines = source.splitlines()
    regions, i = [], 0
    while i < len(lines):
        m = BEGIN.match(lines[i])
        if END.match(lines[i]):
            raise RegionError(f"{filename}:{i + 1}: END SOLUTION without BEGIN")
        if not m:
            if any(k in lines[i] for k in MARKERS):
                raise RegionError(f"{filename}:{i + 1}: malformed marker line {lines[i].strip()!r}")
            i += 1
            continue
        indent = m.group("indent")
        if not indent:
            raise RegionError(f"{filename}:{i + 1}: a solution region must be inside a function body")
        parts = [(m.group("msg") or "").strip()]
        j = i + 1
        while j < len(lines) and COMMENT.match(lines[j]) and not any(k in lines[j] for k in MARKERS):
            parts.append(COMMENT.match(lines[j]).group("text").strip())
            j += 1
        while j < len(lines) and not END.match(lines[j]):
            if BEGIN.match(lines[j]):
                raise RegionError(f"{filename}:{j + 1}: nested BEGIN SOLUTION")
            j += 1
        if j == len(lines):
            raise RegionError(f"{filename}:{i + 1}: BEGIN SOLUTION without END SOLUTION")
        message = " ".join(p for p in parts if p)
        if not message:
            raise RegionError(f"{filename}:{i + 1}: the region needs a stub message "
                              "(text after 'BEGIN SOLUTION:' or comment lines below it)")
        regions.append(Region(i, j, indent, message))
        i = j + 1
    return regions


def _raise_lines(indent: str, message: str, width: int = 96) -> list[str]:
    inner = indent + "    "
    chunks = textwrap.wrap(message, max(30, width - len(inner) - 3), break_long_words=False,
                           break_on_hyphens=False)
    pieces = [c + " " for c in chunks[:-1]] + chunks[-1:]
    body = [f"{inner}{_quote(p)}" for p in pieces]
    return [f"{indent}raise NotImplementedError("] + body[:-1] + [body[-1] + ")"]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_stub(source: str, filename: str = "<exercise>") -> str:
    """Return the student stub of ``source``: each region becomes a ``NotImplementedError``."""
    regions = find_regions(source, filename)
    lines = source.splitlines()
    out, pos = [], 0
    for r in regions:
        out += lines[pos:r.begin]
        out += _raise_lines(r.indent, r.message)
        pos = r.end + 1
    out += lines[pos:]
    stub = "\n".join(out) + "\n"
    ast.parse(stub, filename=f"{filename} (stub)")
    return stub


def strip_markers(source: str, filename: str = "<exercise>") -> str:
    """The reference solution without its marker and message lines (for display)."""
    regions = find_regions(source, filename)
    lines = source.splitlines()
    drop = set()
    for r in regions:
        drop.add(r.begin)
        drop.add(r.end)
        k = r.begin + 1
        while k < r.end and COMMENT.match(lines[k]):
            drop.add(k)
            k += 1
    return "\n".join(line for n, line in enumerate(lines) if n not in drop) + "\n"

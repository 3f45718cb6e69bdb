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

CUDA sources (``.cu``; chosen by the file name's suffix) mark regions with ``// BEGIN SOLUTION:``
and ``// END SOLUTION`` inside a kernel body; the stub keeps the region's place as ``// TODO``
comment lines holding the message, so the kernel still compiles and simply writes nothing.
"""
from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

MARKERS = ("BEGIN SOLUTION", "END SOLUTION")
#: File suffixes whose regions use C++ line comments (``//``) instead of ``#``.
C_LIKE_SUFFIXES = (".cu", ".cuh", ".c", ".cc", ".cpp", ".h", ".hpp")


@dataclass(frozen=True)
class _Syntax:
    begin: re.Pattern
    end: re.Pattern
    comment: re.Pattern
    python: bool


def _syntax_for(prefix: str, python: bool) -> _Syntax:
    c = re.escape(prefix)
    return _Syntax(re.compile(rf"^(?P<indent>[ \t]*){c} BEGIN SOLUTION(?::(?P<msg>.*))?\s*$"),
                   re.compile(rf"^[ \t]*{c} END SOLUTION\s*$"),
                   re.compile(rf"^[ \t]*{c}(?P<text>.*)$"), python)


PYTHON = _syntax_for("#", True)
C_LIKE = _syntax_for("//", False)
# kept for callers that used the module-level patterns (Python syntax)
BEGIN, END, COMMENT = PYTHON.begin, PYTHON.end, PYTHON.comment


def syntax_of(filename: str) -> _Syntax:
    """Python markers (``#``) unless ``filename`` ends in a C/C++/CUDA suffix (``//``)."""
    return C_LIKE if filename.lower().endswith(C_LIKE_SUFFIXES) else PYTHON


class RegionError(ValueError):
    """A malformed solution region (unbalanced markers, no message, top-level region)."""


@dataclass(frozen=True)
class Region:
    begin: int  # 0-based line index of the BEGIN marker
    end: int    # 0-based line index of the END marker
    indent: str
    message: str


def find_regions(source: str, filename: str = "<exercise>") -> list[Region]:
    """Parse the solution regions of ``source``; raise :class:`RegionError` if malformed.

    The comment syntax (``#`` or ``//``) follows ``filename``'s suffix (see :func:`syntax_of`).
    """
    syn = syntax_of(filename)
    BEGIN, END, COMMENT = syn.begin, syn.end, syn.comment  # noqa: N806 - same names as Python's
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


def _todo_lines(indent: str, message: str, width: int = 96) -> list[str]:
    """The stub of a C/CUDA region: the message as ``// TODO`` comment lines (nothing runs)."""
    chunks = textwrap.wrap("TODO (not implemented yet): " + message, max(30, width - len(indent) - 3),
                           break_long_words=False, break_on_hyphens=False)
    return [f"{indent}// {c}" for c in chunks]


def make_stub(source: str, filename: str = "<exercise>") -> str:
    """Return the student stub of ``source``: each region becomes a ``NotImplementedError``
    (Python) or ``// TODO`` comment lines with the message (C/CUDA, by ``filename``'s suffix)."""
    regions = find_regions(source, filename)
    python = syntax_of(filename).python
    lines = source.splitlines()
    out, pos = [], 0
    for r in regions:
        out += lines[pos:r.begin]
        out += _raise_lines(r.indent, r.message) if python else _todo_lines(r.indent, r.message)
        pos = r.end + 1
    out += lines[pos:]
    stub = "\n".join(out) + "\n"
    if python:
        ast.parse(stub, filename=f"{filename} (stub)")
    return stub


def strip_markers(source: str, filename: str = "<exercise>") -> str:
    """The reference solution without its marker and message lines (for display)."""
    regions = find_regions(source, filename)
    COMMENT = syntax_of(filename).comment  # noqa: N806
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

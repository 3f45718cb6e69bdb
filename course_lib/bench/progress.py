"""A progress line on stderr for long benchmark runs (no dependency).

    with Progress(len(layers), "conv layers") as bar:
        for layer in layers:
            run(layer)
            bar.update(note=layer.name)

Draws ``label [#####-----] 3/8  37%  12 s, ~20 s left  note`` on one line, redrawn
with a carriage return when stderr is a terminal, else one line per step (CI logs).
``enabled=False`` silences it (``--quick`` runs in tests).
"""
from __future__ import annotations

import sys
import time
from typing import Iterable, TextIO


class Progress:
    """Counts ``total`` steps; :meth:`update` advances and redraws."""

    def __init__(self, total: int, label: str = "", *, stream: TextIO | None = None,
                 enabled: bool = True, width: int = 24):
        if not isinstance(total, int) or total < 0:
            raise ValueError(f"total must be an int >= 0, got {total!r}")
        self.total, self.label, self.width = total, label, width
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.done = 0
        self.t0 = time.perf_counter()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def line(self, note: str = "") -> str:
        """The text of the bar at the current count."""
        frac = self.done / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        elapsed = time.perf_counter() - self.t0
        left = f", ~{elapsed / self.done * (self.total - self.done):.0f} s left" \
            if 0 < self.done < self.total else ""
        bar = "#" * filled + "-" * (self.width - filled)
        text = f"{self.label} [{bar}] {self.done}/{self.total} {100 * frac:3.0f}%  " \
               f"{elapsed:.0f} s{left}"
        return text + (f"  {note}" if note else "")

    def update(self, n: int = 1, note: str = "") -> None:
        self.done = min(self.total, self.done + n)
        if self.enabled:
            end = "" if self._tty and self.done < self.total else "\n"
            self.stream.write(("\r" if self._tty else "") + self.line(note) + end)
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled and self._tty and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()


def progress(items: Iterable, label: str = "", total: int | None = None, **kw):
    """Iterate over ``items`` with a :class:`Progress` bar."""
    items = list(items) if total is None else items
    bar = Progress(len(items) if total is None else total, label, **kw)
    with bar:
        for item in items:
            yield item
            bar.update()

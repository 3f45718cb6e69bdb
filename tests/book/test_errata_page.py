"""The errata page lists every correction the chapters make, and links to each one.

Every ``{admonition} Errata: ...`` box in a chapter notebook must carry a ``:name: errata-...``
label, and ``chapters/errata.md`` must link to every such label (the ``-W`` book build then
fails on a link to a label that does not exist). A chapter added later meets the same rule.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
ERRATA_PAGE = ROOT / "chapters" / "errata.md"
BOX = re.compile(r"^(`{3,}|:{3,})\{admonition\}\s*Errata\b[^\n]*\n((?::[a-z-]+:[^\n]*\n)*)", re.M)
NAME = re.compile(r"^:name:\s*(\S+)", re.M)


def errata_boxes(path: Path) -> list[tuple[str, str | None]]:
    """(first line of the box, its label or None) for every errata box of a notebook."""
    found = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        for m in BOX.finditer(text):
            label = NAME.search(m.group(2))
            found.append((m.group(0).splitlines()[0], label.group(1) if label else None))
    return found


def test_the_rule_sees_boxes():
    """The pattern finds the boxes the chapters are known to have (so the rule can fail)."""
    assert sum(len(errata_boxes(p)) for p in CHAPTERS) >= 10


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_errata_box_is_labelled_and_listed(path):
    page = ERRATA_PAGE.read_text()
    for head, label in errata_boxes(path):
        assert label, f"{path.name}: the box '{head}' has no ':name: errata-...' label"
        assert label.startswith("errata-"), f"{path.name}: label {label!r} must start with 'errata-'"
        assert f"<{label}>" in page, (f"{path.name}: {label} ('{head}') is not linked from "
                                      f"chapters/errata.md; add a row with {{ref}}`... <{label}>`")

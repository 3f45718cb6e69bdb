"""House rules for the chapter notebooks, checked on the .ipynb files themselves.

Every notebook in chapters/ (including ones added later): committed without outputs; every
code line at most 77 characters (what the book's code column shows at 1280 px) unless the
cell's input is removed from the page; no project bookkeeping in the reading flow; and the
last section is the chapter's exercises.  The rendered pages are checked by test_browser.py.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
MAX_LINE = 77
BOOKKEEPING = re.compile(r"target met|met\?|\bTODO\b|\bFIXME\b|acceptance criteri", re.I)


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    dirty = [i for i, c in enumerate(cells(path)) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs; run jupyter nbconvert "
                       f"--clear-output --inplace {path.relative_to(ROOT)}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_the_column(path):
    long = []
    for i, c in enumerate(cells(path)):
        tags = c.get("metadata", {}).get("tags", [])
        if c["cell_type"] != "code" or {"remove-input", "remove-cell"} & set(tags):
            continue
        for n, line in enumerate("".join(c["source"]).split("\n"), 1):
            if len(line) > MAX_LINE:
                long.append(f"cell {i} line {n} ({len(line)} chars): {line.strip()[:60]}")
    assert not long, (f"{path.name}: code lines over {MAX_LINE} characters scroll sideways "
                      f"in the book:\n  " + "\n  ".join(long))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_bookkeeping_in_the_reading_flow(path):
    hits = [f"cell {i}: '{m.group(0)}'" for i, c in enumerate(cells(path))
            for m in [BOOKKEEPING.search("".join(c["source"]))] if m]
    assert not hits, (f"{path.name}: project bookkeeping belongs in benchmarks/README.md, "
                      f"not the chapter: " + "; ".join(hits))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_ends_with_its_exercises(path):
    md = [(i, "".join(c["source"])) for i, c in enumerate(cells(path))
          if c["cell_type"] == "markdown"]
    heads = [(i, h) for i, s in md for h in re.findall(r"^##\s+(.+)$", s, re.M)]
    assert heads, f"{path.name}: no '## ' section headings"
    last_i, last = heads[-1]
    assert "exercise" in last.lower(), (
        f"{path.name}: the last section is '{last}' (cell {last_i}); a chapter ends with "
        f"'## Exercises' linking its exercise files and exercises/colab_exercises.ipynb")
    body = dict(md)[last_i]
    assert "exercises/" in body and "colab_exercises.ipynb" in body, (
        f"{path.name}: the exercises section (cell {last_i}) must link the exercise files "
        f"(exercises/...) and the Colab exercises notebook")

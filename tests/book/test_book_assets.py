"""_ext/book_assets.py on a two-page book built from scratch (no notebook execution).

Checks what the browser test cannot isolate: the ``course.hide_solutions`` switch drops the
cells tagged ``solution`` (and only those), every page loads its scripts from the book
itself (no CDN in any ``src``), the vendored files are copied, inline scripts appear once,
and markdown pages get the repository substitutions from ``repository.url``.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

SOLUTION_CODE = "answer_of_the_exercise = 42"
OTHER_CODE = "shown_to_everyone = 1"


def _notebook():
    def cell(src, tags):
        return {"cell_type": "code", "execution_count": 1, "id": src[:8].replace(" ", "-"),
                "metadata": {"tags": tags}, "source": [src],
                "outputs": [{"output_type": "stream", "name": "stdout", "text": [src + "\n"]}]}
    return {"cells": [{"cell_type": "markdown", "id": "t", "metadata": {},
                       "source": ["# Page\n", "\n", "Inline maths $a^2 + b^2$.\n"]},
                      cell(SOLUTION_CODE, ["solution"]), cell(OTHER_CODE, [])],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def build(tmp: Path, hide: bool) -> Path:
    if not (ROOT / "node_modules" / "mathjax").is_dir():
        pytest.skip("node_modules/ is missing: run `npm ci` (scripts/setup.sh does)")
    book = tmp / ("hidden" if hide else "shown")
    book.mkdir()
    (book / "node_modules").symlink_to(ROOT / "node_modules")
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    cfg["execute"] = {"execute_notebooks": "off"}
    cfg["course"]["hide_solutions"] = hide
    cfg["repository"]["url"] = "https://github.com/some-owner/some-course"
    cfg["sphinx"]["local_extensions"] = {"book_assets": str(ROOT / "_ext")}
    cfg["html"]["favicon"] = str(ROOT / "_static" / "favicon.svg")
    cfg["exclude_patterns"] = ["_build/*", "node_modules/*"]
    (book / "_config.yml").write_text(yaml.safe_dump(cfg))
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: page\n")
    (book / "intro.md").write_text("# Intro\n\nThe course lives at {{ repository_link }}; "
                                   "exercises: {{ colab_exercises_link }}.\n")
    (book / "page.ipynb").write_text(json.dumps(_notebook()))
    jb = Path(sys.executable).with_name("jupyter-book")
    out = subprocess.run([str(jb), "build", str(book), "-W", "-n", "--keep-going"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, f"book build failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return book / "_build" / "html"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mini-book")
    return {False: build(tmp, False), True: build(tmp, True)}


def test_solution_cells_follow_the_switch(built):
    shown = (built[False] / "page.html").read_text()
    hidden = (built[True] / "page.html").read_text()
    assert SOLUTION_CODE in shown and OTHER_CODE in shown
    assert SOLUTION_CODE not in hidden, "course.hide_solutions: true left the solution cell in"
    assert OTHER_CODE in hidden, "course.hide_solutions removed an untagged cell"


def test_pages_load_no_script_from_elsewhere(built):
    html = built[False]
    for page in ("intro.html", "page.html"):
        text = (html / page).read_text()
        srcs = re.findall(r'<script[^>]*\ssrc="([^"]+)"', text)
        remote = [s for s in srcs if "://" in s or s.startswith("//")]
        assert not remote, f"{page} loads scripts from elsewhere: {remote}"
        assert any("vendor/mathjax/tex-chtml.js" in s for s in srcs), srcs
        bodies = re.findall(r"<script>(.*?)</script>", text, re.S)
        dupes = {b[:60] for b in bodies if bodies.count(b) > 1}
        assert not dupes, f"{page}: inline scripts included twice: {dupes}"
        assert 'rel="icon"' in text, f"{page}: no favicon link"
    for f in ("mathjax/tex-chtml.js", "require.js", "html-manager/embed-amd.js",
              "widgets_setup.js"):
        assert (html / "_static" / "vendor" / f).is_file(), f"_static/vendor/{f} was not copied"


def test_markdown_names_the_configured_repository(built):
    text = (built[False] / "intro.html").read_text()
    assert 'href="https://github.com/some-owner/some-course"' in text
    assert ("https://colab.research.google.com/github/some-owner/some-course/blob/main/"
            "exercises/colab_exercises.ipynb") in text
    assert "{{" not in text

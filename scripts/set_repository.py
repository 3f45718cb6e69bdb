"""Make every chapter notebook's repository links agree with ``_config.yml``.

``repository.url`` (and ``repository.branch``) in ``_config.yml`` is the one place the
course repository is named.  Launch buttons read it directly; the notebooks cannot, so this
script writes it into them:

* the **install cell** (the first code cell that pip-installs ``course_lib``) is replaced by
  :func:`install_cell_source`; a notebook without one gets it as its first code cell;
* every other mention of the previous address in the notebook (exercise links, Colab links)
  is rewritten to the new one.

    python scripts/set_repository.py            # rewrite chapters/*.ipynb
    python scripts/set_repository.py --check    # exit 1 and list notebooks that disagree

``tests/book/test_install_cells.py`` runs the check on every notebook in ``chapters/``, so
a notebook added later must pass it too.  The install cell keeps Colab's own torch and CuPy:
it installs ``course_lib[torch]``, whose ranges (``torch>=2.1``, ``torchvision>=0.16``) an
existing torch and torchvision satisfy.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MAX_LINE = 77
INSTALL_MARK = "# Colab, or anywhere course_lib is missing: install the course library."


def read_config(root: Path = ROOT) -> dict:
    """``{"url", "branch", "student_repository"}`` from ``root/_config.yml``."""
    cfg = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    repo = cfg.get("repository") or {}
    url = str(repo.get("url") or "").rstrip("/")
    if not re.fullmatch(r"https://[^\s\"']+", url):
        raise ValueError(f"repository.url in {root / '_config.yml'} must be an https:// address, "
                         f"got {url!r}")
    return {"url": url, "branch": str(repo.get("branch") or "main"),
            "student_repository": (cfg.get("course") or {}).get("student_repository")}


def install_cell_source(url: str, branch: str = "main") -> str:
    """The install cell every chapter notebook starts with (lines of at most 77 chars)."""
    lines = [
        INSTALL_MARK,
        "# The address is repository.url in the book's _config.yml.  Colab's own",
        "# torch, torchvision and CuPy stay: course_lib asks only for torch>=2.1",
        "# and torchvision>=0.16.",
        f'REPO = "{url}"',
        "try:",
        "    import course_lib",
        "except ImportError:",
        f'    %pip install -q "course_lib[torch] @ git+{{REPO}}@{branch}"',
        "    import course_lib",
    ]
    too_long = [ln for ln in lines if len(ln) > MAX_LINE]
    if too_long:
        raise ValueError(f"repository.url is too long for a {MAX_LINE}-character install "
                         f"cell line: {too_long[0]!r}")
    return "\n".join(lines)


def is_install_cell(cell: dict) -> bool:
    src = "".join(cell.get("source", []))
    return (cell.get("cell_type") == "code" and "course_lib" in src
            and re.search(r"^\s*[%!]\s*pip install", src, re.M) is not None)


def _source_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [ln + "\n" for ln in lines[:-1]] + [lines[-1]]


def _previous_url(cell: dict) -> str | None:
    m = re.search(r'REPO = "([^"]+)"|git\+(https://[^"@\s]+)', "".join(cell["source"]))
    return (m.group(1) or m.group(2)).rstrip("/") if m else None


def problems(nb: dict, url: str, branch: str) -> list[str]:
    """What disagrees with the config in notebook ``nb`` (empty: all good)."""
    found = [i for i, c in enumerate(nb["cells"]) if is_install_cell(c)]
    out = []
    if not found:
        out.append("has no install cell (a code cell that pip-installs course_lib)")
    elif len(found) > 1:
        out.append(f"has {len(found)} install cells (cells {found}); keep one")
    else:
        cell = nb["cells"][found[0]]
        if "".join(cell["source"]) != install_cell_source(url, branch):
            out.append(f"install cell (cell {found[0]}) differs from the one built from "
                       f"repository.url = {url}")
        if "hide-input" not in cell.get("metadata", {}).get("tags", []):
            out.append(f"install cell (cell {found[0]}) lacks the hide-input tag")
    # links into this course's own files (exercises, chapters) and Colab links to them
    path = url.split("://", 1)[1].split("/", 1)[1]                 # OWNER/NAME
    own = re.compile(r"https://(?:github\.com/|colab\.research\.google\.com/github/)"
                     r"([\w.\-]+/[\w.\-]+)/blob/[\w.\-]+/(?:exercises|chapters)/")
    for i, c in enumerate(nb["cells"]):
        for m in own.finditer("".join(c["source"])):
            if m.group(1) != path:
                out.append(f"cell {i} links {m.group(0)}, not the repository {url}")
    return out


def rewrite(nb: dict, url: str, branch: str) -> dict:
    """Return ``nb`` with its install cell and repository links built from ``url``."""
    cells = nb["cells"]
    found = [i for i, c in enumerate(cells) if is_install_cell(c)]
    old = _previous_url(cells[found[0]]) if found else None
    new_cell = {"cell_type": "code", "execution_count": None, "id": "install-course-lib",
                "metadata": {"tags": ["hide-input"]}, "outputs": [],
                "source": _source_lines(install_cell_source(url, branch))}
    if found:
        keep = cells[found[0]]
        new_cell["id"] = keep.get("id", new_cell["id"])
        tags = list(dict.fromkeys(keep.get("metadata", {}).get("tags", []) + ["hide-input"]))
        new_cell["metadata"] = {**keep.get("metadata", {}), "tags": tags}
        cells[found[0]] = new_cell
        for i in found[1:]:
            cells[i] = None
        nb["cells"] = cells = [c for c in cells if c is not None]
    else:
        first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"),
                          len(cells))
        cells.insert(first_code, new_cell)
    if old and old != url:
        old_path, new_path = old.split("://", 1)[1], url.split("://", 1)[1]
        for c in cells:
            if c is new_cell:
                continue
            text = "".join(c["source"]).replace(old, url)
            # Colab links spell the repository without the scheme: colab.../github/OWNER/NAME
            text = text.replace("github/" + old_path.split("/", 1)[1],
                                "github/" + new_path.split("/", 1)[1])
            c["source"] = _source_lines(text)
    return nb


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "chapters").glob("*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only report, change nothing")
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    cfg = read_config(args.root)
    bad = 0
    for path in notebooks(args.root):
        nb = json.loads(path.read_text(encoding="utf-8"))
        issues = problems(nb, cfg["url"], cfg["branch"])
        if not issues:
            continue
        if args.check:
            bad += 1
            for msg in issues:
                print(f"{path.relative_to(args.root)}: {msg}")
        else:
            rewrite(nb, cfg["url"], cfg["branch"])
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"rewrote {path.relative_to(args.root)}")
    if args.check and bad:
        print(f"{bad} notebook(s) disagree with _config.yml: run python scripts/set_repository.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

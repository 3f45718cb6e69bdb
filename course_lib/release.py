"""Build the student bundle: ``python -m course_lib.release OUTDIR [--force]``.

The bundle holds everything a learner needs and nothing they must not see:

* ``exercises/chXX_Y/<name>.py`` -- the stubs, made from the exercise files by replacing every
  solution region with ``raise NotImplementedError(<what to implement>)``
  (:mod:`course_lib.grading.regions`); a CUDA exercise's kernel ``<name>.cu`` likewise, its
  regions becoming ``// TODO`` comments
* ``exercises/chXX_Y/tests/`` -- the public tests (the ``hidden/`` folders are never copied)
* ``exercises/colab_exercises.ipynb`` -- the Colab notebook, regenerated from the stubs
* ``course_lib/``, ``pyproject.toml`` -- only the grader and the kernel runtime, from an
  allow-list (:data:`BUNDLE_PACKAGE_FILES`, :data:`course_lib.grading.sandbox.RUNTIME_FILES`):
  no reference implementation or finished kernel that would answer an exercise
  (``pip install -e .`` in the bundle, then ``python -m course_lib.grade``)
* ``README.md`` -- the learner's instructions (``exercises/STUDENT_README.md``, with the student
  repository of ``_config.yml``'s ``course.student_repository`` filled in)

Each exercise folder may hold only the exercise modules, their companions (``.cu``), the public
tests and ``hidden/``: any other file stops the release with its name.

The output is deterministic: same sources, same bytes, same file times. After writing, the
bundle is checked for solution markers, hidden tests and unparsable stubs.

``python -m course_lib.release --notebook exercises/colab_exercises.ipynb`` rewrites only the
committed Colab notebook (its stub cells come from the exercise files, never edited by hand).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import sys
from pathlib import Path

from .grading import layout
from .grading.regions import find_regions, make_stub

REPO = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"__pycache__", "hidden", ".ipynb_checkpoints", ".pytest_cache", "gradescope"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
FIXED_MTIME = 946684800  # 2000-01-01T00:00:00Z, so archives of the bundle are reproducible
NOTEBOOK = "colab_exercises.ipynb"
PLACEHOLDER_URL = "https://github.com/YOUR-ORG/YOUR-COURSE-STUDENT-REPO.git"
URL_TOKEN = "{{ student_repository }}"  # in STUDENT_README.md, replaced when the bundle is written
#: The parts of ``course_lib`` a learner needs to run the grader (relative to ``course_lib/``):
#: the grading package and the kernel runtime -- never a reference implementation or a finished
#: kernel (``conv/``, ``rnn/``, ``attention/``, ``cuda/examples/`` ...).
BUNDLE_PACKAGE_FILES = ("__init__.py", "grade.py", "grading/*.py")


def student_repository(repo: Path = REPO) -> str:
    """``course.student_repository`` of ``_config.yml`` (the student bundle's repository)."""
    try:
        import yaml
        config = yaml.safe_load((repo / "_config.yml").read_text(encoding="utf-8")) or {}
        url = (config.get("course") or {}).get("student_repository")
    except (OSError, ImportError, AttributeError, ValueError):
        url = None
    return url if isinstance(url, str) and url.strip() else PLACEHOLDER_URL


def bundle_package_files(repo: Path = REPO) -> list[Path]:
    """The ``course_lib`` files of the bundle (relative to ``repo``), from the allow-lists."""
    from .grading.sandbox import RUNTIME_FILES
    pkg = repo / "course_lib"
    found = set()
    for pattern in BUNDLE_PACKAGE_FILES + RUNTIME_FILES:
        for p in pkg.glob(pattern):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".so", ".o"):
                found.add(p.relative_to(repo))
    return sorted(found)


def exercise_folder_files(exercises: Path, chapter: str) -> list[Path]:
    """The files of one exercise folder that go into the bundle; raise ValueError naming any
    other file (everything handed out must be on this list: module, companions, public test)."""
    folder = exercises / chapter
    allowed = {}
    for ex in layout.exercises(exercises, chapter, include_hidden=False):
        module = folder / f"{ex.name}.py"
        allowed[module] = True
        for comp in companion_files(module):
            allowed[comp] = True
        allowed[ex.public_test] = True
    strays = []
    for path in _files(folder):
        if path not in allowed:
            strays.append(str(path.relative_to(exercises)))
    missing = [str(p.relative_to(exercises)) for p in allowed if not p.is_file()]
    if strays or missing:
        raise ValueError("the exercise folder holds files the release does not know: "
                         + ", ".join(strays + [f"{m} (missing)" for m in missing])
                         + "; only <name>.py, its companions (<name>.cu) and tests/test_<name>.py "
                         "are handed out (hidden tests go in hidden/)")
    return sorted(allowed)


def _files(folder: Path):
    """Files below ``folder`` in sorted order, skipping caches and hidden-test folders."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix not in SKIP_SUFFIXES:
                yield path


def exercise_files(exercises: Path) -> list[Path]:
    """Every exercise module (``chXX_Y/<name>.py`` with a public test), sorted."""
    return [exercises / ex.chapter / f"{ex.name}.py" for c in layout.chapters(exercises)
            for ex in layout.exercises(exercises, c, include_hidden=False)]


def companion_files(module: Path) -> list[Path]:
    """The companion sources handed out with exercise ``module`` (``<name>.cu`` ...)."""
    return [module.with_suffix(s) for s in layout.companion_suffixes(module.parent, module.stem)]


def stub_of(path: Path) -> str:
    source = path.read_text(encoding="utf-8")
    return make_stub(source, path.name) if find_regions(source, path.name) else source


def _first_paragraph(source: str) -> str:
    doc = ast.get_docstring(ast.parse(source)) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip()


def _cell(kind: str, text: str, n: int) -> dict:
    lines = text.splitlines(keepends=True)
    cell = {"cell_type": kind, "id": f"cell-{n:02d}", "metadata": {}, "source": lines}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


SETUP = '''# The student bundle of the course (stubs, public tests, grader), set once in the
# course's _config.yml; keep it if you opened this notebook inside a clone of the bundle.
COURSE_REPO_URL = "{url}"
COURSE_DIR = "/content/course"

import os, pathlib, subprocess, sys
if pathlib.Path("course_lib").is_dir() and pathlib.Path("exercises").is_dir():
    COURSE_DIR = os.getcwd()  # already cloned: we are inside the course folder
elif not pathlib.Path(COURSE_DIR, "course_lib").is_dir():
    subprocess.run(["git", "clone", "--depth", "1", COURSE_REPO_URL, COURSE_DIR], check=True)
subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", COURSE_DIR], check=True)
os.chdir(COURSE_DIR)
print("course ready in", COURSE_DIR)
'''


def build_notebook(exercises: Path) -> dict:
    """The Colab notebook: setup, then per exercise a ``%%writefile`` stub cell and a grade cell."""
    cells = []
    add = lambda kind, text: cells.append(_cell(kind, text, len(cells)))  # noqa: E731
    add("markdown", "# Graded exercises\n\n"
        "Work through the exercises without leaving the browser: run the setup cell once, fill "
        "in a `%%writefile` cell (it saves your code into the course folder), run it, then run "
        "the grading cell below it. Feedback names the failing case (shapes, stride, padding), "
        "the largest error and a hint. Your code must be plain NumPy (no torch, scipy or "
        "`course_lib`); CUDA exercises have a `.cu` cell for the kernel, which runs on the GPU "
        "of a GPU runtime or, without one, on the course's CPU emulator.\n\nRunning a "
        "`%%writefile` cell again overwrites the file with the cell's content, so keep your work "
        "in the cells (or download the files).")
    add("code", SETUP.replace("{url}", student_repository(exercises.parent)))
    for chapter in layout.chapters(exercises):
        label = layout.chapter_label(chapter)
        add("markdown", f"## Section {label}")
        for ex in layout.exercises(exercises, chapter, include_hidden=False):
            path = exercises / chapter / f"{ex.name}.py"
            stub = stub_of(path)
            companions = companion_files(path)
            if companions:
                todo = ("Write the kernel where the `// TODO` comment is in the "
                        + ", ".join(f"`{c.name}`" for c in companions) + " cell; the message says "
                        "what to compute. The Python cell holds the given launcher.")
            else:
                todo = ("Replace each `raise NotImplementedError(...)` with your code; the message "
                        "says what to compute.")
            add("markdown", f"### `{ex.name}`\n\n{_first_paragraph(stub)}\n\n{todo}")
            add("code", f"%%writefile exercises/{chapter}/{ex.name}.py\n{stub}")
            for comp in companions:
                add("code", f"%%writefile exercises/{chapter}/{comp.name}\n{stub_of(comp)}")
            add("code", f"!python -m course_lib.grade {label} --exercise {ex.name}")
        add("markdown", f"All exercises of section {label} together:")
        add("code", f"!python -m course_lib.grade {label}")
    return {"cells": cells,
            "metadata": {"colab": {"provenance": []},
                         "kernelspec": {"display_name": "Python 3", "language": "python",
                                        "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def notebook_text(exercises: Path) -> str:
    return json.dumps(build_notebook(exercises), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _write(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)


def check_bundle(out: Path, repo: Path = REPO) -> None:
    """Raise if the bundle holds a solution marker, a hidden test, a stub that does not parse, or
    a ``course_lib`` file off the allow-list."""
    problems = []
    allowed = {out / p for p in bundle_package_files(repo)}
    for path in _files_all(out / "course_lib"):
        if path not in allowed:
            problems.append(f"{path.relative_to(out)}: not on the course_lib allow-list")
    if URL_TOKEN in (out / "README.md").read_text(encoding="utf-8") if (out / "README.md").is_file() \
            else False:
        problems.append("README.md: student repository placeholder left")
    for path in _files_all(out / "exercises"):
        rel = path.relative_to(out)
        if "hidden" in rel.parts:
            problems.append(f"{rel}: hidden test folder")
        if path.suffix in (".py", ".ipynb", ".md", *layout.COMPANION_SUFFIXES):
            text = path.read_text(encoding="utf-8")
            if "BEGIN SOLUTION" in text or "END SOLUTION" in text:
                problems.append(f"{rel}: solution marker")
            if path.suffix == ".py":
                try:
                    ast.parse(text, str(rel))
                except SyntaxError as e:
                    problems.append(f"{rel}: does not parse ({e.msg}, line {e.lineno})")
    if problems:
        raise RuntimeError("student bundle check failed:\n  " + "\n  ".join(problems))


def _files_all(folder: Path):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def release(out: Path, repo: Path = REPO, force: bool = False) -> list[Path]:
    """Write the student bundle into ``out``; return the written files (sorted)."""
    out, repo = out.resolve(), repo.resolve()
    exercises = repo / "exercises"
    inside = [repo / "exercises", repo / "course_lib"]
    if out == repo or out in repo.parents or any(out == d or d in out.parents for d in inside):
        raise ValueError(f"refusing to write the bundle to {out}: choose a folder outside the course")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise FileExistsError(f"{out} is not empty (use --force to replace it)")
        shutil.rmtree(out)
    written: dict[Path, bytes] = {}
    for rel in bundle_package_files(repo):
        written[out / rel] = (repo / rel).read_bytes()
    for name in ("pyproject.toml", "requirements.txt", "LICENSE"):
        if (repo / name).is_file():
            written[out / name] = (repo / name).read_bytes()
    readme = (exercises / "STUDENT_README.md").read_text(encoding="utf-8")
    written[out / "README.md"] = readme.replace(URL_TOKEN, student_repository(repo)).encode("utf-8")
    for chapter in layout.chapters(exercises):
        for path in exercise_folder_files(exercises, chapter):
            is_module = (path.suffix in (".py", *layout.COMPANION_SUFFIXES)
                         and path.parent == exercises / chapter)
            data = stub_of(path).encode("utf-8") if is_module else path.read_bytes()
            written[out / path.relative_to(repo)] = data
    written[out / "exercises" / NOTEBOOK] = notebook_text(exercises).encode("utf-8")
    for dest in sorted(written):
        _write(dest, written[dest])
    for dest in sorted(written):
        os.utime(dest, (FIXED_MTIME, FIXED_MTIME))
    check_bundle(out, repo)
    return sorted(written)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course_lib.release",
                                description="Write the student bundle (stubs, public tests, grader).")
    p.add_argument("outdir", nargs="?", type=Path, help="folder to create")
    p.add_argument("--force", action="store_true", help="replace a non-empty OUTDIR")
    p.add_argument("--source", type=Path, default=REPO, help="course repository (default: this one)")
    p.add_argument("--notebook", type=Path, metavar="PATH",
                   help="only (re)write the Colab notebook to PATH")
    args = p.parse_args(argv)
    exercises = args.source.resolve() / "exercises"
    if args.notebook:
        args.notebook.write_text(notebook_text(exercises), encoding="utf-8")
        print(f"wrote {args.notebook}")
        return 0
    if args.outdir is None:
        p.error("OUTDIR is required (or --notebook PATH)")
    try:
        files = release(args.outdir, args.source, args.force)
    except (FileExistsError, ValueError, RuntimeError) as e:
        print(f"release error: {e}", file=sys.stderr)
        return 2
    n_stubs = len(exercise_files(exercises))
    print(f"wrote {len(files)} files to {args.outdir} ({n_stubs} exercise stubs, public tests only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

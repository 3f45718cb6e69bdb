"""Where exercises, their tests and a learner's submitted files are.

An exercises tree holds one folder per book section, ``chXX_Y`` (section XX.Y), containing
``<name>.py`` (the exercise: solution in the instructor's tree, stub in the student bundle),
``tests/test_<name>.py`` (public tests) and, in the instructor's tree only,
``hidden/test_<name>.py`` (hidden tests). The tests define which exercises exist.

A CUDA exercise also has a companion source ``<name>.cu`` next to ``<name>.py`` (the kernel the
learner writes; the ``.py`` module launches it). Companions are stubbed, handed out, submitted
and copied into the grading folder together with the module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CHAPTER_DIR = re.compile(r"^ch(\d+)_(\d+)$")
#: Suffixes of the companion files an exercise may have next to its ``<name>.py``.
COMPANION_SUFFIXES = (".cu",)


@dataclass(frozen=True)
class Exercise:
    chapter: str          # folder name, e.g. "ch16_1"
    name: str             # module name, e.g. "conv_backward"
    public_test: Path
    hidden_test: Path | None
    companions: tuple[str, ...] = ()  # suffixes of companion files, e.g. (".cu",)

    @property
    def label(self) -> str:
        return f"{chapter_label(self.chapter)} {self.name}"


def chapter_label(folder: str) -> str:
    """``"ch16_1"`` -> ``"16.1"``."""
    m = CHAPTER_DIR.match(folder)
    return f"{m.group(1)}.{m.group(2)}" if m else folder


def chapter_folder(arg: str) -> str:
    """``"16.1"``, ``"ch16_1"`` or ``"16_1"`` -> ``"ch16_1"``; raise ValueError otherwise."""
    text = arg.strip()
    m = re.fullmatch(r"(?:ch)?(\d+)[._](\d+)", text)
    if not m:
        raise ValueError(f"chapter must look like 16.1 or ch16_1, got {arg!r}")
    return f"ch{int(m.group(1))}_{int(m.group(2))}"


def _is_exercises_root(path: Path) -> bool:
    return path.is_dir() and any(CHAPTER_DIR.match(p.name) and (p / "tests").is_dir()
                                 for p in path.iterdir())


def find_exercises_root(start: Path | None = None) -> Path | None:
    """The exercises tree: ``start`` itself, an ``exercises/`` in it or above it, else the one
    next to the installed ``course_lib`` (an editable install or a clone)."""
    start = Path.cwd() if start is None else Path(start)
    for folder in [start, *start.resolve().parents]:
        for cand in (folder, folder / "exercises"):
            if _is_exercises_root(cand):
                return cand.resolve()
    here = Path(__file__).resolve().parents[2] / "exercises"
    return here if _is_exercises_root(here) else None


def chapters(root: Path) -> list[str]:
    found = [p.name for p in root.iterdir() if CHAPTER_DIR.match(p.name) and (p / "tests").is_dir()]
    return sorted(found, key=lambda n: tuple(int(g) for g in CHAPTER_DIR.match(n).groups()))


def exercises(root: Path, chapter: str, include_hidden: bool = True) -> list[Exercise]:
    folder = root / chapter
    result = []
    for test in sorted((folder / "tests").glob("test_*.py")):
        name = test.stem[len("test_"):]
        hidden = folder / "hidden" / test.name
        result.append(Exercise(chapter, name, test,
                               hidden if include_hidden and hidden.is_file() else None,
                               companion_suffixes(folder, name)))
    return result


def companion_suffixes(folder: Path, name: str) -> tuple[str, ...]:
    """Suffixes of the companion files ``<name>.cu`` ... present in ``folder``."""
    return tuple(s for s in COMPANION_SUFFIXES if (folder / f"{name}{s}").is_file())


def find_companion(submitted: Path | None, suffix: str) -> Path | None:
    """The companion ``<name><suffix>`` submitted with ``submitted`` (``<name>.py``): the file
    next to it, in every accepted layout."""
    if submitted is None:
        return None
    cand = submitted.with_suffix(suffix)
    return cand if cand.is_file() else None


def find_submitted_file(submission: Path, chapter: str, name: str) -> Path | None:
    """Locate ``<name>.py`` in a submission folder.

    Accepted layouts: ``chXX_Y/<name>.py`` (a copy of the exercises folder),
    ``exercises/chXX_Y/<name>.py`` (a copy of the whole course), ``<name>.py`` (loose files, as
    Gradescope stores an upload), or a unique ``<name>.py`` anywhere below (a zipped folder).
    """
    for cand in (submission / chapter / f"{name}.py", submission / "exercises" / chapter / f"{name}.py",
                 submission / f"{name}.py"):
        if cand.is_file():
            return cand
    found = [p for p in sorted(submission.rglob(f"{name}.py"))
             if not {"tests", "hidden", "__pycache__"} & set(p.relative_to(submission).parts)]
    in_chapter = [p for p in found if p.parent.name == chapter]
    if len(in_chapter) == 1:
        return in_chapter[0]
    return found[0] if len(found) == 1 else None

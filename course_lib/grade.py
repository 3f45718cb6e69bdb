"""The autograder: ``python -m course_lib.grade [SECTION ...] [--submission DIR] [--json FILE]``.

Grades the exercises of the given book sections (``16.1`` means folder ``exercises/ch16_1``;
all sections when none is given). Without ``--submission`` it grades the exercise files in your
own ``exercises/`` folder (found from the current directory upwards, or next to the installed
course); with it, the files found in DIR (loose ``conv_backward.py`` files, ``ch16_1/...`` or
``exercises/ch16_1/...``) are graded against the tests of that exercises folder, hidden tests
included when present. Each exercise runs in its own pytest process with timeouts, and the
learner's code in a sandbox process of its own (another user id when run as root; see
:mod:`course_lib.grading.sandbox`), so a broken or dishonest submission can neither stop the
grader nor change its results. The machine is checked first (:mod:`.grading.environment`).
Prints points and feedback per test; ``--json`` also writes Gradescope's ``results.json``. Exit code 0 whenever grading happened (failed tests included),
2 when the grader itself could not work (no exercises found, unknown section, broken tests).

Gradescope's ``run_autograder`` runs::

    python -m course_lib.grade --submission /autograder/submission \\
        --json /autograder/results/results.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .grading import environment, layout, sandbox
from .grading.report import gradescope_json, text_report
from .grading.runner import ExerciseResult, Limits, run_exercise

GRADER_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_lib.grade", description=__doc__.split("\n\n")[0])
    p.add_argument("sections", nargs="*", metavar="SECTION", help="e.g. 16.1 (default: all)")
    p.add_argument("--submission", type=Path, help="folder with the learner's files")
    p.add_argument("--exercises", type=Path,
                   help="exercises folder holding the tests (default: found from the current directory)")
    p.add_argument("--exercise", action="append", default=[], metavar="NAME",
                   help="grade only this exercise (repeatable), e.g. conv_backward")
    p.add_argument("--json", type=Path, metavar="FILE", help="write Gradescope results.json here")
    p.add_argument("--public-only", action="store_true", help="skip hidden tests even if present")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per test (default 10)")
    p.add_argument("--total-timeout", type=float, default=120.0,
                   help="seconds per exercise, all its tests together (default 120)")
    p.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                   help="exercises graded in parallel")
    p.add_argument("--hidden-visibility", default="after_published",
                   choices=["hidden", "after_due_date", "after_published", "visible"],
                   help="Gradescope visibility of hidden tests (default after_published)")
    p.add_argument("--reveal-hidden", action="store_true",
                   help="show hidden tests' full feedback (instructors debugging their tests)")
    p.add_argument("--quiet", action="store_true", help="list failed tests only")
    return p


def _write_json(path: Path, data: dict) -> None:
    """Written by the grader itself, after every sandbox process is gone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    # a fresh file (never through a link someone placed there), then one atomic rename
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def protect_tests(root: Path) -> None:
    """As root, make the hidden tests readable by root only (the sandbox user must not read
    them); the grader works on copies in its own root-only folders anyway."""
    if sandbox.effective_uid() != 0:
        return
    for hidden in root.glob("ch*/hidden"):
        try:
            os.chmod(hidden, 0o700)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = args.exercises.resolve() if args.exercises else layout.find_exercises_root()
    if root is None or not root.is_dir():
        print("grader error: no exercises folder found (run from the course folder, or pass "
              "--exercises DIR)", file=sys.stderr)
        return GRADER_ERROR
    available = layout.chapters(root)
    try:
        wanted = [layout.chapter_folder(s) for s in args.sections] or available
    except ValueError as e:
        print(f"grader error: {e}", file=sys.stderr)
        return GRADER_ERROR
    unknown = [c for c in wanted if c not in available]
    if unknown:
        print(f"grader error: no exercises for section(s) "
              f"{', '.join(layout.chapter_label(c) for c in unknown)}; available: "
              f"{', '.join(layout.chapter_label(c) for c in available)}", file=sys.stderr)
        return GRADER_ERROR
    if args.submission is not None and not args.submission.is_dir():
        print(f"grader error: submission folder {args.submission} does not exist", file=sys.stderr)
        return GRADER_ERROR
    source = args.submission.resolve() if args.submission else root
    todo = [ex for c in wanted for ex in layout.exercises(root, c, not args.public_only)
            if not args.exercise or ex.name in args.exercise]
    if not todo:
        print("grader error: no exercise matches " + ", ".join(args.exercise), file=sys.stderr)
        return GRADER_ERROR
    problems = environment.check([ex.label for ex in todo if ex.companions])
    blocking = [p for p in problems if p.blocking]
    if blocking:
        text = "\n".join(p.message() for p in blocking)
        print(f"grader error: {text}", file=sys.stderr)
        if args.json:
            _write_json(args.json, {"score": 0.0, "output": text + "\nThe submission was not "
                                    "graded; ask the course staff to fix the grading machine.",
                                    "visibility": "visible", "stdout_visibility": "hidden",
                                    "tests": []})
        return GRADER_ERROR
    skipped = {label: p for p in problems for label in p.exercises}
    limits = Limits(per_test=args.timeout, per_exercise=args.total_timeout)
    print(f"Grading {len(todo)} exercise(s) from {source}", flush=True)
    protect_tests(root)
    cfg = sandbox.prepare_run()
    try:
        with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
            def one(item):
                k, ex = item
                workdir = Path(tmp) / f"{k:02d}-{ex.name}"
                workdir.mkdir()
                submitted = layout.find_submitted_file(source, ex.chapter, ex.name)
                if ex.label in skipped:
                    return ExerciseResult(ex, submitted, error=skipped[ex.label].message())
                return run_exercise(ex, submitted, workdir, limits, args.reveal_hidden, cfg.env())

            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                results = list(pool.map(one, enumerate(todo)))
    finally:
        # Every process of the sandbox user goes (a double-forked one too) before any result
        # is written.
        sandbox.cleanup_run(cfg)
    print(text_report(results, show_passed=not args.quiet))
    if args.json:
        _write_json(args.json, gradescope_json(results, args.hidden_visibility))
        print(f"wrote {args.json}")
    return GRADER_ERROR if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Present grading results: a text report for the learner and Gradescope's results.json."""
from __future__ import annotations

from .layout import chapter_label
from .runner import ExerciseResult


def _pts(x: float) -> str:
    return f"{x:g}"


def text_report(results: list[ExerciseResult], show_passed: bool = True,
                show_hidden: bool = True) -> str:
    """The learner's report. ``show_hidden=False`` leaves hidden tests out entirely (not even
    their number or points), for output that students see before grades are published."""
    lines = []
    chapter = None
    for r in results:
        ex = r.exercise
        if ex.chapter != chapter:
            chapter = ex.chapter
            lines.append(f"== Section {chapter_label(chapter)} ==")
        sub = "" if r.submitted else "  (file not found in the submission)"
        if show_hidden:
            lines.append(f"{ex.name}: {_pts(r.score)}/{_pts(r.max_score)} points{sub}")
        else:
            public = [t for t in r.tests if not t.hidden]
            lines.append(f"{ex.name}: {_pts(sum(t.score for t in public))}/"
                         f"{_pts(sum(t.points for t in public))} points in the public tests{sub}")
        if r.error:
            lines.append("  GRADER ERROR: " + r.error.replace("\n", "\n    "))
        previous = None
        for t in r.tests:
            if t.hidden and not show_hidden:
                continue
            mark = "PASS" if t.passed else "FAIL"
            head = f"  {mark} {_pts(t.score)}/{_pts(t.points)}  {t.name}"
            if t.passed:
                if show_passed:
                    lines.append(head)
            elif t.hidden:
                lines.append(f"  {mark} {_pts(t.score)}/{_pts(t.points)}  {t.feedback}")
            else:
                lines.append(head)
                same = t.feedback == previous
                previous = t.feedback
                lines.append("        " + ("(same message as above)" if same else
                                         t.feedback.replace("\n", "\n        ")))
    if show_hidden:
        total = sum(r.score for r in results)
        max_total = sum(r.max_score for r in results)
        lines.append(f"TOTAL: {_pts(total)}/{_pts(max_total)} points")
    else:
        public = [t for r in results for t in r.tests if not t.hidden]
        lines.append(f"PUBLIC TESTS: {_pts(sum(t.score for t in public))}/"
                     f"{_pts(sum(t.points for t in public))} points. Hidden tests also count; "
                     "their results appear when the grades are published.")
    return "\n".join(lines)


def gradescope_json(results: list[ExerciseResult], hidden_visibility: str = "after_published") -> dict:
    """Gradescope's results.json: score, max_score, per-test entries, visibility settings.

    Hidden tests are entries with ``hidden_visibility`` (default ``after_published``) and a
    generic output; the top-level ``output``, which students see at once, lists the public tests
    only (listing the hidden ones there would defeat ``after_published``)."""
    tests = []
    for r in results:
        label = chapter_label(r.exercise.chapter)
        for k, t in enumerate(r.tests, 1):
            if t.passed:
                output = "passed"
            else:
                output = t.feedback
            tests.append({
                "name": f"{label} {r.exercise.name}: {t.name}",
                "number": f"{label}.{r.exercise.name}.{k}",
                "score": t.score,
                "max_score": t.points,
                "status": "passed" if t.passed else "failed",
                "output": output,
                "visibility": hidden_visibility if t.hidden else "visible",
            })
        if r.error:
            tests.append({"name": f"{label} {r.exercise.name}: grader error", "score": 0.0,
                          "max_score": 0.0, "status": "failed", "output": r.error,
                          "visibility": "visible"})
    return {
        "score": sum(r.score for r in results),
        "max_score": sum(r.max_score for r in results),
        "output": text_report(results, show_passed=False,
                              show_hidden=hidden_visibility == "visible"),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }

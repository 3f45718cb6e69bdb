"""Present grading results: a text report for the learner and Gradescope's results.json."""
from __future__ import annotations

from .layout import chapter_label
from .runner import ExerciseResult


def _pts(x: float) -> str:
    return f"{x:g}"


def text_report(results: list[ExerciseResult], show_passed: bool = True) -> str:
    lines = []
    chapter = None
    for r in results:
        ex = r.exercise
        if ex.chapter != chapter:
            chapter = ex.chapter
            lines.append(f"== Section {chapter_label(chapter)} ==")
        sub = "" if r.submitted else "  (file not found in the submission)"
        lines.append(f"{ex.name}: {_pts(r.score)}/{_pts(r.max_score)} points{sub}")
        if r.error:
            lines.append("  GRADER ERROR: " + r.error.replace("\n", "\n    "))
        previous = None
        for t in r.tests:
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
    total = sum(r.score for r in results)
    max_total = sum(r.max_score for r in results)
    lines.append(f"TOTAL: {_pts(total)}/{_pts(max_total)} points")
    return "\n".join(lines)


def gradescope_json(results: list[ExerciseResult], hidden_visibility: str = "after_published") -> dict:
    """Gradescope's results.json: score, max_score, per-test entries, visibility settings."""
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
        "output": text_report(results, show_passed=False),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }

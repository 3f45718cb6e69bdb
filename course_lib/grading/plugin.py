"""pytest plugin used by the grader: records each test's points and outcome as JSON lines.

Loaded with ``-p course_lib.grading.plugin --grading-log PATH``. Events, one JSON object a line,
flushed immediately so that a crash (``os._exit``, segfault, a kill on timeout) loses nothing
already recorded:

* ``collected``: nodeid, exercise, chapter, name, points, hidden, number (hidden tests only)
* ``start``: nodeid (a ``start`` without a ``result`` means the process died in that test)
* ``result``: nodeid, passed, feedback, category
* ``collect_error``: message (the instructor's test file failed to import)
* ``finished``: exitstatus

Feedback of hidden tests is reduced to a generic category here, in the test process, so the
details never reach the log (unless ``--grading-reveal`` is given, for instructors). The
submission never runs in this process (it runs in a sandbox, :mod:`.sandbox`), so it cannot
reach the recorder, the log or the tests.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .feedback import GradingFailure

MAX_FEEDBACK = 1500
_RECORDER: dict = {}  # the one recorder of this pytest process (hooks without a config use it)


def pytest_addoption(parser):
    group = parser.getgroup("grading")
    group.addoption("--grading-log", default=None, help="write grading events (JSON lines) here")
    group.addoption("--grading-reveal", action="store_true",
                    help="keep the full feedback of hidden tests (instructors only)")
    group.addoption("--grading-max-timeouts", type=int, default=2,
                    help="after this many timed-out tests of one exercise, fail the rest unrun")


class _Recorder:
    def __init__(self, config):
        self.path = config.getoption("--grading-log")
        self.reveal = config.getoption("--grading-reveal")
        self.max_timeouts = config.getoption("--grading-max-timeouts")
        self.timeouts: dict[str, int] = {}
        self.info: dict[str, dict] = {}
        self.stream = open(self.path, "a", encoding="utf-8") if self.path else None

    def write(self, **event):
        if self.stream:
            self.stream.write(json.dumps(event, sort_keys=True) + "\n")
            self.stream.flush()
            os.fsync(self.stream.fileno())


def _exercise_of(item) -> tuple[str, str]:
    path = Path(str(item.path))
    name = path.stem[len("test_"):] if path.stem.startswith("test_") else path.stem
    return path.parent.parent.name, name


def _is_hidden(item) -> bool:
    return item.get_closest_marker("hidden") is not None or "hidden" in Path(str(item.path)).parts


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): autograder points for an exercise test")
    config.addinivalue_line("markers", "hidden: autograder test kept out of the student bundle")
    config._grading = _RECORDER["rec"] = _Recorder(config)
    from .proxy import install_kernel_guard
    install_kernel_guard()  # a submission's kernel source is compiled and run in its sandbox


def pytest_collection_modifyitems(session, config, items):
    rec = config._grading
    counters: dict[tuple[str, str], int] = {}
    for item in items:
        chapter, exercise = _exercise_of(item)
        marker = item.get_closest_marker("points")
        points = float(marker.args[0]) if marker and marker.args else 1.0
        hidden = _is_hidden(item)
        number = None
        if hidden:
            counters[(chapter, exercise)] = number = counters.get((chapter, exercise), 0) + 1
        name = f"hidden test {number}" if hidden else f"{Path(str(item.path)).name}::{item.name}"
        info = dict(nodeid=item.nodeid, chapter=chapter, exercise=exercise, name=name,
                    points=points, hidden=hidden, number=number)
        rec.info[item.nodeid] = info
        rec.write(event="collected", **info)
    _warm_kernels(items)


def _warm_kernels(items, seconds: float = 90.0) -> None:
    """Compile each CUDA exercise's kernel once in its sandbox before the tests start, so the
    first test's time limit does not pay for the build (bounded by ``seconds``)."""
    import threading

    from .loader import load_submission
    seen = set()
    for item in items:
        chapter, name = _exercise_of(item)
        module_path = Path(str(item.path)).parent.parent / f"{name}.py"
        if (chapter, name) in seen or not module_path.with_suffix(".cu").is_file():
            continue
        seen.add((chapter, name))
        box = {}

        def warm():
            try:
                box["sub"] = sub = load_submission(item.path, name)
                sub.sandbox.request({"op": "warm"}, [])
            except BaseException:  # noqa: BLE001 - the tests themselves report any problem
                pass

        t = threading.Thread(target=warm, daemon=True)
        t.start()
        t.join(seconds)
        if t.is_alive() and "sub" in box:  # still building after `seconds`: let the tests judge
            box["sub"].close()
            t.join(5)


def pytest_collectreport(report):
    rec = _RECORDER.get("rec")
    if report.failed and rec:
        rec.write(event="collect_error", nodeid=report.nodeid,
                  message=str(report.longrepr)[-MAX_FEEDBACK:])


def pytest_runtest_logstart(nodeid, location):
    rec = _RECORDER.get("rec")
    if rec:
        rec.write(event="start", nodeid=nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    rec = item.config._grading
    key = "/".join(_exercise_of(item))
    if rec.timeouts.get(key, 0) >= rec.max_timeouts:
        pytest.fail(f"not run: {rec.timeouts[key]} earlier tests of this exercise timed out",
                    pytrace=False)


def _submission_location(excinfo, root: Path) -> str:
    """' (raised at conv_backward.py line 57)' for the deepest frame in a submission file."""
    where = ""
    for entry in excinfo.traceback:
        path = Path(str(entry.path))
        if path.suffix == ".py" and not path.name.startswith("test_") and root in path.parents \
                and path.parent.name not in ("tests", "hidden"):
            where = f" (raised at {path.name} line {entry.lineno + 1})"
    return where


def _describe_failure(call, item) -> tuple[str, str]:
    """(feedback, category) for a failed setup or call phase."""
    exc = call.excinfo.value
    text = str(exc).strip()
    if isinstance(exc, GradingFailure):
        return text, exc.category
    if isinstance(exc, pytest.fail.Exception) and "Timeout" in text:
        timeout = item.config.getoption("timeout", None)
        return (f"timed out after {timeout:g} s: an infinite loop, or much slower than needed "
                "(vectorize the inner loops)", "timeout")
    if isinstance(exc, pytest.fail.Exception):
        return text, "not run" if text.startswith("not run") else "failed"
    where = getattr(exc, "submission_where", None)
    if where is None:
        where = _submission_location(call.excinfo, Path(str(item.config.rootpath)))
    name = type(exc).__name__
    if isinstance(exc, NotImplementedError):
        return f"not implemented yet{where}: {text}", "not implemented"
    if isinstance(exc, SystemExit):
        return f"your code called sys.exit({exc.code}){where}; return a result instead", "sys.exit"
    if isinstance(exc, AssertionError):
        return f"assertion failed{where}: {text.splitlines()[0] if text else ''}", "assertion failed"
    return f"{name}{where}: {text}", f"exception {name}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    rec = item.config._grading
    if call.when == "teardown" or (call.when == "setup" and not report.failed and not report.skipped):
        return
    info = rec.info.get(item.nodeid, {})
    if report.passed:
        rec.write(event="result", nodeid=item.nodeid, passed=True, feedback="", category="")
        return
    if report.skipped:
        feedback, category = "skipped", "skipped"
    else:
        feedback, category = _describe_failure(call, item)
    if category == "timeout":
        key = "/".join(_exercise_of(item))
        rec.timeouts[key] = rec.timeouts.get(key, 0) + 1
    if len(feedback) > MAX_FEEDBACK:
        feedback = feedback[:MAX_FEEDBACK] + " ..."
    if info.get("hidden") and not rec.reveal:
        feedback = f"{info['name']}: failed ({category})"
    rec.write(event="result", nodeid=item.nodeid, passed=False, feedback=feedback, category=category)


def pytest_sessionfinish(session, exitstatus):
    from .loader import close_submissions
    close_submissions(Path(str(session.config.rootpath)))
    rec = getattr(session.config, "_grading", None)
    if rec:
        rec.write(event="finished", exitstatus=int(exitstatus))

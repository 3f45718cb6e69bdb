"""Run one exercise's tests in pytest subprocesses and collect the results.

A submission may hang, crash the interpreter (``os._exit``, a segfault), print junk or call
``sys.exit``: each exercise runs in its own ``python -m pytest`` process with a per-test timeout
(pytest-timeout) and an overall time budget. The plugin logs results as it goes; when the
process dies inside a test, that test fails with a "crashed" message and the remaining tests
run in a fresh process (up to ``max_restarts`` times).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .layout import Exercise, find_companion

PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # the folder that holds course_lib/


@dataclass
class TestResult:
    nodeid: str
    name: str
    points: float
    hidden: bool
    passed: bool = False
    feedback: str = "not run"
    category: str = "not run"

    @property
    def score(self) -> float:
        return self.points if self.passed else 0.0


@dataclass
class ExerciseResult:
    exercise: Exercise
    submitted: Path | None
    tests: list[TestResult] = field(default_factory=list)
    error: str | None = None  # a grader problem (the instructor's tests did not load)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)


@dataclass(frozen=True)
class Limits:
    per_test: float = 10.0      # seconds, pytest-timeout
    per_exercise: float = 120.0  # seconds, all processes of one exercise together
    max_restarts: int = 2


def prepare(workdir: Path, ex: Exercise, submitted: Path | None) -> list[str]:
    """Copy the submitted module (and its companion files) and the instructor's tests into
    ``workdir``; return test paths."""
    chap = workdir / ex.chapter
    (chap / "tests").mkdir(parents=True, exist_ok=True)
    if submitted is not None:
        shutil.copyfile(submitted, chap / f"{ex.name}.py")
    for suffix in ex.companions:  # e.g. the kernel of a CUDA exercise; a missing one fails its tests
        companion = find_companion(submitted, suffix)
        if companion is not None:
            shutil.copyfile(companion, chap / f"{ex.name}{suffix}")
    tests = []
    for src, sub in ((ex.public_test, "tests"), (ex.hidden_test, "hidden")):
        if src is None:
            continue
        (chap / sub).mkdir(exist_ok=True)
        shutil.copyfile(src, chap / sub / src.name)
        conftest = src.parent / "conftest.py"
        if conftest.is_file():
            shutil.copyfile(conftest, chap / sub / "conftest.py")
        tests.append(f"{ex.chapter}/{sub}/{src.name}")
    (workdir / "pytest.ini").write_text("[pytest]\naddopts =\n", encoding="utf-8")
    return tests


def _signal_hint(sig: int) -> str:
    if sig in (signal.SIGKILL, signal.SIGXCPU):
        return "out of memory or time limit?"
    return "a segfault?" if sig == signal.SIGSEGV else "a crash"


def _env(sandbox_env: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(sandbox_env or {})
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_PARENT)] + ([env["PYTHONPATH"]]
                                                                  if env.get("PYTHONPATH") else []))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_PLUGINS", None)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _run_pytest(workdir: Path, args: list[str], log: Path, limits: Limits, reveal: bool,
                budget: float, sandbox_env: dict | None = None) -> tuple[int | None, bool, str]:
    """Run pytest once; return (returncode, killed_on_timeout, output tail)."""
    cmd = [sys.executable, "-m", "pytest", "-p", "course_lib.grading.plugin", "-p", "no:cacheprovider",
           "-c", str(workdir / "pytest.ini"), "--rootdir", str(workdir), "--import-mode=importlib",
           "-q", "--no-header", "-rN", f"--timeout={limits.per_test:g}", "--grading-log", str(log)]
    cmd += ["--grading-reveal"] if reveal else []
    out_path = log.with_suffix(".out")
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(cmd + args, cwd=workdir, env=_env(sandbox_env), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        killed = False
        try:
            rc = proc.wait(timeout=max(budget, 1.0))
        except subprocess.TimeoutExpired:
            killed = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            rc = proc.wait()
    with open(out_path, "rb") as f:
        f.seek(max(0, out_path.stat().st_size - 3000))
        tail = f.read().decode("utf-8", "replace")
    return rc, killed, tail


def _read_events(log: Path) -> list[dict]:
    events = []
    if log.is_file():
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a line cut short by a crash
    return events


def run_exercise(ex: Exercise, submitted: Path | None, workdir: Path, limits: Limits = Limits(),
                 reveal: bool = False, sandbox_env: dict | None = None) -> ExerciseResult:
    """Grade one exercise in ``workdir`` (a fresh, empty folder, readable by the grader only).

    ``sandbox_env``: the grading run's sandbox settings (:meth:`.sandbox.SandboxConfig.env`) for
    the test processes; without it each test process makes its own.
    """
    result = ExerciseResult(ex, submitted)
    args = prepare(workdir, ex, submitted)
    tests: dict[str, TestResult] = {}
    done: set[str] = set()  # tests with a recorded result
    deadline = time.monotonic() + limits.per_exercise
    attempt = 0
    while True:
        log = workdir / f"grading-{attempt}.jsonl"
        budget = deadline - time.monotonic()
        rc, killed, tail = _run_pytest(workdir, args, log, limits, reveal, budget, sandbox_env)
        events = _read_events(log)
        running = None
        for ev in events:
            kind = ev.get("event")
            if kind == "collected" and ev["nodeid"] not in tests:
                tests[ev["nodeid"]] = TestResult(ev["nodeid"], ev["name"], ev["points"], ev["hidden"])
            elif kind == "collect_error":
                result.error = f"the tests of {ex.label} failed to load:\n{ev.get('message', '')}"
            elif kind == "start":
                running = ev["nodeid"]
            elif kind == "result" and ev["nodeid"] in tests:
                t = tests[ev["nodeid"]]
                t.passed, t.feedback, t.category = ev["passed"], ev["feedback"], ev["category"]
                done.add(ev["nodeid"])
                if running == ev["nodeid"]:
                    running = None
        finished = any(ev.get("event") == "finished" for ev in events)
        if not tests:
            result.error = result.error or (f"no tests collected for {ex.label} (pytest exit code "
                                            f"{rc}); output:\n{tail}")
            break
        if finished and running is None:
            break
        # The process died (or was killed) inside the test `running`.
        if running in tests:
            t = tests[running]
            if killed:
                t.category = "timeout"
                t.feedback = ("the test process was stopped: the overall time limit of "
                              f"{limits.per_exercise:g} s ran out (an infinite loop?)")
            else:
                how = (f"killed by signal {-rc} ({_signal_hint(-rc)})" if rc is not None and rc < 0
                       else f"exited with code {rc} (does your code call os._exit or exit?)")
                t.category = "crash"
                t.feedback = f"the test process {how} while running this test"
            t.passed = False
            done.add(running)
            if t.hidden and not reveal:
                t.feedback = f"{t.name}: failed ({t.category})"
        remaining = [n for n in tests if n not in done]
        attempt += 1
        if not remaining:
            break
        if killed or attempt > limits.max_restarts or deadline - time.monotonic() < 1.0:
            why = "time limit reached" if killed or deadline - time.monotonic() < 1.0 \
                else "the test process crashed repeatedly"
            for n in remaining:
                t = tests[n]
                t.feedback = f"{t.name}: not run ({why})" if t.hidden and not reveal \
                    else f"not run: {why}"
            break
        args = remaining
    result.tests = list(tests.values())
    return result

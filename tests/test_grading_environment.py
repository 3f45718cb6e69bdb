"""The grader checks its own machine first and says when a problem is the machine's, not the
learner's; Gradescope's immediately visible output says nothing about hidden tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from course_lib.grading import environment
from course_lib.grading.layout import Exercise
from course_lib.grading.report import gradescope_json
from course_lib.grading import runner

REPO = Path(__file__).resolve().parents[1]
NO_TORCH = ("import importlib.util as u\n"
            "real = u.find_spec\n"
            "u.find_spec = lambda name, *a, **k: None if name == 'torch' else real(name, *a, **k)\n"
            "from course_lib.grade import main\n"
            "raise SystemExit(main(sys.argv[1:]))\n")


def test_missing_torch_is_a_grading_machine_problem(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-c", "import sys\n" + NO_TORCH, "16.1", "--json", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "problem of the grading machine, not of the submission: PyTorch" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["score"] == 0 and "grading machine" in data["output"]


def test_missing_compiler_does_not_blame_the_kernel(tmp_path):
    out = tmp_path / "results.json"
    env = dict(os.environ, CXX=str(tmp_path / "no-such-g++"), COURSE_LIB_CUDA_BACKEND="emulator")
    proc = subprocess.run([sys.executable, "-m", "course_lib.grade", "16.2", "--exercise",
                           "conv2d_kernel", "--json", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text
    assert "problem of the grading machine" in text and "no C++ compiler" in text
    assert " line " not in text.split("GRADER ERROR", 1)[-1]  # no line of the learner's files
    assert "grading machine" in out.read_text()


def test_python_version_and_packages_are_checked(monkeypatch):
    assert [p for p in environment.check() if p.blocking] == []
    monkeypatch.setattr(environment, "MIN_PYTHON", (99, 0))
    assert any("too old" in p.what and p.blocking for p in environment.check())


def test_gradescope_output_lists_public_tests_only():
    ex = Exercise("ch16_1", "numerical_gradient", Path("t.py"), Path("h.py"))
    r = runner.ExerciseResult(ex, Path("numerical_gradient.py"), tests=[
        runner.TestResult("a", "test_numerical_gradient.py::test_a", 2.0, False, True, "", ""),
        runner.TestResult("b", "hidden test 1", 3.0, True, False, "hidden test 1: failed (wrong values)",
                   "wrong values")])
    data = gradescope_json([r])
    assert "hidden" not in data["output"].replace("Hidden tests also count", "")
    assert "3" not in data["output"].split("PUBLIC TESTS")[-1].split(".")[0]
    hidden = [t for t in data["tests"] if t["name"].endswith("hidden test 1")]
    assert hidden[0]["visibility"] == "after_published"
    assert data["score"] == 2.0 and data["max_score"] == 5.0

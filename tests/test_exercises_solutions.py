"""Fast in-process checks of the exercise sources and the grading helpers."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from course_lib.grading import (GradingFailure, call_checked, compare, describe_case,
                                forbidden_imports)
from course_lib.grading.layout import chapter_folder, chapter_label, find_submitted_file
from course_lib.release import exercise_files

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "exercises"


def test_solutions_are_plain_numpy():
    for path in exercise_files(EXERCISES):
        assert forbidden_imports(path.read_text()) == [], path


def test_each_exercise_has_public_gate_and_hidden_tests():
    names = [p.stem for p in exercise_files(EXERCISES)]
    assert len(names) == len(set(names)), "exercise module names must be unique across sections"
    for path in exercise_files(EXERCISES):
        public = path.parent / "tests" / f"test_{path.stem}.py"
        hidden = path.parent / "hidden" / f"test_{path.stem}.py"
        assert hidden.is_file(), hidden
        fns = {n.name for n in ast.walk(ast.parse(public.read_text())) if isinstance(n, ast.FunctionDef)}
        assert "test_plain_numpy_only" in fns
        for test in (public, hidden):  # references are independent: never the solution module
            text = test.read_text()
            assert f"import {path.stem}" not in text and f"from {path.stem}" not in text


@pytest.mark.parametrize("src,found", [
    ("import torch", ["line 1: import torch"]),
    ("import numpy as np\nfrom scipy.signal import correlate2d", ["line 2: from scipy.signal import ..."]),
    ("from course_lib.conv import x", ["line 1: from course_lib.conv import ..."]),
    ("m = __import__('torch')", ["line 1: __import__('torch')"]),
    ("import importlib\nm = importlib.import_module('scipy.fft')", ["line 2: import_module('scipy.fft')"]),
    ("import numpy as np, math, os", []),
])
def test_forbidden_imports(src, found):
    assert forbidden_imports(src) == found


def test_compare_messages():
    exp = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    case = {"stride": (2, 1), "padding": 1, "x": np.zeros((2, 3, 7, 5))}
    compare("dx", exp.copy(), exp, case=case)
    with pytest.raises(GradingFailure, match=r"^case stride=\(2, 1\) padding=1 x\(2,3,7,5\): dx has "
                                             r"shape \(2,3,5\), expected \(2,3,4\)") as e:
        compare("dx", np.zeros((2, 3, 5), np.float32), exp, case=case)
    assert e.value.category == "wrong shape"
    with pytest.raises(GradingFailure, match="dtype float64, expected float32"):
        compare("dx", exp.astype(np.float64), exp)
    with pytest.raises(GradingFailure, match="should be a numpy.ndarray .* got list"):
        compare("dx", exp.tolist(), exp)
    bad = exp.copy()
    bad[1, 2, 3] += 0.5
    with pytest.raises(GradingFailure, match=r"max abs err 5.0e-01 .* index \(1, 2, 3\): got 23.5, "
                                             r"expected 23; hint: look") as e:
        compare("dx", bad, exp, hint="look")
    assert e.value.category == "wrong values"
    bad[0, 0, 0] = np.nan
    with pytest.raises(GradingFailure, match=r"NaN/inf .* index \(0, 0, 0\)"):
        compare("dx", bad, exp)
    assert describe_case("plain") == "plain"


def test_call_checked_detects_mutation_and_protects_caller():
    x = np.ones((2, 2))

    def sneaky(x, y):
        x += 1
        return x

    with pytest.raises(GradingFailure, match="modified its input 'x' in place") as e:
        call_checked(sneaky, x, 3, case="c")
    assert e.value.category == "modified its input"
    assert (x == 1).all()  # the caller's array is untouched
    assert call_checked(lambda a: a * 2, x).sum() == 8


def test_layout_helpers(tmp_path):
    assert chapter_folder("16.1") == "ch16_1" == chapter_folder("ch16_1") == chapter_folder("16_1")
    assert chapter_label("ch16_2") == "16.2"
    with pytest.raises(ValueError):
        chapter_folder("sixteen")
    for rel in ("conv_backward.py", "ch16_1/conv_backward.py", "exercises/ch16_1/conv_backward.py",
                "my-upload/deep/conv_backward.py"):
        root = tmp_path / rel.replace("/", "_")
        (root / rel).parent.mkdir(parents=True)
        (root / rel).write_text("x = 1\n")
        assert find_submitted_file(root, "ch16_1", "conv_backward") == root / rel
    assert find_submitted_file(tmp_path / "conv_backward.py", "ch16_1", "col2im") is None

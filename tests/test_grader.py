"""The autograder end to end: solutions get full marks, stubs zero, broken submissions survive.

Each grading run is a ``python -m course_lib.grade`` subprocess that itself starts one pytest
process per exercise, exactly as learners and Gradescope use it.
"""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from course_lib.release import release

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "exercises"
HIDDEN_LINE = re.compile(r"^hidden test \d+: (failed|not run) \([a-zA-Z .]+\)$")


def grade(*args: str, cwd: Path = REPO, tmp: Path) -> tuple[int, str, dict]:
    out = tmp / f"results-{len(list(tmp.glob('results-*')))}.json"
    proc = subprocess.run([sys.executable, "-m", "course_lib.grade", *args, "--json", str(out)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    data = json.loads(out.read_text()) if out.is_file() else {}
    return proc.returncode, proc.stdout + proc.stderr, data


def by_exercise(data: dict) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for t in data["tests"]:
        groups.setdefault(t["name"].split(":")[0].split(" ")[1], []).append(t)
    return groups


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "student"
    release(out)
    return out


@pytest.fixture(scope="module")
def solutions_run(tmp_path_factory):
    return grade("--jobs", "2", tmp=tmp_path_factory.mktemp("sol"))


@pytest.fixture(scope="module")
def stubs_run(bundle, tmp_path_factory):
    """The released stubs, graded as a submission against the instructor's (hidden) tests."""
    return grade("--submission", str(bundle / "exercises"), "--jobs", "2",
                 tmp=tmp_path_factory.mktemp("stubs"))


BROKEN = {
    # endless loop: per-test timeout, then the remaining tests are not run
    "numerical_gradient.py": """
        import numpy as np
        def numerical_gradient(f, x, eps=1e-6):
            while True:
                pass
    """,
    # the interpreter exits from inside the test: survived, the rest rerun in a new process
    "conv_backward.py": """
        import os
        def conv2d_backward(dy, x, w, stride=1, padding=0):
            os._exit(3)
    """,
    "col2im.py": """
        import numpy as np
        def col2im(cols, x_shape, kernel_size, stride=1, padding=0)
            return cols
    """,
    # junk on stdout; wrong shape; right shape but zeros; sys.exit
    "winograd.py": """
        import sys
        import numpy as np
        print("junk " * 10000)
        def winograd_f23(d, g):
            print("more junk", d)
            return np.zeros(3, d.dtype)
        G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
        def filter_transform(g):
            return (G @ g @ G.T).astype(g.dtype)
        def winograd_tile(d, U):
            return np.zeros((2, 2), d.dtype)
        def winograd_correlate2d(x, g):
            sys.exit(0)
    """,
    # correlate mutates its input; conv is right in float64 but always returns float64
    "fft_correlate.py": """
        import numpy as np
        def fft_correlate2d(x, w):
            s = x.shape
            y = np.fft.irfft2(np.fft.rfft2(x) * np.conj(np.fft.rfft2(w, s)), s)
            x[...] = 0
            return y[:s[0] - w.shape[0] + 1, :s[1] - w.shape[1] + 1].astype(x.dtype)
        def fft_conv2d(x, w, padding=0):
            xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
            s = xp.shape[2:]
            Y = np.einsum("bchw,ochw->bohw", np.fft.rfft2(xp, s), np.conj(np.fft.rfft2(w, s)))
            out = np.fft.irfft2(Y, s)
            return out[:, :, :s[0] - w.shape[2] + 1, :s[1] - w.shape[3] + 1].astype(np.float64)
    """,
}


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    sub = tmp_path_factory.mktemp("broken")
    for name, code in BROKEN.items():
        (sub / name).write_text(textwrap.dedent(code))
    # the sections these broken files belong to (other sections' exercises are not submitted)
    return grade("16.1", "16.2", "--submission", str(sub), "--timeout", "1", "--total-timeout", "40",
                 "--jobs", "2", tmp=tmp_path_factory.mktemp("broken-out"))


def test_solutions_get_full_marks(solutions_run):
    rc, out, data = solutions_run
    assert rc == 0, out
    assert data["max_score"] > 50 and data["score"] == data["max_score"], out
    assert all(t["status"] == "passed" for t in data["tests"]), out
    assert any(t["visibility"] == "after_published" for t in data["tests"])  # hidden tests ran
    assert f"TOTAL: {data['score']:g}/{data['max_score']:g}" in out


def test_stubs_score_zero(stubs_run, solutions_run):
    rc, out, data = stubs_run
    assert rc == 0, out
    assert data["score"] == 0 and data["max_score"] == solutions_run[2]["max_score"], out
    public = [t for t in data["tests"] if t["visibility"] == "visible" and t["max_score"] > 0]
    assert public and all("not implemented yet" in t["output"] for t in public)


def test_bundle_grades_itself_with_public_tests_only(bundle, tmp_path):
    rc, out, data = grade("16.1", cwd=bundle, tmp=tmp_path)
    assert rc == 0, out
    assert data["score"] == 0 and data["max_score"] > 0
    assert all(t["visibility"] == "visible" for t in data["tests"])
    assert str(bundle / "exercises") in out


def test_broken_submissions_are_graded(broken_run):
    rc, out, data = broken_run
    assert rc == 0, out
    groups = by_exercise(data)
    scores = {k: sum(t["score"] for t in v) for k, v in groups.items()}
    text = {k: "\n".join(t["output"] for t in v) for k, v in groups.items()}
    assert set(groups) == {"conv_backward", "numerical_gradient", "col2im", "winograd", "fft_correlate",
                           "conv2d_kernel"}
    assert scores["numerical_gradient"] == 0 and "timed out after 1 s" in text["numerical_gradient"]
    assert "not run" in text["numerical_gradient"]
    assert scores["conv_backward"] == 0 and "exited with code 3" in text["conv_backward"]
    assert scores["col2im"] == 0 and "SyntaxError at line 3" in text["col2im"]
    assert "has shape (3), expected (2)" in text["winograd"]
    assert "max abs err" in text["winograd"] and "called sys.exit(0)" in text["winograd"]
    assert 0 < scores["winograd"] < sum(t["max_score"] for t in groups["winograd"])
    assert "modified its input 'x' in place" in text["fft_correlate"]
    assert "dtype float64, expected float32" not in text["fft_correlate"]  # hidden: category only
    assert "failed (wrong dtype)" in text["fft_correlate"]
    assert 0 < scores["fft_correlate"] < sum(t["max_score"] for t in groups["fft_correlate"])
    assert "junk junk" not in out


def test_out_of_bounds_kernel_loses_points(tmp_path):
    """A CUDA exercise without the bounds check on surplus threads: public and hidden tests fail
    and say why (the emulator's crash report; AddressSanitizer's category for hidden tests)."""
    sub = tmp_path / "sub"
    sub.mkdir()
    ch = EXERCISES / "ch16_2"
    (sub / "conv2d_kernel.py").write_bytes((ch / "conv2d_kernel.py").read_bytes())
    kernel = (ch / "conv2d_kernel.cu").read_text()
    guard = "    if (i >= n_out) return;\n"
    assert guard in kernel
    (sub / "conv2d_kernel.cu").write_text(kernel.replace(guard, ""))
    rc, out, data = grade("16.2", "--exercise", "conv2d_kernel", "--submission", str(sub), tmp=tmp_path)
    assert rc == 0 and data["score"] == 0 and data["max_score"] > 0, out
    assert "invalid memory access" in out and 'sanitizer="address"' in out
    assert "failed (out of bounds memory access)" in out


def test_cuda_exercise_needs_its_kernel_file(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "conv2d_kernel.py").write_bytes((EXERCISES / "ch16_2" / "conv2d_kernel.py").read_bytes())
    rc, out, data = grade("16.2", "--exercise", "conv2d_kernel", "--submission", str(sub), tmp=tmp_path)
    assert rc == 0 and data["score"] == 0, out
    assert "conv2d_kernel.cu not found" in out


def test_wrapper_submission_gets_zero(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "numerical_gradient.py").write_text(
        "import torch\n\ndef numerical_gradient(f, x, eps=1e-6):\n"
        "    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)\n"
        "    return torch.autograd.grad(f(t), t)[0].numpy()\n")
    rc, out, data = grade("16.1", "--exercise", "numerical_gradient", "--submission", str(sub),
                          tmp=tmp_path)
    assert rc == 0 and data["score"] == 0, out
    assert "must be plain NumPy, but it uses line 1: import torch" in out


def test_grader_errors_exit_nonzero(tmp_path):
    rc, out, _ = grade("99.9", tmp=tmp_path)
    assert rc == 2 and "no exercises for section(s) 99.9" in out
    rc, out, _ = grade("--submission", str(tmp_path / "missing"), tmp=tmp_path)
    assert rc == 2 and "does not exist" in out


def _hidden_secrets() -> list[str]:
    """Names and literal lines of hidden tests that must never be shown to learners."""
    secrets = []
    public = "\n".join(p.read_text() for p in EXERCISES.glob("ch*/tests/*.py"))
    for path in EXERCISES.glob("ch*/hidden/test_*.py"):
        source = path.read_text()
        secrets += [n.name for n in ast.walk(ast.parse(source))
                    if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
        secrets += [line.strip() for line in source.splitlines()
                    if len(line.strip()) > 25 and line.strip() not in public]
    assert len(secrets) > 20
    return secrets


@pytest.mark.parametrize("run", ["stubs_run", "broken_run"])
def test_hidden_tests_never_leak_into_feedback(run, request):
    rc, out, data = request.getfixturevalue(run)
    hidden = [t for t in data["tests"] if t["visibility"] != "visible"]
    assert hidden and all(t["status"] == "failed" for t in hidden)
    for t in hidden:
        assert HIDDEN_LINE.match(t["output"]), t["output"]
        assert re.fullmatch(r"\S+ \w+: hidden test \d+", t["name"]), t["name"]
    everything = out + json.dumps(data)
    for secret in _hidden_secrets():
        assert secret not in everything, secret


def test_hidden_tests_never_leak_into_bundle(bundle):
    assert not list(bundle.rglob("hidden"))
    text = "\n".join(p.read_text(errors="replace") for p in bundle.rglob("*") if p.is_file())
    for secret in _hidden_secrets():
        assert secret not in text, secret

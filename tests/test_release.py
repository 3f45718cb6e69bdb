"""The student bundle: stubs from solution regions, no solutions, no hidden tests, deterministic."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.grading.regions import RegionError, find_regions, make_stub, strip_markers
from course_lib.release import (build_notebook, companion_files, exercise_files, notebook_text,
                                release)

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "exercises"

SAMPLE = '''import numpy as np


def relu(x):
    """x -> max(x, 0)."""
    # BEGIN SOLUTION: return np.maximum(x, 0),
    # same shape and dtype as x
    y = np.maximum(x, 0)
    return y
    # END SOLUTION


def given():
    return 1
'''


CUDA_SAMPLE = """extern "C" __global__ void scale(float* y, int n) {
    // BEGIN SOLUTION: y[i] *= 2 for i < n,
    // one thread per element
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] *= 2.0f;
    // END SOLUTION
}
"""


def test_cuda_regions_become_todo_comments():
    regions = find_regions(CUDA_SAMPLE, "scale.cu")
    assert len(regions) == 1 and regions[0].message == "y[i] *= 2 for i < n, one thread per element"
    stub = make_stub(CUDA_SAMPLE, "scale.cu")
    assert "    // TODO (not implemented yet): y[i] *= 2 for i < n, one thread per element\n" in stub
    assert "blockIdx" not in stub and "SOLUTION" not in stub and stub.rstrip().endswith("}")
    assert "BEGIN" not in strip_markers(CUDA_SAMPLE, "scale.cu")
    assert "if (i < n)" in strip_markers(CUDA_SAMPLE, "scale.cu")
    with pytest.raises(RegionError, match="malformed marker"):  # '//' markers only in C/CUDA files
        find_regions(CUDA_SAMPLE, "scale.py")


def test_cuda_companions_are_stubbed_in_the_bundle(bundle):
    for path in exercise_files(EXERCISES):
        for comp in companion_files(path):
            handed_out = (bundle / comp.relative_to(REPO)).read_text()
            assert handed_out == make_stub(comp.read_text(), comp.name), comp
            assert "// TODO (not implemented yet)" in handed_out


def test_make_stub_replaces_region_with_message():
    stub = make_stub(SAMPLE)
    ns: dict = {}
    exec(compile(stub, "stub", "exec"), ns)
    with pytest.raises(NotImplementedError, match=r"return np.maximum\(x, 0\), same shape and dtype as x"):
        ns["relu"](1.0)
    assert ns["given"]() == 1
    assert "y = np.maximum" not in stub and "SOLUTION" not in stub
    assert '    """x -> max(x, 0)."""' in stub  # docstring kept
    assert "BEGIN" not in strip_markers(SAMPLE) and "return y" in strip_markers(SAMPLE)


@pytest.mark.parametrize("bad,match", [
    (SAMPLE.replace("    # END SOLUTION\n", ""), "without END"),
    (SAMPLE.replace("BEGIN SOLUTION: return np.maximum(x, 0),\n    # same shape and dtype as x",
                    "BEGIN SOLUTION"), "needs a stub message"),
    ("# BEGIN SOLUTION: x\nx = 1\n# END SOLUTION\n", "inside a function"),
    (SAMPLE.replace("# BEGIN SOLUTION:", "# BEGIN SOLUTION -"), "malformed"),
])
def test_malformed_regions_are_rejected(bad, match):
    with pytest.raises(RegionError, match=match):
        find_regions(bad)


def test_every_exercise_has_regions_and_a_parsing_stub():
    files = exercise_files(EXERCISES)
    assert {f.name for f in files} >= {"conv_backward.py", "numerical_gradient.py", "col2im.py",
                                       "winograd.py", "fft_correlate.py"}
    for path in files:
        source = path.read_text()
        # a CUDA exercise may keep its regions in the kernel (<name>.cu) and hand out the launcher
        assert find_regions(source, path.name) or any(
            find_regions(c.read_text(), c.name) for c in companion_files(path)), path
        stub = make_stub(source, path.name)
        # the stub keeps every function and its signature
        sig = lambda tree: {n.name: ast.dump(n.args) for n in tree.body if isinstance(n, ast.FunctionDef)}  # noqa: E731
        assert sig(ast.parse(stub)) == sig(ast.parse(source)), path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rel") / "student"
    release(out)
    return out


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), int(p.stat().st_mtime))
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_bundle_layout(bundle):
    names = set(_tree(bundle))
    for must in ("README.md", "pyproject.toml", "course_lib/grade.py", "course_lib/grading/plugin.py",
                 "exercises/colab_exercises.ipynb", "exercises/ch16_1/conv_backward.py",
                 "exercises/ch16_1/tests/test_conv_backward.py", "exercises/ch16_2/winograd.py"):
        assert must in names, must
    assert not [n for n in names if "hidden" in n.split("/") or n.endswith(".pyc")]
    assert not [n for n in names if "gradescope" in n or n == "exercises/conftest.py"]


def test_bundle_has_no_solution_code(bundle):
    # everything handed out except the library itself (the book shows its code anyway)
    text = "\n".join(p.read_text(errors="replace") for p in bundle.rglob("*")
                     if p.is_file() and "course_lib" not in p.relative_to(bundle).parts)
    for p in (bundle / "exercises").rglob("*"):
        if p.is_file():
            assert "BEGIN SOLUTION" not in p.read_text() and "END SOLUTION" not in p.read_text(), p
    handed_out = {ln.strip() for ln in text.splitlines()}  # whole lines, not words of a message
    checked = 0
    for path in [p for m in exercise_files(EXERCISES) for p in (m, *companion_files(m))]:
        lines = path.read_text().splitlines()
        inside, outside = set(), set()
        regions = find_regions(path.read_text(), path.name)
        for n, line in enumerate(lines):
            target = inside if any(r.begin < n < r.end for r in regions) else outside
            target.add(line.strip())
        code = [ln for ln in inside - outside if len(ln) > 20 and not ln.startswith(("#", "//"))]
        # a short formula line may also be in the given docstring; the region's code may not
        found = [ln for ln in code if ln in handed_out]
        assert len(found) <= max(2, len(code) // 4), (path.name, found)
        checked += len(code)
    assert checked > 15


def test_release_is_deterministic(bundle, tmp_path):
    again = tmp_path / "again"
    proc = subprocess.run([sys.executable, "-m", "course_lib.release", str(again)], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert _tree(again) == _tree(bundle)


def test_release_refuses_to_overwrite(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        release(tmp_path / "x")
    with pytest.raises(ValueError):
        release(REPO / "exercises" / "out")


def test_committed_notebook_is_generated_and_clean():
    committed = (EXERCISES / "colab_exercises.ipynb").read_text()
    assert committed == notebook_text(EXERCISES), \
        "regenerate: python -m course_lib.release --notebook exercises/colab_exercises.ipynb"
    nb = json.loads(committed)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    sources = ["".join(c["source"]) for c in code]
    assert "COURSE_REPO_URL = " in sources[0] and "pip" in sources[0] and "already cloned" in sources[0]
    stub = make_stub((EXERCISES / "ch16_1" / "numerical_gradient.py").read_text())
    assert "%%writefile exercises/ch16_1/numerical_gradient.py\n" + stub in sources
    assert "!python -m course_lib.grade 16.1" in sources
    assert "SOLUTION" not in committed
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(committed, as_version=4))


def test_notebook_cells_mention_every_exercise():
    text = json.dumps(build_notebook(EXERCISES))
    for path in exercise_files(EXERCISES):
        assert f"--exercise {path.stem}" in text

"""The student bundle holds no answer: an allow-listed ``course_lib``, no solution region's code,
and instructions that point at the student repository, never at the course source."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from course_lib.grading.regions import find_regions
from course_lib.release import (PLACEHOLDER_URL, bundle_package_files, companion_files,
                                exercise_files, release, student_repository)

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "exercises"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "student"
    release(out)
    return out


def test_course_lib_in_the_bundle_is_the_grader_and_kernel_runtime_only(bundle):
    files = {str(p.relative_to(bundle)) for p in (bundle / "course_lib").rglob("*") if p.is_file()}
    assert "course_lib/grade.py" in files and "course_lib/cuda/runtime.py" in files
    for part in ("conv/", "rnn/", "attention/", "cuda/examples/", "cuda/kernels/", "/gpu.py",
                 "gradcheck.py", "release.py"):
        assert not [f for f in files if part in f], part
    assert not [f for f in files if f.endswith(".cu")]
    assert files == {str(p) for p in bundle_package_files()}


def test_nothing_solution_like_imports_from_the_bundle(bundle):
    code = ("import importlib, sys\n"
            "for m in ('course_lib.conv', 'course_lib.rnn', 'course_lib.attention', "
            "'course_lib.conv.direct', 'course_lib.cuda.conv'):\n"
            "    try:\n        importlib.import_module(m)\n    except ImportError:\n        continue\n"
            "    sys.exit('importable: ' + m)\n"
            "import course_lib.grade, course_lib.cuda\n")
    # -S: no site-packages processing, so this course's own editable install is not seen
    site = str(Path(np.__file__).resolve().parents[1])
    head = f"import sys; sys.path[:0] = [{str(bundle)!r}]; sys.path.append({site!r})\n"
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", head + code], cwd=bundle,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _code_lines(path: Path, region) -> list[str]:
    lines = path.read_text().splitlines()[region.begin + 1:region.end]
    return [ln.strip() for ln in lines
            if len(ln.strip()) > 25 and not ln.strip().startswith(("#", "//"))]


def test_no_solution_region_is_in_the_bundle(bundle):
    text = "\n".join(p.read_text(errors="replace") for p in bundle.rglob("*") if p.is_file())
    # whole lines: a stub's message may spell out a formula inside a longer line
    handed_out = {ln.strip() for ln in text.splitlines()}
    checked = 0
    for module in exercise_files(EXERCISES):
        for path in (module, *companion_files(module)):
            for region in find_regions(path.read_text(), path.name):
                lines = _code_lines(path, region)
                found = [ln for ln in lines if ln in handed_out]
                checked += len(lines)
                # a line such as "xp = np.pad(x, ...)" may also be in a test reference; the
                # region's code as a whole must not be
                assert len(found) <= max(2, len(lines) // 4), (path.name, found)
    assert checked > 30


def test_release_refuses_an_unknown_file_in_an_exercise_folder(tmp_path):
    src = tmp_path / "course"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(tmp_path / "c.tar"), "HEAD",
                    "exercises", "course_lib", "_config.yml", "pyproject.toml"],
                   cwd=REPO, check=True)
    src.mkdir()
    subprocess.run(["tar", "-xf", str(tmp_path / "c.tar"), "-C", str(src)], check=True)
    (src / "exercises" / "ch16_1" / "answers.py").write_text("x = 1\n")
    with pytest.raises(ValueError, match="ch16_1/answers.py"):
        release(tmp_path / "out", repo=src)


def test_learners_get_the_student_repository(bundle):
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    want = (config.get("course") or {}).get("student_repository") or PLACEHOLDER_URL
    assert student_repository() == want
    course_url = (config.get("repository") or {}).get("url")
    nb = json.loads((bundle / "exercises" / "colab_exercises.ipynb").read_text())
    setup = "".join(nb["cells"][1]["source"])
    assert f'COURSE_REPO_URL = "{want}"' in setup
    readme = (bundle / "README.md").read_text()
    assert f"git clone {want}" in readme and "{{" not in readme
    if course_url and course_url != want:
        assert not re.search(re.escape(course_url) + r"(\.git)?[\"'\s]", setup + readme)

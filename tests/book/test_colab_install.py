"""The chapters' install cell must not replace Colab's own torch, torchvision or CuPy.

Colab ships its own torch and CuPy builds, matched to its CUDA.  Every chapter's first cell
runs ``%pip install "course_lib[torch] @ git+REPO@BRANCH"`` when course_lib is missing; that
must add course_lib and leave those builds alone.  The test reproduces it offline:

* a fresh virtual environment stands in for Colab: fake but valid distributions of a torch
  version that no index has (``2.99.0+colab``), of ``cupy-cuda12x``, and of course_lib's
  other dependencies at the versions this checkout's ``.venv`` holds;
* course_lib is built from the local checkout into a wheel (the same sources the git URL
  would fetch) and installed with ``pip install --no-index --find-links WHEELS
  "course_lib[torch]"``, as the install cell does, with pyproject.toml's ranges;
* afterwards torch and CuPy must be the very same installs (version and files).

A control run shows the check can fail: with an old torch (2.0.0, below ``torch>=2.1``) and
a newer one on offer, pip replaces it, and the same check reports it.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:                     # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

COLAB_TORCH = "2.99.0+colab"
COLAB_CUPY = "13.99.0"
COLAB_TORCHVISION = "0.99.0+colab"


def _run(cmd, **kw):
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
           "PIP_CONFIG_FILE": os.devnull}
    env.pop("PIP_INDEX_URL", None)
    env.pop("PIP_EXTRA_INDEX_URL", None)
    env.pop("PIP_FIND_LINKS", None)
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                          timeout=300, **kw)


def _site_packages(venv: Path) -> Path:
    out = _run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    assert out.returncode == 0, out.stderr
    return Path(out.stdout.strip())


def _fake_dist(site: Path, name: str, version: str, module: str | None) -> None:
    """An installed distribution that pip sees as real: dist-info with METADATA and RECORD."""
    norm = name.replace("-", "_")
    info = site / f"{norm}-{version}.dist-info"
    info.mkdir()
    files = {}
    if module:
        pkg = site / module
        pkg.mkdir(exist_ok=True)
        files[f"{module}/__init__.py"] = f'__version__ = "{version}"  # stand-in for Colab\'s\n'
    files[f"{info.name}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    files[f"{info.name}/INSTALLER"] = "colab-stand-in\n"
    for rel, text in files.items():
        (site / rel).write_text(text)
    record = [f"{rel},," for rel in files] + [f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")


def _fake_wheel(folder: Path, name: str, version: str, module: str) -> Path:
    """A minimal pure-Python wheel (what an index would offer as a newer release)."""
    norm = name.replace("-", "_")
    info = f"{norm}-{version}.dist-info"
    files = {f"{module}/__init__.py": f'__version__ = "{version}"\n',
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"}
    record = []
    for rel, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{rel},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    path = folder / f"{norm}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for rel, text in files.items():
            z.writestr(rel, text)
        z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


@pytest.fixture(scope="module")
def course_wheel(tmp_path_factory) -> Path:
    """course_lib built from a copy of the checkout's sources (keeps the checkout clean)."""
    tmp = tmp_path_factory.mktemp("course-wheel")
    src = tmp / "src"
    src.mkdir()
    for f in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / f, src / f)
    shutil.copytree(ROOT / "course_lib", src / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.o"))
    wheels = tmp / "wheels"
    out = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                "--no-index", "-w", wheels, src])
    assert out.returncode == 0, f"building the course_lib wheel failed:\n{out.stdout}\n{out.stderr}"
    return wheels


def _colab_like_venv(tmp: Path, torch_version: str) -> tuple[Path, Path]:
    venv = tmp / f"venv-{torch_version}"
    # no pip inside: this environment's pip installs into it with --python (faster)
    out = _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv",
                "--without-pip", venv])
    assert out.returncode == 0, out.stderr
    site = _site_packages(venv)
    _fake_dist(site, "torch", torch_version, "torch")
    _fake_dist(site, "torchvision", COLAB_TORCHVISION, "torchvision")
    _fake_dist(site, "cupy-cuda12x", COLAB_CUPY, "cupy")
    # course_lib's other dependencies, at the versions this checkout's environment holds
    for dep in ("numpy", "scipy", "matplotlib", "ipywidgets", "pytest", "pytest-timeout"):
        _fake_dist(site, dep, md.version(dep), None)
    return venv, site


def _installed(venv: Path) -> dict[str, str]:
    out = _run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "list",
                "--format", "json"])
    assert out.returncode == 0, out.stderr
    return {d["name"].lower(): d["version"] for d in json.loads(out.stdout)}


def _snapshot(site: Path) -> dict[str, str]:
    """The files of the stand-in torch (and torchvision: ``torch*``) and CuPy, with their
    contents."""
    return {str(p.relative_to(site)): p.read_bytes()
            for pat in ("torch*", "cupy*") for top in site.glob(pat)
            for p in ([top] if top.is_file() else top.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _install_like_the_cell(venv: Path, find_links: list[Path]):
    cmd = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
           "--no-index"]
    for f in find_links:
        cmd += ["--find-links", f]
    return _run(cmd + ["course_lib[torch]"])


def test_torch_extra_is_a_lower_bound_only():
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for spec in project["optional-dependencies"]["torch"] + project["dependencies"]:
        assert "==" not in spec and "<" not in spec and "~=" not in spec, (
            f"pyproject.toml pins {spec!r}: on Colab that would replace the preinstalled "
            "build; use a lower bound (exact pins belong in requirements.txt)")


def test_install_cell_keeps_colabs_torch_and_cupy(tmp_path, course_wheel):
    wheels = course_wheel
    venv, site = _colab_like_venv(tmp_path, COLAB_TORCH)
    before, files_before = _installed(venv), _snapshot(site)
    assert before["torch"] == COLAB_TORCH
    out = _install_like_the_cell(venv, [wheels])
    assert out.returncode == 0, f"pip install failed:\n{out.stdout}\n{out.stderr}"
    after = _installed(venv)
    assert "course-lib" in after or "course_lib" in after, after
    assert after["torch"] == COLAB_TORCH, f"torch was replaced: {after['torch']}"
    assert after["cupy-cuda12x"] == COLAB_CUPY
    assert after["torchvision"] == COLAB_TORCHVISION, "torchvision was replaced"
    assert _snapshot(site) == files_before, "files of Colab's torch/CuPy changed"
    # nothing else was touched either: the only new distribution is course_lib
    assert set(after) - set(before) <= {"course-lib", "course_lib"}


def test_control_an_old_torch_is_replaced_and_the_check_sees_it(tmp_path, course_wheel):
    wheels = course_wheel
    offered = tmp_path / "offered"
    offered.mkdir()
    _fake_wheel(offered, "torch", "2.99.1", "torch")
    venv, site = _colab_like_venv(tmp_path, "2.0.0")
    files_before = _snapshot(site)
    out = _install_like_the_cell(venv, [wheels, offered])
    assert out.returncode == 0, f"pip install failed:\n{out.stdout}\n{out.stderr}"
    assert _installed(venv)["torch"] == "2.99.1"        # torch>=2.1 forced an upgrade
    assert _snapshot(site) != files_before              # ... and the snapshot check sees it

"""Check the grading machine before grading: a problem there must never look like the learner's.

:func:`check` returns :class:`Problem` items. ``blocking`` ones (an unsupported Python, NumPy or
PyTorch missing: the tests' references need them) stop the grader with a message addressed to
whoever runs it; the others concern some exercises only (no C++ compiler: the CUDA exercises
cannot be built on the emulator), which are then reported as a grading-machine error instead of
a score of zero that blames a line of the learner's kernel.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass

MIN_PYTHON = (3, 10)


@dataclass(frozen=True)
class Problem:
    what: str              # e.g. "PyTorch is not installed"
    fix: str               # what the person running the grader should do
    blocking: bool = True
    exercises: tuple[str, ...] = ()  # labels of the exercises it prevents grading (not blocking)

    def message(self) -> str:
        return (f"problem of the grading machine, not of the submission: {self.what}. {self.fix}")


def _compiler() -> str | None:
    """The emulator's compiler (``$CXX`` when set, else g++): its path, or None if missing."""
    chosen = os.environ.get("CXX")
    if chosen:
        return shutil.which(chosen)
    return shutil.which("g++")


def check(cuda_exercises: list[str] = ()) -> list[Problem]:
    """Problems of this machine for grading; ``cuda_exercises`` are labels of kernel exercises."""
    problems = []
    if sys.version_info[:2] < MIN_PYTHON:
        problems.append(Problem(f"Python {sys.version.split()[0]} is too old",
                                f"use Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer"))
    for module, name, fix in (
            ("numpy", "NumPy", "pip install numpy"),
            ("torch", "PyTorch (the tests' reference implementations use it)",
             "pip install torch --index-url https://download.pytorch.org/whl/cpu"),
            ("pytest", "pytest", "pip install pytest pytest-timeout"),
            ("pytest_timeout", "pytest-timeout", "pip install pytest-timeout")):
        if importlib.util.find_spec(module) is None:
            problems.append(Problem(f"{name} is not installed", fix))
    from .sandbox import effective_uid, sandbox_interpreter
    if effective_uid() == 0:  # the sandbox runs the learner's code as another user
        try:
            sandbox_interpreter(65534)
        except RuntimeError as e:
            problems.append(Problem(str(e), "install the system's python3 of the same version, or "
                                    "a Python outside a private home folder"))
    if cuda_exercises and _compiler() is None and not _gpu_backend():
        problems.append(Problem(
            "no C++ compiler (g++) to build kernels for the CPU emulator",
            "install one (apt-get install g++) or grade on a machine with a CUDA GPU and CuPy",
            blocking=False, exercises=tuple(cuda_exercises)))
    return problems


def _gpu_backend() -> bool:
    if os.environ.get("COURSE_LIB_CUDA_BACKEND", "") == "emulator":
        return False
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        from ..cuda import gpu_available
        return bool(gpu_available())
    except Exception:  # noqa: BLE001 - no usable GPU
        return False

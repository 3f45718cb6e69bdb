"""Shared fixtures for the CUDA tests.

Tests marked ``@pytest.mark.gpu`` need CuPy and a CUDA device; without them they are skipped
(cleanly, with a reason), so the emulator tests run everywhere and the GPU comparisons run on a
GPU machine.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.cuda import gpu_available

EXAMPLES = Path(__file__).resolve().parents[2] / "course_lib" / "cuda" / "examples"


def pytest_collection_modifyitems(config, items):
    if gpu_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA GPU (runs on the emulator elsewhere)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def examples() -> Path:
    """Folder of the emulator's example / planted-bug kernels."""
    return EXAMPLES

"""Load a learner's exercise module for the tests, and check it is plain NumPy.

Tests live in ``chXX/tests/`` (public) or ``chXX/hidden/`` (hidden); the module under test is
``chXX/<name>.py``. Loading is lazy (inside a fixture), so a submission with a SyntaxError or an
import-time crash fails each test with a readable message instead of breaking collection. The
module is never imported into the test process: it runs in a sandbox process
(:mod:`.sandbox`), and the AST check here is the friendly first line; the sandbox enforces the
same rule at run time.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from . import cu_rules
from .feedback import GradingFailure

# Libraries that already implement the exercises; importing them would turn a submission into a
# wrapper. The exercises are plain NumPy (the standard library is fine).
FORBIDDEN_IMPORTS = ("torch", "scipy", "course_lib", "tensorflow", "jax", "cupy", "numba",
                     "sklearn", "cv2", "skimage")
# The one exception: CUDA exercises launch the learner's own kernel through the course's kernel
# runtime. Only ``from course_lib.cuda import <name>`` with these names (no ``load_module``, which
# would reach the course's finished kernels).
ALLOWED_FROM_IMPORTS = {"course_lib.cuda": frozenset({
    "RawModule", "RawKernel", "default_backend", "gpu_available", "KernelError", "CompileError",
    "UnsupportedFeatureError", "LaunchConfigError", "ArgumentTypeError", "BarrierDivergenceError",
    "DeadlockError", "WarpSyncError", "KernelFaultError", "SanitizerError"})}


def exercise_path(test_file: str | Path, name: str) -> Path:
    """``chXX/tests/test_name.py`` (or ``chXX/hidden/...``) -> ``chXX/name.py``."""
    return Path(test_file).resolve().parent.parent / f"{name}.py"


def forbidden_imports(source: str, filename: str = "<submission>") -> list[str]:
    """Return ``"line N: import torch"``-style findings (empty when the source is plain NumPy).

    Catches ``import x``, ``from x import y`` and ``__import__("x")`` /
    ``importlib.import_module("x")`` with a literal name.
    """
    tree = ast.parse(source, filename=filename)
    found = []

    def bad(module: str) -> bool:
        return module.split(".")[0] in FORBIDDEN_IMPORTS

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if bad(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and bad(node.module):
            allowed = ALLOWED_FROM_IMPORTS.get(node.module, frozenset())
            if not all(a.name in allowed for a in node.names):
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            arg = node.args[0].value
            if fname in ("__import__", "import_module") and isinstance(arg, str) and bad(arg):
                found.append(f"line {node.lineno}: {fname}({arg!r})")
    return found


def assert_self_contained(path: str | Path) -> None:
    """Fail with a clear message if the file does not parse or imports a forbidden library."""
    path = Path(path)
    if not path.is_file():
        raise GradingFailure(f"{path.name} not found: the submission must contain this file",
                             "missing file")
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        found = forbidden_imports(source, path.name)
    except SyntaxError as e:
        raise GradingFailure(f"{path.name} does not parse: SyntaxError at line {e.lineno}: {e.msg}",
                             "syntax error") from None
    if found:
        raise GradingFailure(f"{path.name} must be plain NumPy, but it uses "
                             f"{'; '.join(found)}. Libraries not allowed: "
                             f"{', '.join(FORBIDDEN_IMPORTS)}", "forbidden import")


def cuda_source_problems(text: str, filename: str = "kernel.cu") -> list[tuple[str, str]]:
    """``[(message, category)]`` for what a submitted kernel may not contain (:mod:`.cu_rules`)."""
    return cu_rules.problems(text, filename)


def assert_cuda_source(path: str | Path) -> None:
    """Fail with a clear message if a submitted ``.cu`` file is missing or holds what
    :mod:`.cu_rules` forbids (``#include`` in any spelling, digraphs, ``asm``, ``extern``
    declarations, ``system()`` ...): the kernel must be written out in the file itself."""
    path = Path(path)
    if not path.is_file():
        raise GradingFailure(f"{path.name} not found: the submission must contain this file "
                             f"(next to {path.stem}.py)", "missing file")
    text = path.read_text(encoding="utf-8", errors="replace")
    problems = cuda_source_problems(text, path.name)
    if problems:
        raise GradingFailure(problems[0][0], problems[0][1])


def load_submission(test_file: str | Path, name: str):
    """Start the learner's ``chXX/<name>.py`` (next to ``test_file``'s folder) in a sandbox process
    after the import check; return a :class:`~.proxy.SubmissionModule` whose functions run there.

    A CUDA exercise (a ``<name>.cu`` companion) may import ``course_lib.cuda``; its kernel file
    is checked here too, and compiled and run only inside the sandbox.
    """
    from .layout import COMPANION_SUFFIXES
    from .proxy import ACTIVE, SubmissionModule
    from .sandbox import Sandbox

    path = exercise_path(test_file, name)
    assert_self_contained(path)
    companions = [path.with_suffix(s) for s in COMPANION_SUFFIXES if path.with_suffix(s).is_file()]
    for c in companions:
        if c.suffix == ".cu":
            assert_cuda_source(c)
    running = ACTIVE.get(path)
    if running is not None:  # the public and hidden tests of one exercise share the process
        return running.start()
    allowed = ("course_lib.cuda",) if any(c.suffix == ".cu" for c in companions) else ()
    module = SubmissionModule(path, Sandbox(path, companions, allowed))
    ACTIVE[path] = module
    try:
        return module.start()
    except BaseException:
        module.close()
        raise


def submission_fixture(name: str):
    """A module-scoped pytest fixture returning the learner's module ``name``.

    Usage in a test file: ``sub = submission_fixture("conv_backward")`` then take ``sub`` as an
    argument. The module runs in a sandbox process (:mod:`.sandbox`); ``sub.fn(*args)`` calls it
    there. A failure to load is re-raised for every test that uses it.
    """

    @pytest.fixture(scope="module")
    def _fixture(request):
        return load_submission(request.path, name)

    return _fixture


def close_submissions(folder: Path | None = None) -> None:
    """Stop every running submission (end of the test session); keep each one's printed output
    (capped) in ``folder/<name>.output.txt``."""
    from .proxy import ACTIVE
    for path, module in list(ACTIVE.items()):
        output = module.close()
        if output.strip() and folder is not None:
            with open(folder / f"{path.stem}.output.txt", "a", encoding="utf-8") as f:
                f.write(output)

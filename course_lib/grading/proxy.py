"""Stand-ins in the test process for a submission that runs in its sandbox.

``sub = submission_fixture("conv_backward")`` gives tests a :class:`SubmissionModule`:
``sub.conv2d_backward(dy, x, w, 1, 0)`` sends the arguments to the sandbox, calls the learner's
function there and returns its result. Arguments are passed by value: the test's arrays never
change, whatever the submission does to its copies (:func:`~.guard.call_checked` asks for the
copies' state after the call to report an in-place modification). The one exception is a
keyword argument ``out``, written back in place, as NumPy's ``out=`` would be. Functions the
test passes in (``numerical_gradient(f, x)``) are called back in the test process.

An exception raised by the submission comes back as the same built-in type (a ``ValueError``
stays a ``ValueError``, a kernel's ``SanitizerError`` stays one) with the learner's message and
``submission_where`` = ``" (raised at conv_backward.py line 57)"``. A sandbox process that dies
fails the test with "the process running your code was killed by signal 9 ..." and the next
call starts a fresh one.

:class:`SandboxedRawModule` replaces ``course_lib.cuda.RawModule`` in the grader's test process:
a kernel source that belongs to a submission is compiled and launched in that submission's
sandbox (arrays copied back in place, as a launch does); any other source runs as usual.
"""
from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np

from . import wire
from .feedback import GradingFailure
from .sandbox import LoadFailed, Sandbox, SubmissionCrashed

_BUILTIN_ERRORS = {n: getattr(builtins, n) for n in (
    "ArithmeticError", "AssertionError", "AttributeError", "BufferError", "EOFError",
    "FloatingPointError", "ImportError", "IndexError", "KeyError", "LookupError", "MemoryError",
    "ModuleNotFoundError", "NameError", "NotImplementedError", "OSError", "OverflowError",
    "PermissionError", "RecursionError", "RuntimeError", "TypeError", "UnboundLocalError",
    "UnicodeError", "ValueError", "ZeroDivisionError")}
#: Submissions whose module path is registered here (``chXX/name.py`` in the grading folder).
ACTIVE: dict[Path, "SubmissionModule"] = {}


def _cuda_errors() -> dict:
    try:
        from ..cuda.emulator import errors
    except ImportError:
        return {}
    return {n: getattr(errors, n) for n in dir(errors)
            if isinstance(getattr(errors, n), type) and issubclass(getattr(errors, n), Exception)}


def rebuild_exception(info: dict) -> BaseException:
    """An exception of a known type (never one the submission defines) from the child's report."""
    message = str(info.get("message", ""))[:4000]
    mro = [str(n) for n in info.get("mro", [])] if isinstance(info.get("mro"), list) else []
    if "SystemExit" in mro:
        code = info.get("code")
        exc: BaseException = SystemExit(code if isinstance(code, (int, str, type(None))) else None)
    else:
        known = {**_cuda_errors(), **_BUILTIN_ERRORS}
        cls = next((known[n] for n in mro if n in known), None)
        if cls is None:
            cls = RuntimeError
            message = f"{str(info.get('type', 'Exception'))[:80]}: {message}"
        try:
            exc = cls(message)
        except Exception:  # noqa: BLE001 - a constructor with other arguments
            exc = RuntimeError(message)
    where = info.get("where", "")
    exc.submission_where = where if isinstance(where, str) and len(where) < 300 else ""
    return exc


def crash_failure(e: SubmissionCrashed) -> GradingFailure:
    return GradingFailure(f"{e.describe()} while running this test", "crash")


def _reply(sub: "SubmissionModule", envelope: dict, arrays: list, callbacks: dict):
    try:
        env, arrs = sub.sandbox.request(envelope, arrays, callbacks)
    except SubmissionCrashed as e:
        if sub.sandbox.starts >= Sandbox.MAX_STARTS and (sub.sandbox.process is None
                                                        or not sub.sandbox.process.alive):
            raise GradingFailure("not run: the process running your code crashed repeatedly ("
                                 f"{e.describe()})", "crash") from None
        raise crash_failure(e) from None
    except LoadFailed as e:
        raise load_failure(sub.path, e) from None
    if not env.get("ok"):
        raise rebuild_exception(env.get("exc") or {})
    return env, arrs


def load_failure(path: Path, e: LoadFailed) -> GradingFailure:
    exc = rebuild_exception(e.info)
    name = "SystemExit" if isinstance(exc, SystemExit) else type(exc).__name__
    return GradingFailure(f"importing {path.name} failed: {name}{exc.submission_where}: {exc}",
                          "import failed")


class RemoteFunction:
    """A function of the submission; calling it runs it in the sandbox."""

    def __init__(self, sub: "SubmissionModule", name: str, params: list[str]):
        self._sub, self.__name__, self.parameter_names = sub, name, params

    def __repr__(self) -> str:
        return f"<submission function {self.__name__}>"

    def call_with_state(self, *args, **kwargs):
        """(result, args_after, kwargs_after): the submission's copies after the call."""
        arrays: list = []
        callbacks: dict = {}
        envelope = {"op": "call", "name": self.__name__,
                    "args": wire.encode(list(args), arrays, callbacks),
                    "kwargs": wire.encode(kwargs, arrays, callbacks)}
        env, arrs = _reply(self._sub, envelope, arrays, callbacks)
        try:
            result = wire.decode(env.get("result"), arrs)
            after = wire.decode(env.get("args_after", []), arrs)
            kw_after = wire.decode(env.get("kwargs_after", {"$m": {}}), arrs)
        except wire.WireError as e:
            raise GradingFailure(f"the result of {self.__name__} could not be read back: {e}",
                                 "wrong type") from None
        out = kwargs.get("out")
        new_out = kw_after.get("out") if isinstance(kw_after, dict) else None
        if isinstance(out, np.ndarray) and isinstance(new_out, np.ndarray) \
                and new_out.shape == out.shape and new_out.dtype == out.dtype:
            np.copyto(out, new_out)
        return result, after if isinstance(after, list) else [], \
            kw_after if isinstance(kw_after, dict) else {}

    def __call__(self, *args, **kwargs):
        return self.call_with_state(*args, **kwargs)[0]


class SubmissionModule:
    """What ``submission_fixture`` hands to tests: the learner's module, living in a sandbox."""

    def __init__(self, path: Path, sandbox: Sandbox):
        self.path, self.sandbox = path, sandbox
        self.__name__ = path.stem

    def start(self) -> "SubmissionModule":
        try:
            self.sandbox.ensure_started()
        except LoadFailed as e:
            raise load_failure(self.path, e) from None
        except SubmissionCrashed as e:
            raise GradingFailure(f"importing {self.path.name} failed: {e.describe()}",
                                 "import failed") from None
        return self

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        functions = self.sandbox.functions if self.sandbox.process is not None else \
            self.start().sandbox.functions
        if name in functions:
            return RemoteFunction(self, name, functions[name])
        env, arrs = _reply(self, {"op": "getattr", "name": name}, [], {})
        return wire.decode(env.get("result"), arrs)

    def close(self) -> str:
        ACTIVE.pop(self.path, None)
        return self.sandbox.close()


class _RemoteKernel:
    def __init__(self, sub: SubmissionModule, source_file: str, name: str, options, backend, emu):
        self._sub, self._source, self.name = sub, source_file, name
        self._options, self._backend, self._emu = tuple(options), backend, dict(emu)

    def __call__(self, grid, block, args, shared_mem: int = 0):
        arrays: list = []
        envelope = {"op": "kernel", "source_file": self._source, "kernel": self.name,
                    "options": list(self._options), "backend": self._backend,
                    "shared_mem": int(shared_mem),
                    "args": wire.encode([grid, block, list(args)], arrays),
                    "kwargs": wire.encode(self._emu, arrays)}
        env, arrs = _reply(self._sub, envelope, arrays, {})
        after = wire.decode(env.get("args_after", []), arrs)
        for mine, new in zip(args, after if isinstance(after, list) else []):
            if isinstance(mine, np.ndarray) and isinstance(new, np.ndarray) \
                    and new.shape == mine.shape and new.dtype == mine.dtype:
                np.copyto(mine, new)


class SandboxedRawModule:
    """``RawModule`` for the grader's test process: a submission's kernel runs in its sandbox."""

    def __new__(cls, code=None, *, path=None, options=(), backend=None, **emulator_options):
        from ..cuda.runtime import RawModule
        owner = None
        if path is not None:
            p = Path(path).resolve()
            owner = ACTIVE.get(p.with_suffix(".py")) or next(
                (s for k, s in ACTIVE.items() if k.parent == p.parent), None)
        if owner is None:
            return RawModule(code, path=path, options=options, backend=backend, **emulator_options)
        self = object.__new__(cls)
        self._owner, self._file = owner, Path(path).name
        self._options, self._backend, self._emu = options, backend, emulator_options
        return self

    def get_function(self, name: str) -> _RemoteKernel:
        return _RemoteKernel(self._owner, self._file, name, self._options, self._backend, self._emu)


def install_kernel_guard() -> None:
    """Make ``course_lib.cuda.RawModule`` the sandboxed one in this (the grader's) process."""
    try:
        from .. import cuda
    except ImportError:
        return
    if getattr(cuda, "_grading_guard", False):
        return
    cuda.RawModule = SandboxedRawModule
    cuda._grading_guard = True

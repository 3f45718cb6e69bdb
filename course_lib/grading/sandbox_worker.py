"""The sandbox process: loads one learner's exercise module and serves calls to it over a pipe.

Started by :mod:`course_lib.grading.sandbox` as ``python -I sandbox_worker.py CONFIG`` (a fresh
interpreter that never imported torch, pytest or the grader), in the submission's own folder, as
an unprivileged user when the grader runs as root. It imports NumPy (and, for a CUDA exercise,
the kernel runtime ``course_lib.cuda``), then installs an audit hook (:pep:`578`) that holds for
the rest of the process, and only then imports the learner's file. From then on:

* ``import`` of anything but NumPy, a list of harmless standard-library modules and (CUDA
  exercises) ``course_lib.cuda`` fails, however it is spelled (``importlib``, ``__import__``,
  ``__builtins__``); modules already loaded for NumPy's own use but dangerous (``ctypes``,
  ``subprocess``) are dropped from ``sys.modules`` first, so importing them goes through the hook;
* ``open()`` (and ``os.open``, removing, renaming ...) of a file outside the sandbox folder
  fails, except reading the files of NumPy, the standard library and the kernel runtime;
* ``exec``/``eval``/``compile`` of code fail (the import system's own use is allowed);
* running programs (``os.system``, ``subprocess``, ``fork``, ``exec*``), ``ctypes``, signals to
  other processes, sockets and walking the garbage collector's object lists fail -- except, in a
  CUDA exercise, the compiler runs and library loads that the emulator itself makes.

The hook is a hardening layer inside the real boundary (another user id, resource limits, no
access to the tests); see :mod:`course_lib.grading.sandbox`. Messages use
:mod:`course_lib.grading.wire` (JSON and ``.npy``, never pickle).
"""
from __future__ import annotations

import importlib
import json
import os
import sys
import traceback

# Modules a submission may import at run time, beyond numpy.* (the root name is checked).
SAFE_STDLIB = frozenset({
    "__future__", "math", "cmath", "itertools", "functools", "operator", "collections", "typing",
    "dataclasses", "numbers", "fractions", "decimal", "statistics", "enum", "abc", "string", "re",
    "copy", "heapq", "bisect", "array", "warnings", "time", "contextlib", "pathlib", "types",
    "textwrap", "random", "struct", "keyword", "reprlib", "weakref", "_weakrefset",
})
# Libraries that implement the exercises: never, whoever asks.
NEVER_IMPORT = frozenset({"torch", "scipy", "tensorflow", "jax", "cupy", "numba", "sklearn", "cv2",
                          "skimage", "functorch", "torchvision"})
# NumPy or the standard library may load other standard modules for a submission, but not these.
DANGEROUS = frozenset({"ctypes", "_ctypes", "subprocess", "_posixsubprocess", "runpy", "socket",
                       "_socket", "multiprocessing", "pickle", "_pickle", "pty", "code", "codeop",
                       "importlib", "zipimport", "shutil", "tempfile", "signal", "resource"})
# Loaded while NumPy or the kernel runtime start, but a submission must not reach them by import.
DROP_AFTER_START = ("ctypes", "_ctypes", "ctypes.util", "ctypes._endian", "subprocess",
                    "_posixsubprocess", "runpy", "pickle", "_pickle", "shutil", "tempfile",
                    "socket", "_socket", "signal", "multiprocessing", "importlib.util",
                    "importlib.machinery", "zipimport", "code", "codeop")
NUMPY_WARMUP = ("numpy", "numpy.fft", "numpy.linalg", "numpy.random", "numpy.lib.stride_tricks",
                "numpy.polynomial")
ALWAYS_BLOCKED = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "os.setuid", "os.setreuid", "gc.get_objects", "gc.get_referrers",
    "gc.get_referents", "socket.connect", "socket.bind", "socket.__new__", "socket.getaddrinfo",
    "sys.remote_exec", "cpython.run_command", "cpython.run_file", "cpython.run_module",
    "cpython.run_startup", "cpython.run_interactivehook", "_posixsubprocess.fork_exec",
})
PATH_EVENTS = frozenset({"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
                         "os.symlink", "os.link", "os.truncate", "os.utime", "os.chflags",
                         "os.lchflags", "os.lchmod", "os.setxattr", "os.removexattr", "shutil.copyfile",
                         "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.move",
                         "shutil.rmtree", "shutil.chown"})
FUNCTION_GUTS = frozenset({"__code__", "__defaults__", "__kwdefaults__", "__globals__", "__closure__"})


def _under(path: str, roots) -> bool:
    return any(path == r or path.startswith(r + os.sep) for r in roots)


def make_hook(writable, read_roots, list_roots, import_roots, cuda_dir, programs):
    """The audit hook; every piece of its state is immutable and bound as a default argument
    (changing ``__defaults__`` of a function is itself an audited, blocked event)."""

    def hook(event, args, _sb=tuple(writable), _rr=tuple(read_roots), _lr=tuple(list_roots),
             _imp=frozenset(import_roots), _cuda=cuda_dir, _progs=frozenset(programs),
             _safe=SAFE_STDLIB, _blocked=ALWAYS_BLOCKED, _paths=PATH_EVENTS, _guts=FUNCTION_GUTS,
             _under=_under, _getframe=sys._getframe, _never=NEVER_IMPORT, _danger=DANGEROUS,
             _pathdirs=tuple(os.environ.get("PATH", "").split(os.pathsep)), _isfile=os.path.isfile,
             _iml=(os.path.dirname(os.path.realpath(importlib.__file__)),), _realpath=os.path.realpath,
             _fspath=os.fspath, _sep=os.sep):
        if event == "sys._getframe" or event == "object.__getattr__":
            return

        def emulator_on_stack():
            if not _cuda:
                return False
            f = _getframe(2)
            for _ in range(60):
                if f is None:
                    return False
                name = f.f_code.co_filename
                if name.startswith(_cuda):
                    return True
                f = f.f_back
            return False

        def real(p):
            if isinstance(p, int):
                return None
            try:
                p = _fspath(p)
                if isinstance(p, bytes):
                    p = p.decode("utf-8", "surrogateescape")
                return _realpath(p)
            except Exception:  # noqa: BLE001
                return ""

        if event == "import":
            name = args[0]
            root = name.split(".")[0]
            cuda_ok = name in _imp or any(name.startswith(m + ".") for m in _imp if m != "course_lib")
            if root == "cupy" and "cupy" in _imp and emulator_on_stack():
                return  # the kernel runtime's GPU backend
            if root in _never or (root == "course_lib" and not cuda_ok):
                raise ImportError(f"import of {name!r} is not allowed in an exercise: plain NumPy only")
            if root in _safe or root == "numpy" or cuda_ok:
                return
            # Who asked? Skip the import system's own frames; NumPy, the standard library and
            # the kernel runtime may load what they need (not programs or ctypes, unless it is
            # the kernel runtime), the submission only the modules above.
            f = _getframe(1)
            while f is not None and (f.f_code.co_filename.startswith("<frozen") or
                                     _under(f.f_code.co_filename, _iml)):
                f = f.f_back
            asker = f.f_code.co_filename if f is not None else ""
            if _cuda and asker.startswith(_cuda):
                return
            if _under(asker, _rr) and not _under(asker, _sb) and root not in _danger:
                return
            raise ImportError(f"import of {name!r} is not allowed in an exercise: plain NumPy only")
        if event == "open":
            path, mode, flags = args[0], args[1], args[2]
            p = real(path)
            if p is None or _under(p, _sb):
                return
            writing = (mode is not None and any(c in str(mode) for c in "wax+")) or \
                (mode is None and isinstance(flags, int) and flags & 3 != 0)
            if not writing and _under(p, _rr):
                return
            raise PermissionError(f"the exercise may not open {path!r}: files outside its own "
                                  "folder are off limits")
        if event in ("os.listdir", "os.scandir"):
            p = real(args[0] if args and args[0] is not None else ".")
            if p is None or _under(p, _sb) or _under(p, _rr) or p in _lr:
                return
            raise PermissionError("the exercise may not list folders outside its own")
        if event in _paths:
            for a in args[:2]:
                if isinstance(a, (str, bytes)) or hasattr(a, "__fspath__"):
                    p = real(a)
                    if p is not None and not _under(p, _sb):
                        raise PermissionError(f"the exercise may not change {a!r}")
            return
        if event in ("exec", "compile"):
            caller = _getframe(1).f_code
            if caller.co_filename.startswith("<frozen importlib"):
                return  # the import system compiling and running an allowed module
            if event == "compile" and caller.co_name == "parse" and \
                    caller.co_filename.endswith(_sep + "ast.py"):
                return  # ast.parse makes a syntax tree only (NumPy reads .npy headers so)
            raise RuntimeError(f"{event}() of code is not allowed in an exercise")
        if event == "object.__setattr__" and len(args) > 1 and args[1] in _guts:
            raise RuntimeError("changing a function's code is not allowed in an exercise")
        if event.startswith("ctypes.") or event == "pickle.find_class":
            if emulator_on_stack():
                return
            raise RuntimeError(f"{event.split('.')[0]} is not allowed in an exercise")
        if event == "subprocess.Popen":
            exe = args[0]
            exe = exe if isinstance(exe, (str, bytes)) else (args[1][0] if args[1] else "")
            exe = _fspath(exe)
            exe = exe.decode() if isinstance(exe, bytes) else exe
            if _sep not in exe:  # looked up on PATH, as the child will
                exe = next((d + _sep + exe for d in _pathdirs if _isfile(d + _sep + exe)), exe)
            exe = real(exe)
            if emulator_on_stack() and exe in _progs:
                return
            raise RuntimeError(f"running programs ({exe}) is not allowed in an exercise")
        if event in _blocked or event.startswith("socket."):
            raise RuntimeError(f"{event} is not allowed in an exercise")

    return hook


def _where(tb, sandbox: str) -> str:
    where = ""
    for frame, lineno in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name.startswith(sandbox + os.sep):
            where = f" (raised at {os.path.basename(name)} line {lineno})"
    return where


def describe_exception(e: BaseException, sandbox: str) -> dict:
    """What the grader needs of an exception: type names, message, the submission's line."""
    try:
        message = str(e)
    except Exception:  # noqa: BLE001 - a hostile __str__
        message = "<the exception's message could not be shown>"
    info = {"type": type(e).__name__[:80], "mro": [c.__name__[:80] for c in type(e).__mro__][:20],
            "message": message[:4000], "where": _where(e.__traceback__, sandbox)}
    if isinstance(e, SystemExit):
        info["code"] = e.code if isinstance(e.code, (int, str, type(None))) else str(e.code)
    return info


def _no_core(resource) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (OSError, ValueError):
        pass


def set_limits(limits: dict, cuda: bool) -> None:
    """CPU seconds, memory, file size, processes (per user), no core files."""
    try:
        import resource
    except ImportError:  # not a POSIX system: no limits to set
        return
    import signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails instead of killing

    def cap(res, value):
        if value:
            soft, hard = resource.getrlimit(res)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            try:
                resource.setrlimit(res, (value, value))
            except (OSError, ValueError):  # e.g. macOS refuses RLIMIT_AS
                pass

    cap(resource.RLIMIT_CPU, limits.get("cpu"))
    cap(resource.RLIMIT_FSIZE, limits.get("fsize"))
    cap(resource.RLIMIT_NPROC, limits.get("nproc"))
    _no_core(resource)
    # AddressSanitizer (the hidden tests of CUDA exercises) reserves 15 TB of address space,
    # which both RLIMIT_AS and RLIMIT_DATA count, so only NumPy exercises get a memory cap.
    if not cuda:
        cap(resource.RLIMIT_AS, limits.get("memory"))


def main() -> None:
    config = json.loads(sys.argv[1])
    rfd, wfd = config["rfd"], config["wfd"]
    set_limits(config.get("limits") or {}, "course_lib.cuda" in config.get("allowed_imports", ()))
    sandbox = os.path.realpath(config["sandbox"])
    runtime = os.path.realpath(config["runtime"])
    sys.path.insert(0, runtime)
    sys.path.extend(config.get("site") or [])
    os.chdir(sandbox)
    import importlib.util as ilu
    import inspect

    import numpy as np  # noqa: F401
    import wire as _wire  # the runtime copy of course_lib/grading/wire.py
    for m in NUMPY_WARMUP:
        __import__(m)
    import_roots = set(config.get("allowed_imports", ()))
    cuda_dir = ""
    programs = []
    read_roots = [os.path.dirname(os.path.realpath(np.__file__))]
    import sysconfig
    for key in ("stdlib", "platstdlib"):
        read_roots.append(os.path.realpath(sysconfig.get_paths()[key]))
    if "course_lib.cuda" in import_roots:
        import course_lib.cuda  # noqa: F401
        import course_lib.cuda.emulator.build as build
        import course_lib.cuda.emulator.module  # noqa: F401
        import course_lib.cuda.emulator.sanitize  # noqa: F401
        cuda_dir = os.path.dirname(os.path.realpath(course_lib.cuda.__file__))
        # Every module of the runtime now, before the hook: some are imported lazily and build
        # classes at import time (dataclasses run exec), which the hook refuses later.
        for folder, _dirs, names in sorted(os.walk(cuda_dir)):
            for n in sorted(names):
                if n.endswith(".py") and n != "__main__.py":
                    rel = os.path.relpath(os.path.join(folder, n), os.path.dirname(cuda_dir))
                    mod = "course_lib." + rel[:-3].replace(os.sep, ".").replace(".__init__", "")
                    try:
                        __import__(mod)
                    except Exception:  # noqa: BLE001 - an optional part (e.g. NVRTC bindings)
                        pass
        read_roots.append(cuda_dir)
        import shutil
        try:
            programs = [os.path.realpath(build.compiler())]
            build.compiler_version()
        except Exception:  # noqa: BLE001 - no compiler: the kernel's own launch reports it
            programs = []
        programs += [os.path.realpath(p) for p in (shutil.which("readelf"), shutil.which("setarch"),
                                                   shutil.which("which"), sys.executable) if p]
        import_roots.add("course_lib")
        if course_lib.cuda.default_backend() == "cupy":  # a GPU: CuPy compiles and launches
            try:
                import cupy
                import_roots.add("cupy")
                read_roots.extend(os.path.realpath(p) for p in sys.path
                                  if p and p.endswith("-packages"))
                read_roots.append(os.path.dirname(os.path.realpath(cupy.__file__)))
            except Exception:  # noqa: BLE001 - the launch reports a broken CuPy itself
                pass
        import cu_rules  # the runtime copy of course_lib/grading/cu_rules.py
        real_build = build.build

        def checked_build(code, filename, *args, _real=real_build, _problems=cu_rules.problems,
                          **kwargs):
            found = _problems(code, os.path.basename(str(filename)))
            if found:
                raise course_lib.cuda.CompileError(found[0][0])
            return _real(code, filename, *args, **kwargs)

        build.build = checked_build
        course_lib.cuda.emulator.module.build = checked_build
    spec = ilu.spec_from_file_location(config["module_name"], config["module_path"])
    module = ilu.module_from_spec(spec)
    list_roots = [os.path.realpath(p) for p in sys.path if p]
    for m in DROP_AFTER_START:
        sys.modules.pop(m, None)
    writable = [sandbox] + [os.path.realpath(p) for p in config.get("writable", ())]
    sys.addaudithook(make_hook(writable, read_roots, list_roots, import_roots, cuda_dir, programs))
    del ilu

    send, receive = _wire.send, _wire.receive

    def reply(envelope, arrays=()):
        send(wfd, envelope, list(arrays))

    def failure(e: BaseException) -> None:
        reply({"ok": False, "exc": describe_exception(e, sandbox)})

    try:
        sys.modules[config["module_name"]] = module
        spec.loader.exec_module(module)
    except BaseException as e:  # noqa: BLE001 - report anything raised at import time
        failure(e)
        return
    functions = {}
    for name in dir(module):
        obj = getattr(module, name, None)
        if callable(obj) and not name.startswith("__"):
            try:
                functions[name] = list(inspect.signature(obj).parameters)
            except (TypeError, ValueError):
                functions[name] = []
    reply({"ok": True, "functions": functions})

    def callback_stub(key):
        def call_grader(*args, **kwargs):
            arrays: list = []
            msg = {"op": "callback", "id": key, "args": _wire.encode(list(args), arrays),
                   "kwargs": _wire.encode(kwargs, arrays)}
            send(wfd, msg, arrays)
            env, arrs = receive(rfd)
            if env.get("ok"):
                return _wire.decode(env.get("result"), arrs)
            raise RuntimeError(str(env.get("message", "the grader's function failed"))[:2000])
        return call_grader

    def after(values):
        return [v if isinstance(v, np.ndarray) else None for v in values]

    while True:
        try:
            env, arrays = receive(rfd)
        except _wire.PeerClosed:
            return
        op = env.get("op")
        try:
            args = _wire.decode(env.get("args", []), arrays, callback_stub)
            kwargs = _wire.decode(env.get("kwargs", {"$m": {}}), arrays, callback_stub)
            if op == "call":
                fn = getattr(module, str(env["name"]))
                result = fn(*args, **kwargs)
                out: list = []
                payload = {"ok": True, "result": _wire.encode(result, out),
                           "args_after": _wire.encode(after(args), out),
                           "kwargs_after": _wire.encode({k: v for k, v in kwargs.items()
                                                         if isinstance(v, np.ndarray)}, out)}
                reply(payload, out)
            elif op == "warm":  # build the kernels now, outside any test's time limit
                from course_lib.cuda import default_backend as backend_of_this_machine
                from course_lib.cuda import RawModule
                if backend_of_this_machine() == "emulator":
                    for cu in sorted(os.listdir(sandbox)):
                        if cu.endswith(".cu"):
                            try:
                                RawModule(path=os.path.join(sandbox, cu), backend="emulator").compile()
                            except Exception:  # noqa: BLE001 - the tests report it
                                pass
                reply({"ok": True})
            elif op == "getattr":
                out = []
                reply({"ok": True, "result": _wire.encode(getattr(module, str(env["name"])), out)}, out)
            elif op == "kernel":
                from course_lib.cuda import RawModule
                source = env.get("source_file")
                if source is not None:
                    path = os.path.join(sandbox, os.path.basename(str(source)))
                    mod = RawModule(path=path, options=tuple(env.get("options", ())),
                                    backend=env.get("backend"), **kwargs)
                else:
                    mod = RawModule(str(env["code"]), options=tuple(env.get("options", ())),
                                    backend=env.get("backend"), **kwargs)
                kernel = mod.get_function(str(env["kernel"]))
                grid, block, kargs = args
                kernel(grid, block, tuple(kargs), shared_mem=int(env.get("shared_mem", 0)))
                out = []
                reply({"ok": True, "result": None, "args_after": _wire.encode(after(kargs), out)}, out)
            else:
                reply({"ok": False, "exc": {"type": "RuntimeError", "mro": ["RuntimeError"],
                                            "message": f"unknown request {op!r}", "where": ""}})
        except _wire.PeerClosed:
            return
        except BaseException as e:  # noqa: BLE001 - everything goes back to the grader
            try:
                failure(e)
            except _wire.WireError:
                return


if __name__ == "__main__":
    main()

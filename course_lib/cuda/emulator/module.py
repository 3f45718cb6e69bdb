"""Load an emulator build with ctypes and launch kernels on NumPy arrays, in place.

Arguments travel as CUDA's driver API passes them: an array of pointers, one per parameter,
each pointing at the parameter's bytes (a device pointer for arrays, the value for scalars).
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from . import errors
from . import frontend
from .build import build, check_supported, global_symbol, thunk_symbol
from .signature import KernelSignature, find_globals

SCHEDULES = {"forward": 0, "reverse": 1, "random": 2}
SANITIZERS = {None: "plain", "address": "address", "thread": "thread"}
MODE_CODE = {"plain": 0, "address": 1, "thread": 2}
ERROR_CODES = {1: errors.BarrierDivergenceError, 2: errors.DeadlockError, 3: errors.WarpSyncError,
               4: errors.KernelFaultError, 5: errors.CooperativeLaunchError, 6: errors.KernelError}

_libs: dict[str, ctypes.CDLL] = {}
_libs_lock = threading.Lock()


def load_library(path: Path) -> ctypes.CDLL:
    """ctypes handle of a built library (one per path and process)."""
    with _libs_lock:
        lib = _libs.get(str(path))
        if lib is None:
            lib = ctypes.CDLL(str(path))
            lib.__simt_launch.restype = ctypes.c_int
            lib.__simt_launch.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_longlong),
                                          ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                                          ctypes.POINTER(ctypes.c_longlong)]
            lib.__simt_free.argtypes = [ctypes.c_void_p]
            lib.__simt_guarded_alloc.restype = ctypes.c_void_p
            lib.__simt_guarded_alloc.argtypes = [ctypes.c_longlong]
            lib.__simt_guarded_free.argtypes = [ctypes.c_void_p, ctypes.c_longlong]
            _libs[str(path)] = lib
        return lib


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def pack_args(values: list, pointers: list[int] | None = None) -> tuple[ctypes.Array, list]:
    """``void*[]`` pointing at each argument's bytes; the second item keeps the holders alive.

    ``pointers`` (optional) replaces the data address of each array argument in order (the
    sanitizer run passes exact-size malloc'ed copies)."""
    holders: list[Any] = []
    ptrs = (ctypes.c_void_p * max(1, len(values)))()
    k = 0
    for i, v in enumerate(values):
        if v is None or isinstance(v, np.ndarray):
            addr = 0 if v is None else (pointers[k] if pointers is not None else v.ctypes.data)
            if v is not None:
                k += 1
            h = np.array([addr], dtype=np.uintp)
        else:
            h = np.array([v], dtype=v.dtype)     # exact C width of the parameter
        holders.append(h)
        ptrs[i] = h.ctypes.data
    return ptrs, holders


def launch_config(grid, block, shared_mem: int, schedule: str, seed: int, workers: int, mode: str,
                  cooperative: bool = False):
    cfg = (ctypes.c_longlong * 12)(*grid, *block, shared_mem, SCHEDULES[schedule], seed, workers,
                                   MODE_CODE[mode], int(bool(cooperative)))
    return cfg


def call_launch(lib: ctypes.CDLL, kernel: str, ptrs, cfg) -> tuple[int, str, str]:
    """Run the launch; returns (code, message, printf output)."""
    thunk = ctypes.cast(getattr(lib, thunk_symbol(kernel)), ctypes.c_void_p)
    err = ctypes.create_string_buffer(8192)
    out = ctypes.c_void_p()
    outlen = ctypes.c_longlong()
    code = lib.__simt_launch(thunk, ctypes.cast(ptrs, ctypes.c_void_p), cfg, err, len(err),
                             ctypes.byref(out), ctypes.byref(outlen))
    text = ""
    if out.value:
        text = ctypes.string_at(out.value, outlen.value).decode(errors="replace")
        lib.__simt_free(out)
    return code, err.value.decode(errors="replace"), text


def global_view(lib: ctypes.CDLL, name: str, dtype: np.dtype) -> np.ndarray:
    """The bytes of global variable ``name`` in a loaded build, viewed as ``dtype`` with the
    declared extents (a trailing axis for vector types such as float4)."""
    fn = getattr(lib, global_symbol(name))
    fn.restype = ctypes.c_longlong
    fn.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_longlong)]
    addr, ext = ctypes.c_void_p(), (ctypes.c_longlong * 5)()
    rank = fn(ctypes.byref(addr), ext)
    size = int(ext[4])
    raw = np.ctypeslib.as_array((ctypes.c_uint8 * size).from_address(addr.value))
    if size % dtype.itemsize:
        return raw
    shape = tuple(int(ext[i]) for i in range(rank))
    count = int(np.prod(shape)) if shape else 1
    per = size // dtype.itemsize // count
    return raw.view(dtype).reshape(shape + ((per,) if per > 1 else ()))


def raise_for(code: int, msg: str, kernel: str) -> None:
    if code:
        cls = ERROR_CODES.get(code, errors.KernelError)
        raise cls(f"{kernel}: {msg}")


class EmulatorModule:
    """A CUDA source built for the CPU emulator; see :mod:`course_lib.cuda` for the options."""

    def __init__(self, code: str, *, filename: str, path: Path | None, options: tuple[str, ...],
                 signatures: dict[str, KernelSignature], schedule: str = "forward", seed: int = 0,
                 sanitizer: str | None = None, workers: int | None = None, opt_level: int = 2):
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {tuple(SCHEDULES)}, got {schedule!r}")
        if sanitizer not in SANITIZERS:
            raise ValueError(f"sanitizer must be None, 'address' or 'thread', got {sanitizer!r}")
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a positive int or None, got {workers!r}")
        if opt_level not in (0, 1, 2, 3):
            raise ValueError(f"opt_level must be 0-3, got {opt_level!r}")
        self.code, self.filename, self.path = code, filename, path
        self.signatures = signatures
        self.schedule, self.seed, self.sanitizer = schedule, int(seed), sanitizer
        self.workers = workers or default_workers()
        self.mode = SANITIZERS[sanitizer]
        names = list(signatures)
        self.globals = find_globals(code)
        gnames = tuple(self.globals)
        src_dir = path.parent if path is not None else None
        # What the GPU's compiler refuses is refused here too, with its message (see frontend.py);
        # a feature the emulator lacks is named first ("needs a real GPU: ...").
        check_supported(code, filename)
        frontend.check(code, filename, options, src_dir, [k for k in names if "<" in k])
        # The plain build gives static shared sizes and runs unsanitised launches in-process; it
        # also holds the module's __constant__ / __device__ variables (get_global) in every mode.
        self.lib_path, self.meta = build(code, filename, names, global_names=gnames, mode="plain",
                                         options=options, src_dir=src_dir, opt_level=opt_level)
        self.san_lib_path = None
        if self.mode != "plain":
            self.san_lib_path, _ = build(code, filename, names, global_names=gnames, mode=self.mode,
                                         options=options, src_dir=src_dir, opt_level=opt_level)
        self._lib = load_library(self.lib_path) if self.mode == "plain" or self.globals else None
        self._global_views: dict[str, np.ndarray] = {}

    def get_global(self, name: str) -> np.ndarray:
        """A NumPy view of the variable ``name`` in the module's memory (shape and dtype of its
        declaration); writes are what the next launch reads."""
        if name not in self.globals:
            raise errors.KernelError(f"no __constant__ or __device__ variable '{name}' at file scope "
                                     f"of {self.filename}; found {sorted(self.globals)}")
        view = self._global_views.get(name)
        if view is None:
            view = global_view(self._lib, name, self.globals[name].dtype)
            if self.globals[name].const:
                view.flags.writeable = False           # const data sits in read-only pages
            self._global_views[name] = view
        return view

    def static_shared_bytes(self, name: str) -> int:
        return int(self.meta["static_shared"].get(name, 0))

    def launch(self, name: str, grid, block, shared_mem: int, values: list,
               cooperative: bool = False) -> None:
        if self.mode != "plain":
            from .sanitize import run_sanitized
            views = {g: self.get_global(g) for g in self.globals}
            run_sanitized(self.san_lib_path, self.mode, name, self.signatures[name], grid, block,
                          shared_mem, values, schedule=self.schedule, seed=self.seed, workers=self.workers,
                          filename=self.filename, cooperative=cooperative, globals_=views)
            return
        lib = self._lib
        arrays = [v for v in values if isinstance(v, np.ndarray)]
        # Guarded copies: an out-of-bounds index faults (KernelFaultError) instead of corrupting
        # the interpreter's heap. Copying costs far less than emulating the threads.
        bufs = []
        try:
            for a in arrays:
                p = getattr(lib, "__simt_guarded_alloc")(a.nbytes)
                if not p:
                    raise MemoryError(f"{name}: cannot map {a.nbytes} bytes for an argument")
                bufs.append(p)
                ctypes.memmove(p, a.ctypes.data, a.nbytes)
            ptrs, holders = pack_args(values, pointers=bufs)
            cfg = launch_config(grid, block, shared_mem, self.schedule, self.seed, self.workers, "plain",
                                cooperative)
            code, msg, out = call_launch(lib, name, ptrs, cfg)
            del holders
            for a, p in zip(arrays, bufs):
                ctypes.memmove(a.ctypes.data, p, a.nbytes)
        finally:
            for a, p in zip(arrays, bufs):
                getattr(lib, "__simt_guarded_free")(p, a.nbytes)
        if out:
            sys.stdout.write(out)
            sys.stdout.flush()
        raise_for(code, msg, name)

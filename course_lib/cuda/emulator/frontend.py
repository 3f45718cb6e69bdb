"""NVRTC's front end as a gate before the emulator's g++ build.

g++ accepts code that NVRTC (the compiler CuPy uses on a GPU) refuses: ``atomicMax`` on a
``float*`` (the emulator defines one, CUDA does not), ``std::numeric_limits`` or other host
library headers in device code, ``INFINITY`` without a header ... Such a kernel would "work" on a
laptop and fail to compile on the GPU. So when NVRTC is installed, the emulator backend first
runs NVRTC's front end (``-fdevice-syntax-only``: parsing and type checking, no code generation)
on the same source, options and template name expressions, and refuses what it refuses, with
NVRTC's own message.

The verdict is cached on disk per source hash (``<emulator cache>/nvrtc/``); a check costs about
0.2 s the first time. ``COURSE_LIB_NVRTC_CHECK=0`` turns the gate off (e.g. on a machine whose
NVRTC is older than the course's kernels need).

Architecture: ``compute_80`` (the emulator's ``__CUDA_ARCH__``), or the kernel's own
``// nvrtc: min-arch sm_XY`` marker when that is newer.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from .errors import CompileError

EMULATED_ARCH = 80


@lru_cache(maxsize=1)
def _available() -> tuple[bool, str]:
    try:
        from .. import nvrtc
        return nvrtc.nvrtc_available()
    except Exception as exc:  # noqa: BLE001 - e.g. a sandbox that may not load the bindings
        return False, f"{type(exc).__name__}: {exc}"


def enabled() -> bool:
    """True when NVRTC loads and ``$COURSE_LIB_NVRTC_CHECK`` is not ``0``."""
    if os.environ.get("COURSE_LIB_NVRTC_CHECK", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return _available()[0]


def _nvrtc_options(options: Sequence[str], src_dir: Path | None) -> list[str]:
    opts = [str(o) for o in options]
    if src_dir is not None:
        opts.append(f"--include-path={src_dir}")
    return opts


def check(code: str, filename: str, options: Sequence[str] = (), src_dir: Path | None = None,
          name_expressions: Sequence[str] = ()) -> None:
    """Raise :class:`CompileError` with NVRTC's log if NVRTC rejects the source (cached)."""
    if not enabled():
        return
    from .. import nvrtc
    from .build import cache_dir

    arch = f"compute_{max(EMULATED_ARCH, nvrtc.min_arch(code) or 0)}"
    opts = _nvrtc_options(options, src_dir) + ["-fdevice-syntax-only"]
    version = "%d.%d" % nvrtc.nvrtc_version()
    headers = "|".join(nvrtc.cuda_include_dirs())
    key = hashlib.sha256("\0".join([code, filename, arch, version, headers, *opts, "#",
                                    *name_expressions]).encode()).hexdigest()[:24]
    entry = None
    verdict = None
    try:
        d = cache_dir() / "nvrtc"
        d.mkdir(parents=True, exist_ok=True)
        entry = d / f"{key}.json"
        if entry.exists():
            verdict = json.loads(entry.read_text())
    except (OSError, ValueError):
        verdict = None                      # no usable cache: check anyway
    if verdict is None:
        try:
            nvrtc.compile_cuda(code, arch=arch, options=opts, name=Path(filename).name,
                               verbose_ptxas=False, name_expressions=tuple(name_expressions))
            verdict = {"ok": True, "log": ""}
        except nvrtc.NvrtcError as exc:
            verdict = {"ok": False, "log": exc.log.strip() or str(exc)}
        except Exception:  # noqa: BLE001 - NVRTC not usable here after all: g++ decides
            return
        if entry is not None:
            try:
                tmp = entry.with_suffix(f".tmp{os.getpid()}")
                tmp.write_text(json.dumps(verdict))
                os.replace(tmp, entry)
            except OSError:
                pass                        # a read-only cache: the verdict stands, uncached
    if not verdict["ok"]:
        raise CompileError(
            f"NVRTC, the compiler CuPy uses on a GPU, rejects {filename} (checked for {arch} before "
            f"the emulator builds it, so what fails on the GPU fails here too):\n{verdict['log']}")

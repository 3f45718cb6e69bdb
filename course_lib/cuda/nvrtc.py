"""Compile CUDA C with NVRTC, the runtime compiler CuPy uses, without a GPU.

NVRTC ships as a pip wheel (``nvidia-cuda-nvrtc-cu12``) and is driven here through
``cuda.bindings.nvrtc`` (package ``cuda-bindings``).  Compiling needs no driver and no
device, so CI can check that every ``.cu`` file of the package compiles exactly as
:class:`cupy.RawModule` would compile it on a real GPU -- something the CPU emulator
(which builds the same source with g++) cannot tell: g++ accepts code that NVRTC
rejects (``INFINITY`` from ``<cmath>``, host-only library calls, ...).

Compiling for a *real* architecture (``sm_90``, not ``compute_90``) runs ptxas, and with
``--ptxas-options=-v`` ptxas reports per kernel the registers per thread, static shared
memory, stack frame and register spills; :mod:`course_lib.cuda.resources` parses that
report into a table.

Every kernel is compiled for each GPU a learner is likely to have (:data:`ARCHS`): sm_75 (T4,
Colab's free tier), sm_80 (A100), sm_89 (L4) and sm_90 (H100/H200).  A kernel that needs a newer
architecture says so with a marker comment, ``// nvrtc: min-arch sm_80``; it is compiled only for
the architectures from that one on, and its launcher must pick a fallback on older GPUs.

Command line (exit status 1 if any file fails on any architecture)::

    python -m course_lib.cuda.nvrtc [--arch sm_90] [--archs sm_75,sm_80,sm_89,sm_90]
                                    [--markdown out.md] [--json out.json] [files...]

Without files it checks every ``.cu`` file under ``course_lib/`` (all packages) and every kernel
exercise under ``exercises/`` (the reference solution and the stub a learner receives).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

#: Folder of the kernel runtime (its own examples live in ``examples/``).
CUDA_DIR = Path(__file__).resolve().parent
#: The ``course_lib`` package: every ``.cu`` file under it is checked.
COURSE_DIR = CUDA_DIR.parent
#: Root of the repository (labels of the resource table are relative to it).
REPO_DIR = COURSE_DIR.parent
#: Kernel exercises (``exercises/ch*/*.cu``): solutions with regions a stub replaces.
EXERCISES_DIR = REPO_DIR / "exercises"

#: Architectures every kernel must compile for: T4 (Colab free tier), A100, L4, H100/H200.
ARCHS: tuple[str, ...] = ("sm_75", "sm_80", "sm_89", "sm_90")
_MIN_ARCH = re.compile(r"//\s*nvrtc:\s*min-arch\s+sm_(\d+)")

#: Options every compile gets besides the architecture.  None, as in ``cupy.RawModule``
#: (NVRTC 12 defaults to C++17); in particular not ``-default-device``, so a helper
#: function needs its own ``__device__`` here just as it does under CuPy.
BASE_OPTIONS: tuple[str, ...] = ()


class NvrtcError(RuntimeError):
    """NVRTC rejected a program; ``log`` holds the compiler's messages."""

    def __init__(self, name: str, log: str, result: str = "NVRTC_ERROR_COMPILATION"):
        self.name, self.log, self.result = name, log, result
        super().__init__(f"NVRTC failed to compile {name} ({result}):\n{log.strip()}")


class NvrtcUnavailable(ImportError):
    """The NVRTC library or its Python bindings cannot be loaded."""


@dataclass
class CompileResult:
    """Outcome of one successful compile.

    ``binary`` is a CUBIN for a real architecture (``sm_XY``) or PTX text (as bytes)
    for a virtual one (``compute_XY``); ``log`` holds warnings and, for a CUBIN,
    ptxas's resource report; ``kernels`` is that report parsed (one dict per kernel,
    see :func:`course_lib.cuda.resources.parse_ptxas_log`).
    """

    name: str
    arch: str
    options: tuple[str, ...]
    log: str
    binary: bytes
    kernels: list[dict] = field(default_factory=list)
    #: name expression (``"reduce<float, 256>"``) -> the mangled symbol NVRTC gave it
    lowered_names: dict[str, str] = field(default_factory=dict)

    @property
    def is_cubin(self) -> bool:
        return self.arch.startswith("sm_")


def _bindings():
    """Import ``cuda.bindings.nvrtc`` and check that the shared library loads."""
    try:
        from cuda.bindings import nvrtc
    except ImportError as exc:  # the package is missing
        raise NvrtcUnavailable(
            "cuda-bindings is not installed (pip install cuda-bindings nvidia-cuda-nvrtc-cu12)"
        ) from exc
    try:
        err, major, minor = nvrtc.nvrtcVersion()  # first call loads libnvrtc
    except Exception as exc:  # library not found: RuntimeError from the loader
        raise NvrtcUnavailable(f"the NVRTC library cannot be loaded: {exc}") from exc
    if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        raise NvrtcUnavailable(f"nvrtcVersion failed: {err}")
    return nvrtc


def nvrtc_version() -> tuple[int, int]:
    """``(major, minor)`` of the NVRTC library that :func:`compile_cuda` uses."""
    nvrtc = _bindings()
    _, major, minor = nvrtc.nvrtcVersion()
    return int(major), int(minor)


def nvrtc_available() -> tuple[bool, str]:
    """``(True, version)`` when NVRTC loads, else ``(False, reason)`` -- for skips."""
    try:
        major, minor = nvrtc_version()
    except NvrtcUnavailable as exc:
        return False, str(exc)
    return True, f"NVRTC {major}.{minor}"


def cuda_include_dirs() -> list[str]:
    """CUDA header folders (``cuda_fp16.h`` and friends): the pip wheels', else a CUDA toolkit's.

    NVRTC has the core device headers built in; the runtime wheel (or ``$CUDA_PATH/include``,
    ``/usr/local/cuda/include`` on a machine with the toolkit) adds the rest.
    """
    dirs = []
    # cuda_cccl: <cuda/std/...> under <cooperative_groups.h>; cuda_nvcc: crt/mma.h under <mma.h>
    for mod in ("nvidia.cuda_runtime", "nvidia.cuda_nvrtc", "nvidia.cuda_cccl", "nvidia.cuda_nvcc",
                "nvidia.cu13"):
        try:
            pkg = __import__(mod, fromlist=["__path__"])
        except ImportError:
            continue
        for base in getattr(pkg, "__path__", []):
            inc = os.path.join(base, "include")
            if os.path.isdir(inc):
                dirs.append(inc)
    if not any(os.path.exists(os.path.join(d, "cuda_fp16.h")) for d in dirs):
        for root in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
            inc = os.path.join(root, "include") if root else ""
            if inc and os.path.exists(os.path.join(inc, "cuda_fp16.h")):
                dirs.append(inc)
                break
    return dirs


def _is_path(source_or_path) -> bool:
    if isinstance(source_or_path, os.PathLike):
        return True
    s = str(source_or_path)
    return "\n" not in s and s.endswith((".cu", ".cuh")) and "{" not in s


def _check(nvrtc, result, what: str, name: str, prog=None) -> None:
    err = result[0] if isinstance(result, tuple) else result
    if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        log = _log(nvrtc, prog) if prog is not None else ""
        raise NvrtcError(name, log or f"{what} failed", result=str(getattr(err, "name", err)))


def _log(nvrtc, prog) -> str:
    err, size = nvrtc.nvrtcGetProgramLogSize(prog)
    if err != nvrtc.nvrtcResult.NVRTC_SUCCESS or size <= 1:
        return ""
    buf = b" " * size
    nvrtc.nvrtcGetProgramLog(prog, buf)
    return buf.rstrip(b"\x00").decode(errors="replace")


def compile_cuda(source_or_path, arch: str = "sm_90", options: Sequence[str] = (),
                 name: str | None = None, verbose_ptxas: bool = True,
                 name_expressions: Sequence[str] = ()) -> CompileResult:
    """Compile CUDA C source (or a ``.cu`` file) with NVRTC; raise :class:`NvrtcError` on failure.

    ``arch``: ``"sm_90"`` (H100/H200) gives a CUBIN and ptxas's resource report;
    ``"compute_90"`` stops at PTX.  ``options``: extra NVRTC flags, e.g. ``("-DTILE=32",)``.
    A file's own folder is on the include path, as are the CUDA headers of the pip wheels.
    ``name_expressions`` instantiate template kernels (``"reduce<float, 256>"``), as CuPy's
    ``RawModule(name_expressions=...)`` does; ``result.lowered_names`` maps each to its symbol.
    """
    from .resources import parse_ptxas_log

    nvrtc = _bindings()
    if _is_path(source_or_path):
        path = Path(source_or_path)
        source = path.read_text()
        name = name or path.name
        include = [str(path.resolve().parent)]
    else:
        source = str(source_or_path)
        name = name or "source.cu"
        include = []
    if not (arch.startswith("sm_") or arch.startswith("compute_")):
        raise ValueError(f"arch must look like 'sm_90' or 'compute_90', got {arch!r}")
    opts = [*BASE_OPTIONS, f"--gpu-architecture={arch}"]
    if verbose_ptxas and arch.startswith("sm_"):
        opts.append("--ptxas-options=-v")
    opts += [f"--include-path={d}" for d in include + cuda_include_dirs()]
    opts += list(options)

    err, prog = nvrtc.nvrtcCreateProgram(source.encode(), name.encode(), 0, [], [])
    _check(nvrtc, err, "nvrtcCreateProgram", name)
    lowered: dict[str, str] = {}
    try:
        for expr in name_expressions:
            _check(nvrtc, nvrtc.nvrtcAddNameExpression(prog, expr.encode()),
                   f"nvrtcAddNameExpression({expr})", name, prog)
        encoded = [o.encode() for o in opts]
        _check(nvrtc, nvrtc.nvrtcCompileProgram(prog, len(encoded), encoded),
               "nvrtcCompileProgram", name, prog)
        log = _log(nvrtc, prog)
        for expr in name_expressions:
            err, sym = nvrtc.nvrtcGetLoweredName(prog, expr.encode())
            _check(nvrtc, err, f"nvrtcGetLoweredName({expr})", name, prog)
            lowered[expr] = sym.decode() if isinstance(sym, bytes) else str(sym)
        if arch.startswith("sm_"):
            err, size = nvrtc.nvrtcGetCUBINSize(prog)
            _check(nvrtc, err, "nvrtcGetCUBINSize", name, prog)
            binary = b" " * size
            _check(nvrtc, nvrtc.nvrtcGetCUBIN(prog, binary), "nvrtcGetCUBIN", name, prog)
        else:
            err, size = nvrtc.nvrtcGetPTXSize(prog)
            _check(nvrtc, err, "nvrtcGetPTXSize", name, prog)
            binary = b" " * size
            _check(nvrtc, nvrtc.nvrtcGetPTX(prog, binary), "nvrtcGetPTX", name, prog)
    finally:
        nvrtc.nvrtcDestroyProgram(prog)
    return CompileResult(name=name, arch=arch, options=tuple(opts), log=log, binary=binary,
                         kernels=parse_ptxas_log(log), lowered_names=lowered)


def package_cuda_files(root: Path = COURSE_DIR) -> list[Path]:
    """Every ``.cu`` file under ``course_lib/`` (all packages' kernels and runtime examples), sorted."""
    return sorted(p for p in Path(root).rglob("*.cu") if "__pycache__" not in p.parts)


def exercise_cuda_files(root: Path = EXERCISES_DIR) -> list[Path]:
    """The kernel exercises' reference solutions, ``exercises/ch*/*.cu``, sorted."""
    return sorted(Path(root).glob("ch*/*.cu")) if Path(root).is_dir() else []


def label_of(path: str | os.PathLike) -> str:
    """A file's name in tables and test ids: relative to the repository root when inside it."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO_DIR))
    except ValueError:
        return str(path)


def min_arch(source: str) -> int | None:
    """The ``// nvrtc: min-arch sm_XY`` marker of a source as ``XY``, or None (runs on sm_75)."""
    found = [int(m) for m in _MIN_ARCH.findall(source)]
    return max(found) if found else None


def archs_for(source: str, archs: Sequence[str] = ARCHS) -> list[str]:
    """The architectures of ``archs`` a source is meant to compile for (its min-arch marker)."""
    need = min_arch(source) or 0
    return [a for a in archs if int(a.split("_")[1]) >= need]


def check_targets(include_exercises: bool = True) -> list[tuple[str, str | Path]]:
    """What the NVRTC check compiles: ``(label, path or source)`` pairs.

    Every ``.cu`` file under ``course_lib/`` by path; each kernel exercise twice, as its reference
    solution (by path) and as the stub a learner receives (source text, label ``... [stub]``).
    """
    targets: list[tuple[str, str | Path]] = [(label_of(p), p) for p in package_cuda_files()]
    if include_exercises:
        from ..grading.regions import make_stub
        for p in exercise_cuda_files():
            targets.append((label_of(p), p))
            targets.append((label_of(p) + " [stub]", make_stub(p.read_text(), p.name)))
    return targets


def check_all(targets: Sequence[tuple[str, str | Path]], archs: Sequence[str] = ARCHS):
    """Compile every target for each of ``archs`` its min-arch marker allows.

    Returns ``(compiled, failures)``: the number of successful compiles and a list of
    ``(label, arch, NvrtcError)``.
    """
    compiled, failures = 0, []
    for label, target in targets:
        source = Path(target).read_text() if isinstance(target, Path) else str(target)
        for arch in archs_for(source, archs):
            try:
                compile_cuda(target, arch=arch, name=Path(label.split(" ")[0]).name,
                             verbose_ptxas=False)
                compiled += 1
            except NvrtcError as exc:
                failures.append((label, arch, exc))
    return compiled, failures


def main(argv: Sequence[str] | None = None) -> int:
    from .resources import format_resource_table, resource_table, write_json

    ap = argparse.ArgumentParser(prog="python -m course_lib.cuda.nvrtc",
                                 description="Compile .cu files with NVRTC for every target GPU and "
                                             "print ptxas's per-kernel resources (no GPU needed).")
    ap.add_argument("files", nargs="*", help="default: every .cu file under course_lib/ and the "
                                             "kernel exercises (solution and stub)")
    ap.add_argument("--arch", default="sm_90",
                    help="architecture of the resource table, e.g. sm_90 (H100/H200)")
    ap.add_argument("--archs", default=",".join(ARCHS),
                    help=f"comma-separated architectures every file must compile for "
                         f"(default {','.join(ARCHS)})")
    ap.add_argument("--markdown", metavar="PATH", help="also write the table as Markdown here")
    ap.add_argument("--json", metavar="PATH", help="also write the table as JSON here")
    args = ap.parse_args(argv)

    ok, why = nvrtc_available()
    if not ok:
        print(f"error: {why}", file=sys.stderr)
        return 2
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    files = [Path(f) for f in args.files]
    targets = [(label_of(f), f) for f in files] if files else check_targets()
    table_files = files or package_cuda_files()
    rows, failures = resource_table(table_files, arch=args.arch, errors="collect")
    table = format_resource_table(rows, arch=args.arch)
    print(table)
    for path, exc in failures:
        print(f"\nFAILED {path} ({args.arch}):\n{exc}", file=sys.stderr)
    compiled, arch_failures = check_all(targets, [a for a in archs if a != args.arch])
    for label, arch, exc in arch_failures:
        print(f"\nFAILED {label} ({arch}):\n{exc}", file=sys.stderr)
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.json:
        write_json(args.json, rows, arch=args.arch)
    print(f"\n{len(table_files) - len(failures)}/{len(table_files)} files compiled for "
          f"{args.arch} (table); {compiled} more compiles for {', '.join(archs)} "
          f"({len(targets)} sources), {len(arch_failures)} failed; with {why}", file=sys.stderr)
    return 1 if failures or arch_failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Run one kernel launch under AddressSanitizer or ThreadSanitizer, in a subprocess.

A sanitizer runtime must be loaded before anything else in the process, so a ctypes-loaded
sanitized library only works in a fresh Python started with ``LD_PRELOAD=libasan.so`` (or
``libtsan.so``). The parent pickles the launch, the child (``python -m
course_lib.cuda.emulator.sanitize REQUEST RESPONSE``) copies every array into a ``malloc``'ed
buffer of *exactly* its size (so ASan's redzones sit right after the last element), launches,
copies the arrays back and pickles them. The parent copies the results into the caller's arrays
in place and turns a sanitizer report on stderr into :class:`SanitizerError`.

ThreadSanitizer build: every CUDA thread is a TSan fiber, the threads of a block share one OS
thread and only barriers and warp operations create happens-before edges; two accesses to the
same address from threads of one block with no barrier between them (one a write) are reported
as a data race. Blocks that run on different workers are concurrent too. (With the TSan runtime of
clang 14+ / GCC 13+, CUDA threads t and t+K share a TSan fiber, K ~ 100-200: see
``tsan_fibers_per_worker`` in simt_runtime.cpp.)

Works with g++ and clang++ (``CXX``), each with its own runtime. Before the first sanitized launch
a self-test kernel with a planted bug runs once per toolchain (verdict cached on disk); a runtime
that misses it raises :class:`KernelError` instead of passing every kernel as clean.
"""
from __future__ import annotations

import ctypes
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import errors

TIMEOUT_S = 300


def is_clang() -> bool:
    from .build import compiler_version
    return "clang" in compiler_version().lower()


@lru_cache(maxsize=None)
def sanitizer_runtime(mode: str) -> str:
    """Path of the shared ASan / TSan runtime that matches the compiler.

    g++ ships ``libasan.so`` / ``libtsan.so``. clang ships ``libclang_rt.asan-<arch>.so`` (or
    ``<triple>/libclang_rt.asan.so`` in newer layouts); asking clang for ``libtsan.so`` may even
    return *GCC's* runtime, a different generation than the one the code was instrumented for.
    """
    from .build import compiler
    short = {"address": "asan", "thread": "tsan"}[mode]
    if is_clang():
        rt_dir = subprocess.run([compiler(), "-print-runtime-dir"], capture_output=True, text=True).stdout.strip()
        names = [f"libclang_rt.{short}-{os.uname().machine}.so", f"libclang_rt.{short}.so"]
        for name in names:
            for cand in ([os.path.join(rt_dir, name)] if rt_dir else []) + [
                    subprocess.run([compiler(), f"-print-file-name={name}"], capture_output=True,
                                   text=True).stdout.strip()]:
                if cand and os.path.isabs(cand) and os.path.exists(cand):
                    return os.path.realpath(cand)
        raise errors.KernelError(f"sanitizer={mode!r} needs clang's shared {short} runtime "
                                 f"({names[0]}), not found in {rt_dir or 'the runtime dir'} "
                                 f"(on Debian/Ubuntu install libclang-rt-<version>-dev)")
    name = f"lib{short}.so"
    out = subprocess.run([compiler(), f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
    if not out or not os.path.isabs(out) or not os.path.exists(out):
        raise errors.KernelError(f"sanitizer={mode!r} needs {name} (it comes with g++; on Debian/Ubuntu "
                                 f"install {'libasan8' if mode == 'address' else 'libtsan2'})")
    return os.path.realpath(out)


def _env(mode: str) -> dict[str, str]:
    env = dict(os.environ)
    env["LD_PRELOAD"] = sanitizer_runtime(mode)
    env["ASAN_OPTIONS"] = "detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=87:" \
                          "detect_stack_use_after_return=0:allocator_may_return_null=1"
    env["TSAN_OPTIONS"] = "exitcode=0:halt_on_error=0:report_signal_unsafe=0:" \
                          "ignore_noninstrumented_modules=1:history_size=4"
    # Idle BLAS/OpenMP threads of NumPy would each hold one of TSan v3's 255 thread slots.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env.pop("PYTHONMALLOC", None)
    env["PYTHONMALLOC"] = "malloc"
    return env


def _command(mode: str) -> list[str]:
    cmd = [sys.executable, "-m", "course_lib.cuda.emulator.sanitize"]
    if mode == "thread":
        # TSan of GCC 12 needs the classic memory layout: run without address randomisation.
        setarch = subprocess.run(["which", "setarch"], capture_output=True, text=True).stdout.strip()
        if setarch:
            cmd = [setarch, os.uname().machine, "-R"] + cmd
    return cmd


def _frames(block: str) -> list[str]:
    """'func file:line' for the stack frames of one report section."""
    out = []
    for m in re.finditer(r"#\d+\s+(?:0x[0-9a-f]+\s+in\s+)?(\S+)\s+([^\s()]+:\d+)", block):
        func, loc = m.group(1), m.group(2)
        if "simt_runtime" in loc or "<simt-shims>" in loc or func.startswith(("__simt", "_ZN6__simt")):
            continue
        out.append(f"{Path(loc).name} (in {func})")
    return out


def _arg_at(addr: int, arg_map: list[tuple[str, int, int]]) -> str | None:
    for name, start, size in arg_map:
        if start <= addr <= start + size:
            return name
    return None


def summarize_asan(text: str, kernel: str, arg_map, shared_mem: int = -1) -> str | None:
    m = re.search(r"ERROR: AddressSanitizer: ([\w-]+)", text)
    if not m:
        return None
    kind = m.group(1)
    acc = re.search(r"(READ|WRITE) of size (\d+) at (0x[0-9a-f]+)", text)
    frames = _frames(text[m.end():text.find("is located") if "is located" in text else len(text)])
    parts = [f"AddressSanitizer: {kind} in kernel '{kernel}'"]
    if acc:
        parts.append(f"{acc.group(1)} of {acc.group(2)} bytes")
    if frames:
        parts.append(f"at {frames[0]}")
    # Older runtimes (GCC 12) say "N bytes to the right of / to the left of / inside of"; newer
    # ones (GCC 13, clang 16) say "N bytes after / before / inside of". Accept both.
    loc = re.search(r"is located (\d+) bytes (to the right of|to the left of|after|before|inside of) "
                    r"(\d+)-byte region \[(0x[0-9a-f]+),", text)
    glob = re.search(r"is located (\d+) bytes (to the right of|to the left of|after|before|inside of) "
                     r"global variable '([^']+)'[^\n]*? of size (\d+)", text)
    if loc:
        arg = _arg_at(int(loc.group(4), 16), arg_map)
        what = f"the array passed as '{arg}'" if arg else "a heap buffer"
        if arg and arg.startswith("__shared__ "):
            what = f"the static __shared__ array '{arg.split(' ', 1)[1]}'"
        if not arg and int(loc.group(3)) == shared_mem:
            what = "dynamic shared memory (extern __shared__)"
        side = {"after": "to the right of", "before": "to the left of"}.get(loc.group(2), loc.group(2))
        parts.append(f"-- {loc.group(1)} bytes {side} {what} ({loc.group(3)} bytes)")
    elif glob:
        side = {"after": "to the right of", "before": "to the left of"}.get(glob.group(2), glob.group(2))
        parts.append(f"-- {glob.group(1)} bytes {side} the __constant__ / __device__ variable "
                     f"'{glob.group(3)}' ({glob.group(4)} bytes)")
    return " ".join(parts) + "\n\n" + _tail(text)


def summarize_tsan(text: str, kernel: str, arg_map) -> str | None:
    reports = re.split(r"={10,}", text)
    races = [r for r in reports if "WARNING: ThreadSanitizer" in r]
    if not races:
        return None
    r = races[0]
    kind = re.search(r"WARNING: ThreadSanitizer: ([\w -]+?) \(", r)
    accesses = re.findall(r"((?:Previous )?(?:[Aa]tomic )?(?:[Rr]ead|[Ww]rite) of size \d+) at (0x[0-9a-f]+)"
                          r"[^\n]*\n((?:\s+#\d+[^\n]*\n)+)", r)
    parts = [f"ThreadSanitizer: {kind.group(1) if kind else 'report'} in kernel '{kernel}':"]
    descr = []
    for what, _addr, stack in accesses[:2]:
        fr = _frames(stack)
        descr.append(f"{what.lower()} at {fr[0] if fr else '?'}")
    parts.append(" and ".join(descr))
    if "Location is TLS" in r or "thread-local" in r:
        parts.append("-- on __shared__ memory (threads of one block); a __syncthreads() is probably "
                     "missing between these accesses")
    else:
        addr = int(accesses[0][1], 16) if accesses else -1
        arg = _arg_at(addr, arg_map)
        parts.append(f"-- on the array passed as '{arg}'" if arg else
                     "-- on __shared__ memory (not a kernel argument); a __syncthreads() is probably "
                     "missing between these accesses")
    n = len(races)
    parts.append(f"({n} report{'s' if n > 1 else ''})")
    return " ".join(parts) + "\n\n" + _tail(r)


def _tail(text: str, limit: int = 4000) -> str:
    """The report without our bookkeeping lines, ASan's shadow-byte dump and fiber warnings."""
    text = text.split("Shadow bytes around the buggy address")[0]
    text = "\n".join(ln for ln in text.splitlines()
                     if not ln.startswith(("[simt-arg]", "[simt-smem]"))
                     and "makecontext/swapcontext" not in ln).strip()
    return text if len(text) <= limit else text[:limit] + "\n..."


# Self-test: one planted bug per mode, run once per toolchain (verdict cached on disk). A sanitizer
# runtime that does not work with our fibers (TSan v3 before the slot cap in simt_runtime.cpp ran
# without a single report) must never pass for a clean result.
SELF_TEST_FILE = "simt_sanitizer_selftest.cu"
SELF_TEST_SRC = """\
extern "C" __global__ void selftest_race(const float* x, float* y) {
    __shared__ float s[256];
    float acc = 0.0f;
    for (int it = 0; it < 2; ++it) {
        s[threadIdx.x] = x[threadIdx.x] + it;
        __syncthreads();
        acc += s[(threadIdx.x + 1) % blockDim.x];   // the next iteration's write races: no 2nd barrier
    }
    y[threadIdx.x] = acc;
}
extern "C" __global__ void selftest_oob(const float* x, float* y) {
    y[threadIdx.x] = x[threadIdx.x + 1];                  // the last thread reads one past the end of x
}
"""
# (kernel, what the summary must say): the kind of bug, on the right line.
SELF_TEST_EXPECT = {"thread": ("selftest_race", r"data race in kernel 'selftest_race'.*selftest\.cu:[57]\b"),
                    "address": ("selftest_oob", r"heap-buffer-overflow.*selftest\.cu:12\b")}


def _self_test_run(mode: str) -> str | None:
    """None when the runtime reported the planted bug as expected, else what went wrong."""
    from .build import build
    from .signature import find_kernels
    kernel, pattern = SELF_TEST_EXPECT[mode]
    sigs = find_kernels(SELF_TEST_SRC)
    lib, _ = build(SELF_TEST_SRC, SELF_TEST_FILE, list(sigs), mode=mode)
    x = np.arange(256, dtype=np.float32)
    try:
        # 256 threads on 2 workers: more CUDA threads than TSan v3 has slots for fibers.
        run_sanitized(lib, mode, kernel, sigs[kernel], (2, 1, 1), (256, 1, 1), 0, [x, np.zeros_like(x)],
                      schedule="forward", seed=0, workers=2, filename=SELF_TEST_FILE, self_test=False)
    except errors.SanitizerError as exc:
        if re.search(pattern, str(exc), re.S):
            return None
        return f"its report did not name the expected bug and line:\n{str(exc)[:1500]}"
    except errors.KernelError as exc:
        return f"the sanitized run failed:\n{str(exc)[:1500]}"
    return "a kernel with a planted " + ("data race" if mode == "thread" else "out-of-bounds read") + \
        " ran without any report"


@lru_cache(maxsize=None)
def _self_test_verdict(mode: str) -> str | None:
    """_self_test_run's answer, cached per process and on disk per compiler + runtime + emulator."""
    from .build import HEADER, RUNTIME, _hash, cache_dir, compiler_version
    rt = sanitizer_runtime(mode)
    st = os.stat(rt)
    key = _hash("selftest", mode, compiler_version(), rt, str(st.st_size), str(st.st_mtime_ns),
                HEADER.read_bytes(), RUNTIME.read_bytes(), Path(__file__).read_bytes())
    path = cache_dir() / f"selftest-{mode}-{key}.json"
    try:
        return json.loads(path.read_text())["problem"]
    except (OSError, ValueError, KeyError):
        pass
    problem = _self_test_run(mode)
    if problem is None or not problem.startswith("the sanitized run failed"):   # not a transient failure
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"problem": problem}))
        os.replace(tmp, path)
    return problem


def check_runtime(mode: str) -> None:
    """Raise :class:`KernelError` when this compiler's sanitizer runtime misses a planted bug."""
    from .build import compiler, compiler_version
    problem = _self_test_verdict(mode)
    if problem:
        name = "ThreadSanitizer" if mode == "thread" else "AddressSanitizer"
        version = (compiler_version().splitlines() or ["?"])[0]
        raise errors.KernelError(
            f"sanitizer={mode!r}: {name} is not usable with this compiler ({compiler()}: {version}; "
            f"runtime {sanitizer_runtime(mode)}): in a self-test {problem}. A clean result would mean "
            f"nothing, so the launch was not run; use another compiler (CXX=g++ or CXX=clang++-N) or "
            f"sanitizer=None")


def run_sanitized(lib_path: Path, mode: str, kernel: str, sig, grid, block, shared_mem: int, values: list, *,
                  schedule: str, seed: int, workers: int, filename: str, self_test: bool = True,
                  cooperative: bool = False, globals_: dict | None = None) -> None:
    """Launch in a sanitizer subprocess; copy the arrays back in place; raise on a report.

    ``globals_``: name -> NumPy view of each ``__constant__`` / ``__device__`` variable; their bytes
    travel to the child before the launch and come back after it (device code may write them)."""
    if self_test:
        check_runtime(mode)
    request = {"lib": str(lib_path), "mode": mode, "kernel": kernel, "grid": grid, "block": block,
               "shared_mem": shared_mem, "schedule": schedule, "seed": seed,
               "workers": 1 if mode == "address" else workers, "cooperative": bool(cooperative),
               "globals": {g: v.tobytes() for g, v in (globals_ or {}).items()},
               "names": [p.name for p in sig.params], "values": values}
    with tempfile.TemporaryDirectory(prefix="simt-san-") as d:
        req, resp = Path(d) / "request.pkl", Path(d) / "response.pkl"
        req.write_bytes(pickle.dumps(request))
        root = str(Path(__file__).resolve().parents[3])
        env = _env(mode)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        try:
            r = subprocess.run(_command(mode) + [str(req), str(resp)], env=env, capture_output=True,
                               text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise errors.KernelError(f"{kernel}: the {mode} sanitizer run timed out after {TIMEOUT_S} s") from exc
        stderr = r.stderr
        arg_map = [(m.group(1), int(m.group(2), 16), int(m.group(3)))
                   for m in re.finditer(r"\[simt-arg\] (\S+) (0x[0-9a-f]+) (\d+)", stderr)]
        arg_map += [("__shared__ " + m.group(1), int(m.group(2), 16), int(m.group(3)))
                    for m in re.finditer(r"\[simt-smem\] (\S+) (0x[0-9a-f]+) (\d+)", stderr)]
        result = pickle.loads(resp.read_bytes()) if resp.exists() else None
    if result is not None:
        for g, data in result.get("globals", {}).items():
            view = (globals_ or {}).get(g)
            if view is not None and view.flags.writeable:
                view.reshape(-1).view(np.uint8)[...] = np.frombuffer(data, np.uint8)
        k = 0
        for v in values:
            if isinstance(v, np.ndarray):
                if v.flags.writeable:          # a read-only input is one the kernel only reads
                    v[...] = result["arrays"][k]
                k += 1
        if result["out"]:
            sys.stdout.write(result["out"])
    summary = summarize_asan(stderr, kernel, arg_map, shared_mem) if mode == "address" else summarize_tsan(stderr, kernel, arg_map)
    if summary:
        raise errors.SanitizerError(summary)
    if result is None:
        raise errors.KernelError(f"{kernel}: the {mode} sanitizer subprocess failed (exit code "
                                 f"{r.returncode}):\n{_tail(stderr)}")
    from .module import raise_for
    raise_for(result["code"], result["msg"], kernel)


def _child(req_path: str, resp_path: str) -> int:
    from .module import call_launch, launch_config, load_library, pack_args
    req = pickle.loads(Path(req_path).read_bytes())
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    lib = load_library(Path(req["lib"]))
    values = req["values"]
    bufs = []
    for name, v in zip(req["names"], values):
        if isinstance(v, np.ndarray):
            p = libc.malloc(v.nbytes)          # exact size: the redzone starts after the last byte
            ctypes.memmove(p, v.ctypes.data, v.nbytes)
            bufs.append(p)
            sys.stderr.write(f"[simt-arg] {name} 0x{p:x} {v.nbytes}\n")
    sys.stderr.flush()
    from .module import global_view
    gviews = {g: global_view(lib, g, np.dtype(np.uint8)) for g in req.get("globals", {})}
    for g, data in req.get("globals", {}).items():
        ctypes.memmove(gviews[g].ctypes.data, data, len(data))
    ptrs, holders = pack_args(values, pointers=bufs)
    cfg = launch_config(req["grid"], req["block"], req["shared_mem"], req["schedule"], req["seed"],
                        req["workers"], req["mode"], req.get("cooperative", False))
    code, msg, out = call_launch(lib, req["kernel"], ptrs, cfg)
    arrays = []
    k = 0
    for v in values:
        if isinstance(v, np.ndarray):
            ctypes.memmove(v.ctypes.data, bufs[k], v.nbytes)
            libc.free(bufs[k])
            arrays.append(v)
            k += 1
    Path(resp_path).write_bytes(pickle.dumps({"code": code, "msg": msg, "out": out, "arrays": arrays,
                                              "globals": {g: v.tobytes() for g, v in gviews.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], sys.argv[2]))

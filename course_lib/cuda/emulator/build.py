"""Compile a CUDA source for the CPU emulator: g++ with ``-include simt.h``, cached on disk.

The ``.cu`` file is compiled as C++17 after three source rewrites that keep line numbers:
``extern __shared__ T s[];`` becomes a pointer to the worker's dynamic shared memory, a
``#line`` directive makes ``__FILE__`` the kernel's file name, and one extern "C" shim per kernel
(``__simt_thunk_<name>(void** args)``) unpacks the argument array with the kernel's own C++
parameter types. The runtime (``simt_runtime.cpp``) is compiled once per mode and linked in.

Cache: ``$COURSE_LIB_CACHE/emulator`` or ``~/.cache/course_lib/emulator``, keyed by a hash of the
rewritten source, the header, the runtime, the flags and the g++ version.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from .errors import CompileError, KernelError, UnsupportedFeatureError
from .signature import strip_comments

HERE = Path(__file__).resolve().parent
HEADER = HERE / "simt.h"
RUNTIME = HERE / "simt_runtime.cpp"
INCLUDE_DIR = HERE / "include"
MODES = ("plain", "address", "thread")
#: Bumped when what a build records (meta, shims) changes, so cached builds are not reused.
CACHE_VERSION = "4"

# (regex on the comment-free source, what it is) -- features a CPU cannot emulate faithfully.
UNSUPPORTED = [
    (r"\b(asm|__asm__|__asm)\s*(volatile|__volatile__)?\s*\(", "inline PTX assembly (asm)"),
    # nvcuda::wmma runs for 16x16x16 fragments with __half/__nv_bfloat16 inputs (simt_wmma.h)
    (r"\bfragment\s*<\s*(?:[\w:\s]*::\s*)?(?:matrix_a|matrix_b|accumulator)\s*,"
     r"\s*(?!16\s*,\s*16\s*,\s*16\s*,)\d+\s*,\s*\d+\s*,\s*\d+\s*,",
     "tensor-core fragments other than 16x16x16 (wmma m32n8k16, m8n32k16, m16n16k8, m8n8k4, ...)"),
    (r"\bprecision\s*::\s*(tf32|b1|s4|u4)\b|\b__float_to_tf32\b|\bbmma_sync\b",
     "tf32, integer and sub-byte tensor-core fragments (wmma::precision)"),
    (r"\b__hmma|\b__imma|\b__bmma|\b__dmma", "tensor-core builtins (__hmma_* / __imma_*)"),
    (r"cp\.async|\b__pipeline_\w+|\bmemcpy_async\b|\bcuda\s*::\s*pipeline|<cuda/pipeline>|"
     r"<cooperative_groups/memcpy_async\.h>",
     "asynchronous copies (cp.async / memcpy_async / pipelines)"),
    (r"\bCUtensorMap|\bcp_async_bulk|\bcuTensorMapEncode", "Tensor Memory Accelerator (TMA) copies"),
    (r"\bcuda\s*::\s*barrier\b|<cuda/barrier>|\bmbarrier\b", "asynchronous barriers (cuda::barrier / mbarrier)"),
    (r"__cluster_dims__|\bcluster\.sync\b|\bthis_cluster\b", "thread block clusters"),
    (r"<<<", "kernel launches from device code (dynamic parallelism)"),
    (r"\btex[123]D\w*\s*\(|\btex1Dfetch\b|\bcudaTextureObject_t\b|\bsurf[123]D\w*\s*\(|\btexture\s*<",
     "texture and surface memory"),
    (r"\b__nv_fp8\w*|\bcuda_fp8\.h", "FP8 types"),
]

_EXTERN_SMEM = re.compile(r"\bextern\s+([^;{}]*?\b__shared__\b[^;{}]*?)\b([A-Za-z_]\w*)\s*\[\s*\]\s*;")
_ALIGN = re.compile(r"__align__\s*\(\s*\d+\s*\)|alignas\s*\(\s*\d+\s*\)|\b__shared__\b")


def check_supported(code: str, filename: str) -> None:
    """Raise :class:`UnsupportedFeatureError` ("needs a real GPU: ...") for what the emulator lacks."""
    clean = strip_comments(code)
    for pattern, what in UNSUPPORTED:
        m = re.search(pattern, clean)
        if m:
            line = clean.count("\n", 0, m.start()) + 1
            raise UnsupportedFeatureError(
                f"needs a real GPU: {what} at {filename}:{line} cannot run on the CPU emulator; "
                "run this kernel with backend='cupy' on a CUDA GPU")


def rewrite_source(code: str) -> str:
    """Turn each ``extern __shared__ T name[];`` into a pointer to dynamic shared memory (same line)."""
    clean = strip_comments(code)
    out, last = [], 0
    for m in _EXTERN_SMEM.finditer(clean):
        ctype = " ".join(_ALIGN.sub(" ", m.group(1)).split())
        name = m.group(2)
        depth = clean.count("{", 0, m.start()) - clean.count("}", 0, m.start())
        storage = "" if depth > 0 else "static thread_local "
        repl = f"{storage}{ctype}* {name} = ({ctype}*)::__simt::dynamic_smem();"
        out.append(code[last:m.start()])
        out.append(repl + "\n" * clean.count("\n", m.start(), m.end()))
        last = m.end()
    out.append(code[last:])
    return "".join(out)


def thunk_symbol(kernel: str) -> str:
    """The shim's C symbol for a kernel name or a template name expression (``reduce<float, 256>``)."""
    if re.fullmatch(r"[A-Za-z_]\w*", kernel):
        return f"__simt_thunk_{kernel}"
    return "__simt_thunk_t" + hashlib.sha256(kernel.encode()).hexdigest()[:16]


def global_symbol(name: str) -> str:
    """The shim's C symbol that locates a ``__constant__`` / ``__device__`` variable."""
    return "__simt_global_" + name if re.fullmatch(r"[A-Za-z_]\w*", name) else \
        "__simt_global_g" + hashlib.sha256(name.encode()).hexdigest()[:16]


_STATIC_SMEM = re.compile(
    r"\b__shared__\s+((?:[^;{}()=\[\]]|__align__\s*\(\s*\d+\s*\)|alignas\s*\(\s*\d+\s*\))*?)"
    r"\b([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*);")
_ALIGN_N = re.compile(r"(?:__align__|alignas)\s*\(\s*(\d+)\s*\)")


def rewrite_static_shared(code: str) -> str:
    """AddressSanitizer build: each static ``__shared__ T name[dims];`` becomes a per-worker
    reference to an exact-size ``malloc``'ed block (same line), so ASan's redzone sits right
    after its last element; ``static thread_local`` storage has no redzones."""
    clean = strip_comments(code)
    out, last = [], 0
    for m in _STATIC_SMEM.finditer(clean):
        if clean[max(0, m.start() - 20):m.start()].rstrip().endswith("extern"):
            continue
        ctype = " ".join(_ALIGN_N.sub(" ", m.group(1)).split())
        name, dims = m.group(2), " ".join(m.group(3).split())
        if not ctype or ctype.endswith(("*", "&")):
            continue
        align = max([int(a) for a in _ALIGN_N.findall(m.group(1))] or [0])
        t = f"__simt_smem_{name}_t"
        al = f"{align} > alignof({t}) ? {align} : alignof({t})" if align else f"alignof({t})"
        repl = (f"typedef {ctype} {t}{dims}; static thread_local {t}& {name} = "
                f"*({t}*)::__simt::shared_alloc(sizeof({t}), {al}, \"{name}\");")
        out.append(code[last:m.start()])
        out.append(repl + "\n" * clean.count("\n", m.start(), m.end()))
        last = m.end()
    out.append(code[last:])
    return "".join(out)


def translation_unit(code: str, filename: str, kernel_names: list[str],
                     global_names: tuple[str, ...] = (), mode: str = "plain") -> str:
    """The C++ file g++ compiles: rewritten source under its own file name, then the shims
    (``&reduce<float, 256>`` instantiates a template kernel, as NVRTC's name expressions do).
    A global variable's shim stores its address and ``[extent0..3, sizeof]`` and returns its rank."""
    shims = "\n".join(f'extern "C" void {thunk_symbol(k)}(void** a) {{ ::__simt::call(&{k}, a); }}'
                      for k in kernel_names)
    for g in global_names:
        shims += (f'\nextern "C" long long {global_symbol(g)}(void** p, long long* e) {{ '
                  f'using T = std::remove_reference_t<decltype({g})>; *p = (void*)&{g}; '
                  + " ".join(f"e[{i}] = std::extent<T, {i}>::value;" for i in range(4))
                  + " e[4] = sizeof(T); return std::rank<T>::value; }")
    safe = filename.replace("\\", "/").replace('"', "")
    body = rewrite_source(code)
    head = ""
    if mode == "address":
        body = rewrite_static_shared(body)
        head = "namespace __simt { void* shared_alloc(unsigned long, unsigned long, const char*); }\n"
    return f'{head}#line 1 "{safe}"\n{body}\n#line 1 "<simt-shims>"\n{shims}\n'


def cache_dir() -> Path:
    base = os.environ.get("COURSE_LIB_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "course_lib"
    d = root / "emulator"
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe = d / f".probe{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        d = Path(tempfile.gettempdir()) / f"course_lib_emulator_{os.getuid()}"
        d.mkdir(parents=True, exist_ok=True)
    return d


@lru_cache(maxsize=None)
def compiler() -> str:
    cxx = os.environ.get("CXX") or shutil.which("g++")
    if not cxx:
        raise KernelError("the CPU emulator compiles kernels with g++, which was not found "
                          "(install it: apt-get install g++)")
    return cxx


@lru_cache(maxsize=None)
def compiler_version() -> str:
    return subprocess.run([compiler(), "--version"], capture_output=True, text=True).stdout


def mode_flags(mode: str, opt_level: int) -> tuple[list[str], list[str]]:
    """(kernel compile flags, runtime compile flags) for a build mode."""
    common = ["-std=c++17", "-fPIC", "-fno-strict-aliasing", "-pthread"]
    if mode == "plain":
        return common + [f"-O{opt_level}"], common + ["-O2"]
    if mode == "address":
        return (common + ["-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer"],
                common + ["-O2", "-DSIMT_ASAN"])
    if mode == "thread":
        return common + ["-O1", "-g", "-fsanitize=thread"], common + ["-O2", "-DSIMT_TSAN"]
    raise ValueError(f"unknown build mode {mode!r}")


def _hash(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:24]


def _run(cmd: list[str], what: str, filename: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        log = r.stderr.strip()
        raise CompileError(f"{Path(cmd[0]).name} could not compile {filename} for the CPU emulator ({what}):\n{log}")


def _atomic_write_from(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)


def runtime_object(mode: str) -> Path:
    """The compiled runtime for one mode (cached)."""
    _, rflags = mode_flags(mode, 2)
    key = _hash("runtime", HEADER.read_bytes(), RUNTIME.read_bytes(), " ".join(rflags), compiler_version())
    out = cache_dir() / f"simt_runtime-{mode}-{key}.o"
    if not out.exists():
        tmp = out.with_suffix(f".tmp{os.getpid()}.o")
        _run([compiler(), *rflags, f"-I{HERE}", "-c", str(RUNTIME), "-o", str(tmp)], "runtime", "simt_runtime.cpp")
        _atomic_write_from(tmp, out)
    return out


def _user_flags(options: tuple[str, ...], src_dir: Path | None) -> list[str]:
    """Keep the -D/-I/-U options (NVRTC options such as -arch or --use_fast_math do not apply)."""
    flags = []
    it = iter(options)
    for o in it:
        if o in ("-D", "-I", "-U", "--define-macro", "--include-path"):
            v = next(it, "")
            flags.append({"--define-macro": "-D", "--include-path": "-I"}.get(o, o) + v)
        elif o.startswith(("-D", "-I", "-U")):
            flags.append(o)
        elif o.startswith(("--define-macro=", "--include-path=")):
            k, v = o.split("=", 1)
            flags.append(("-D" if "define" in k else "-I") + v)
    if src_dir is not None:
        flags.append(f"-I{src_dir}")
    return flags


def static_shared_sizes(lib: Path, kernel_names: list[str]) -> dict[str, int]:
    """Bytes of static ``__shared__`` memory per kernel, read from the TLS symbols of the library.

    Function-local ``static thread_local`` arrays are mangled ``_ZZ<len><function>E...``; those in
    a kernel count for it, those at file scope or in device functions count for every kernel.
    """
    sizes = dict.fromkeys(kernel_names, 0)
    try:
        out = subprocess.run(["readelf", "-sW", str(lib)], capture_output=True, text=True).stdout
    except OSError:
        return sizes
    # template instances: demangled, "void reduce<float, 256>(float const*, float*, int)::s"
    instances = {re.sub(r"\s+", "", k): k for k in kernel_names if "<" in k}
    bases = {re.sub(r"<.*", "", k).split("::")[-1].strip() for k in instances.values()}
    if instances:
        try:
            dem = subprocess.run(["readelf", "-sW", "--demangle", str(lib)], capture_output=True,
                                 text=True).stdout
        except OSError:
            dem = ""
        seen = set()                       # instances' statics are listed in .dynsym and .symtab
        for line in dem.splitlines():
            cols = line.split()
            if len(cols) < 8 or cols[3] != "TLS" or cols[6] == "UND" or " ".join(cols[7:]) in seen:
                continue
            name = " ".join(cols[7:])
            seen.add(name)
            func = name.rsplit(")::", 1)[0] if ")::" in name else ""
            func = re.sub(r"^void\s+", "", func.split("(", 1)[0]) if func else ""
            key = re.sub(r"\s+", "", func)
            if key in instances:
                sizes[instances[key]] += int(cols[2], 0) if cols[2].startswith("0x") else int(cols[2])
    shared_all = 0
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 8 or cols[3] != "TLS" or cols[6] == "UND":
            continue
        size = int(cols[2], 0) if cols[2].startswith("0x") else int(cols[2])
        name = cols[7]
        if name in ("threadIdx", "blockIdx", "blockDim", "gridDim") or "__simt" in name \
                or "anon" in name or name.startswith(("_ZN12_GLOBAL__N_1", "__tls")) or "tl_w" in name:
            continue
        m = re.match(r"_ZZ(\d+)", name)
        if m:
            n = int(m.group(1))
            func = name[m.end():m.end() + n]
            if func in sizes:
                sizes[func] += size
                continue
            if func in bases and name[m.end() + n:m.end() + n + 1] == "I":
                continue                   # a template instance's: counted above
        shared_all += size
    return {k: v + shared_all for k, v in sizes.items()}


def build(code: str, filename: str, kernel_names: list[str], *, global_names: tuple[str, ...] = (),
          mode: str = "plain",
          options: tuple[str, ...] = (), src_dir: Path | None = None, opt_level: int = 2) -> tuple[Path, dict]:
    """Compile (or fetch from the cache) the library; returns (path, meta) with meta["static_shared"]."""
    check_supported(code, filename)
    tu = translation_unit(code, filename, kernel_names, tuple(global_names), mode)
    kflags, _ = mode_flags(mode, opt_level)
    uflags = _user_flags(tuple(options), src_dir)
    rt = runtime_object(mode)
    key = _hash(tu, HEADER.read_bytes(), *(h.read_bytes() for h in sorted(HERE.glob("simt_*.h"))),
                RUNTIME.read_bytes(), " ".join(kflags + uflags), mode,
                compiler_version(), str(INCLUDE_DIR), CACHE_VERSION,
                *(h.read_bytes() for h in sorted(INCLUDE_DIR.rglob("*")) if h.is_file()))
    d = cache_dir()
    lib = d / f"{Path(filename).stem}-{mode}-{key}.so"
    meta_path = lib.with_suffix(".json")
    if lib.exists() and meta_path.exists():
        return lib, json.loads(meta_path.read_text())
    with tempfile.TemporaryDirectory(prefix="simt-") as tmpd:
        src = Path(tmpd) / (Path(filename).stem + ".simt.cpp")
        src.write_text(tu)
        tmp_lib = lib.with_suffix(f".tmp{os.getpid()}.so")
        cmd = [compiler(), *kflags, "-include", str(HEADER), f"-I{INCLUDE_DIR}", *uflags,
               "-shared", "-o", str(tmp_lib), "-x", "c++", str(src), "-x", "none", str(rt)]
        try:
            _run(cmd, mode, filename)
        except CompileError as exc:
            msg = str(exc).replace(str(src), filename)
            raise CompileError(msg) from None
    meta = {"static_shared": static_shared_sizes(tmp_lib, kernel_names), "mode": mode}
    tmp_meta = meta_path.with_suffix(f".tmp{os.getpid()}")
    tmp_meta.write_text(json.dumps(meta))
    _atomic_write_from(tmp_lib, lib)
    _atomic_write_from(tmp_meta, meta_path)
    return lib, meta

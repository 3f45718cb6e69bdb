"""Per-kernel resource usage from ptxas's verbose report, as a table.

``compile_cuda(path, arch="sm_90")`` runs ptxas with ``-v``; for every entry function
(``__global__`` kernel) ptxas prints lines such as::

    ptxas info    : Compiling entry function 'conv2d_naive' for 'sm_90'
    ptxas info    : Function properties for conv2d_naive
    ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
    ptxas info    : Used 38 registers, used 1 barriers, 1024 bytes smem, 368 bytes cmem[0]

Why a reader cares: registers per thread times threads per block must fit the SM's
register file (64 K 32-bit registers on sm_90), which caps how many warps can be resident;
spills mean the compiler ran out of registers and moved values to (slow) local memory;
``smem`` is *static* shared memory only -- ``extern __shared__`` buffers are sized at launch
and appear as 0 here.  Older ptxas versions also print ``cmem[bank]`` (constant memory:
kernel parameters in bank 0); CUDA 12.9's ptxas omits it for sm_90, and the table then leaves
the column out.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable, Sequence

_ENTRY = re.compile(r"Compiling entry function '([^']+)' for '([^']+)'")
_PROPS = re.compile(r"Function properties for (\S+)")
_STACK = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers")
_BARRIERS = re.compile(r"used (\d+) barriers")
_SMEM = re.compile(r"(\d+) bytes smem")
_CMEM = re.compile(r"(\d+) bytes cmem\[(\d+)\]")

#: Columns of the table, in order, with their Markdown headers.
COLUMNS = (
    ("file", "file"),
    ("kernel", "kernel"),
    ("registers", "registers/thread"),
    ("smem_static_bytes", "static smem (B)"),
    ("stack_bytes", "stack (B)"),
    ("spill_store_bytes", "spill stores (B)"),
    ("spill_load_bytes", "spill loads (B)"),
    ("barriers", "barriers"),
    ("cmem_bytes", "cmem (B)"),
)


def parse_ptxas_log(log: str) -> list[dict]:
    """One dict per kernel compiled in ``log`` (ptxas ``-v`` output), in log order.

    Keys: ``kernel``, ``arch``, ``registers``, ``smem_static_bytes``, ``stack_bytes``,
    ``spill_store_bytes``, ``spill_load_bytes``, ``barriers``, ``cmem_bytes`` (sum over banks,
    ``None`` when ptxas does not report it).  Lines about non-kernel device functions
    (``Function properties for`` a name that is not an entry) are ignored.
    """
    kernels: dict[str, dict] = {}
    current = None      # entry whose "Used ..." line comes next
    props_of = None     # function the next "stack frame" line belongs to
    for line in log.splitlines():
        if m := _ENTRY.search(line):
            current = m.group(1)
            kernels[current] = dict(kernel=current, arch=m.group(2), registers=None,
                                    smem_static_bytes=0, stack_bytes=0, spill_store_bytes=0,
                                    spill_load_bytes=0, barriers=0, cmem_bytes=None)
        elif m := _PROPS.search(line):
            props_of = m.group(1)
        elif m := _STACK.search(line):
            if props_of in kernels:
                k = kernels[props_of]
                k["stack_bytes"], k["spill_store_bytes"], k["spill_load_bytes"] = map(int, m.groups())
            props_of = None
        elif (m := _USED.search(line)) and current in kernels:
            k = kernels[current]
            k["registers"] = int(m.group(1))
            if b := _BARRIERS.search(line):
                k["barriers"] = int(b.group(1))
            if s := _SMEM.search(line):
                k["smem_static_bytes"] = int(s.group(1))
            banks = _CMEM.findall(line)
            if banks:
                k["cmem_bytes"] = sum(int(nbytes) for nbytes, _ in banks)
            current = None
    return list(kernels.values())


def resource_table(paths: Iterable[str | Path] | None = None, arch: str = "sm_90",
                   options: Sequence[str] = (), errors: str = "raise"):
    """Compile each file for ``arch`` and return one row (dict) per kernel.

    ``paths`` defaults to every ``.cu`` file under ``course_lib/``.  Each row is a
    :func:`parse_ptxas_log` dict plus ``file`` (path relative to the repository root when
    inside it).  A file whose ``// nvrtc: min-arch`` marker is newer than ``arch`` is left out.  ``errors="raise"`` propagates the first :class:`NvrtcError`;
    ``errors="collect"`` returns ``(rows, [(path, error), ...])`` instead.
    """
    from .nvrtc import NvrtcError, archs_for, compile_cuda, label_of, package_cuda_files

    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")
    if not arch.startswith("sm_"):
        raise ValueError(f"the resource report needs a real architecture (sm_XY), got {arch!r}")
    rows, failures = [], []
    for path in (package_cuda_files() if paths is None else [Path(p) for p in paths]):
        if not archs_for(path.read_text(), [arch]):
            continue
        try:
            result = compile_cuda(path, arch=arch, options=options)
        except NvrtcError as exc:
            if errors == "raise":
                raise
            failures.append((str(path), exc))
            continue
        rows += [{"file": label_of(path), **k} for k in result.kernels]
    return (rows, failures) if errors == "collect" else rows


def format_resource_table(rows: Sequence[dict], arch: str = "sm_90", title: str | None = None) -> str:
    """Markdown table of :func:`resource_table` rows, headed by the architecture and NVRTC version."""
    from .nvrtc import nvrtc_version

    try:
        major, minor = nvrtc_version()
        compiler = f"NVRTC {major}.{minor} (ptxas -v)"
    except ImportError:
        compiler = "NVRTC (ptxas -v)"
    head = title or f"Kernel resources for {arch}"
    # this ptxas (CUDA 12.9, sm_90) no longer prints cmem: drop the column rather than leave it blank
    columns = [(k, h) for k, h in COLUMNS
               if k != "cmem_bytes" or any(r.get("cmem_bytes") is not None for r in rows)]
    lines = [f"# {head}", "",
             f"Architecture **{arch}**{' (H100/H200, Hopper)' if arch == 'sm_90' else ''}; "
             f"compiled by {compiler} with `python -m course_lib.cuda.nvrtc --arch {arch}`. "
             "Static shared memory only: `extern __shared__` buffers are sized at launch.", "",
             "| " + " | ".join(h for _, h in columns) + " |",
             "|" + "|".join("---" if key in ("file", "kernel") else "---:" for key, _ in columns) + "|"]
    for r in rows:
        cells = [("" if r.get(key) is None else f"`{r[key]}`" if key in ("file", "kernel")
                  else str(r[key])) for key, _ in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_json(path: str | Path, rows: Sequence[dict], arch: str = "sm_90") -> None:
    """Write the rows with the architecture and compiler version as JSON."""
    from .nvrtc import nvrtc_version

    try:
        version = "%d.%d" % nvrtc_version()
    except ImportError:
        version = None
    Path(path).write_text(json.dumps({"arch": arch, "nvrtc_version": version,
                                      "kernels": list(rows)}, indent=2) + "\n")

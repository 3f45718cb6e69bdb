"""Find the ``__global__`` kernels of a CUDA source and parse their parameter lists.

The parsed C types drive argument checking on both backends: an array's dtype must match the
pointee type, a scalar must have the parameter's exact width (CuPy would send a Python ``int`` as an
8-byte ``long long``, which an ``int`` parameter silently misreads).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import CompileError

# C base type (after dropping const/volatile/__restrict__) -> NumPy dtype (None: any dtype).
C_TYPES: dict[str, np.dtype | None] = {}
for _names, _dt in [
    (("float", "float1"), np.float32), (("double", "double1"), np.float64),
    (("int", "signed", "signed int", "int32_t", "int1"), np.int32),
    (("unsigned", "unsigned int", "uint32_t", "uint", "uint1"), np.uint32),
    (("long long", "long long int", "signed long long", "int64_t", "long", "long int",
      "ptrdiff_t", "longlong1"), np.int64),
    (("unsigned long long", "unsigned long long int", "uint64_t", "unsigned long", "size_t",
      "ulonglong1"), np.uint64),
    (("short", "short int", "int16_t"), np.int16),
    (("unsigned short", "unsigned short int", "uint16_t", "ushort"), np.uint16),
    (("char", "signed char", "int8_t"), np.int8), (("unsigned char", "uint8_t", "uchar"), np.uint8),
    (("bool",), np.bool_), (("__half", "half"), np.float16),
]:
    for _n in _names:
        C_TYPES[_n] = np.dtype(_dt)
# Vector types: pointer arguments are arrays of the element dtype (e.g. float4* <- float32 array).
for _base, _dt in [("float", np.float32), ("double", np.float64), ("int", np.int32),
                   ("uint", np.uint32), ("short", np.int16), ("ushort", np.uint16),
                   ("char", np.int8), ("uchar", np.uint8), ("longlong", np.int64),
                   ("ulonglong", np.uint64)]:
    for _k in (2, 3, 4):
        C_TYPES[f"{_base}{_k}"] = np.dtype(_dt)
C_TYPES["__half2"] = C_TYPES["half2"] = np.dtype(np.float16)
C_TYPES["void"] = None
C_TYPES["__nv_bfloat16"] = np.dtype(np.uint16)      # NumPy has no bfloat16: pass raw uint16 bits

_QUALIFIERS = {"const", "volatile", "__restrict__", "__restrict", "restrict", "struct",
               "__grid_constant__"}


@dataclass(frozen=True)
class Param:
    """One kernel parameter: ``name``, C base type (``"float"``), ``pointer`` depth, ``const``."""
    name: str
    ctype: str
    pointer: int
    const: bool
    text: str

    @property
    def dtype(self) -> np.dtype | None:
        """NumPy dtype that matches the base type (None: unknown / void / struct)."""
        return C_TYPES.get(self.ctype)


@dataclass(frozen=True)
class KernelSignature:
    name: str
    params: tuple[Param, ...]
    line: int

    def __str__(self) -> str:
        return f"{self.name}({', '.join(p.text for p in self.params)})"


def strip_comments(src: str) -> str:
    """Blank out // and /* */ comments and the insides of string/char literals with spaces.

    The result has the same length and line breaks as ``src``, so offsets and line numbers found in
    it are valid in the original text.
    """
    out, i, n = [], 0, len(src)

    def blank(a: int, b: int) -> str:
        return "".join(ch if ch == "\n" else " " for ch in src[a:b])

    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(i, j))
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(blank(i, j))
            i = j
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            j = min(j, n - 1)
            out.append(c + blank(i + 1, j) + src[j])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


_KERNEL_RE = re.compile(r"\b__global__\b")


def _parse_param(text: str, index: int) -> Param:
    t = " ".join(text.split())
    arr = t.endswith("]")
    if arr:                                 # float x[] -> float* x
        t = t[: t.index("[")].strip()
    t = t.replace("*", " * ").replace("&", " & ")
    toks = t.split()
    const = "const" in toks
    ptr = toks.count("*") + (1 if arr else 0)
    if "&" in toks:
        raise CompileError(f"kernel parameter '{text.strip()}': references are not allowed in "
                           "__global__ functions")
    words = [w for w in toks if w not in _QUALIFIERS and w != "*"]
    name = f"arg{index}"
    if len(words) >= 2 and " ".join(words) not in C_TYPES:
        name = words[-1]
        words = words[:-1]
    base = " ".join(words)
    if base.startswith("__align__"):
        base = base.split(")", 1)[-1].strip()
    return Param(name=name, ctype=base, pointer=ptr, const=const, text=" ".join(text.split()))


def find_kernels(src: str) -> dict[str, KernelSignature]:
    """Map kernel name -> signature for every non-template ``__global__`` function in ``src``."""
    clean = strip_comments(src)
    found: dict[str, KernelSignature] = {}
    for m in _KERNEL_RE.finditer(clean):
        head_end = clean.find("(", m.end())
        # skip __launch_bounds__(...) between __global__ and the name
        head = clean[m.end():head_end]
        pos = m.end()
        while "__launch_bounds__" in head:
            k = clean.index("__launch_bounds__", pos)
            depth, j = 0, clean.index("(", k)
            while True:
                depth += {"(": 1, ")": -1}.get(clean[j], 0)
                j += 1
                if depth == 0:
                    break
            pos = j
            head_end = clean.find("(", pos)
            head = clean[pos:head_end]
        name_m = re.search(r"(\w+)\s*$", head)
        if not name_m:
            continue
        name = name_m.group(1)
        before = clean[max(0, m.start() - 200):m.start()]
        if re.search(r"template\s*<[^;{}]*>\s*(extern\s+\"C\"\s*)?$", before):
            continue                       # templates need name expressions: not supported
        depth, j = 0, head_end
        while True:
            if j >= len(clean):
                raise CompileError(f"unbalanced parentheses in the parameter list of {name}")
            depth += {"(": 1, ")": -1}.get(clean[j], 0)
            if depth == 0:
                break
            j += 1
        plist = clean[head_end + 1:j]
        parts, depth, cur = [], 0, []
        for ch in plist:
            if ch in "(<[":
                depth += 1
            elif ch in ")>]":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append("".join(cur))
                cur = []
            else:
                cur.append(ch)
        if "".join(cur).strip():
            parts.append("".join(cur))
        if len(parts) == 1 and parts[0].strip() == "void":
            parts = []
        after = clean[j + 1:].lstrip()
        if after.startswith(";"):           # a declaration; the definition comes later
            continue
        params = tuple(_parse_param(p, i) for i, p in enumerate(parts))
        line = clean.count("\n", 0, m.start()) + 1
        if name in found and found[name].params != params:
            raise CompileError(f"kernel '{name}' is overloaded; give each __global__ function "
                               "its own name (extern \"C\" kernels cannot be overloaded)")
        found[name] = KernelSignature(name, params, line)
    return found

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


@dataclass(frozen=True)
class TemplateParam:
    """One template parameter: ``kind`` ("typename" or the C type of a value), ``name``, default."""
    kind: str
    name: str
    default: str | None


@dataclass(frozen=True)
class TemplateKernel:
    """A ``template <...> __global__`` function: launched through a name expression."""
    name: str
    tparams: tuple[TemplateParam, ...]
    param_texts: tuple[str, ...]
    line: int
    header: str

    def instantiate(self, expression: str) -> KernelSignature:
        """The signature of ``expression`` (e.g. ``"reduce<float, 256>"``), types substituted."""
        args = template_args(expression)
        if len(args) > len(self.tparams) or any(
                p.default is None for p in self.tparams[len(args):]):
            raise CompileError(f"name expression '{expression}': {self.header} {self.name} takes "
                               f"{len(self.tparams)} template argument(s), {len(args)} given")
        values = {p.name: (args[i] if i < len(args) else p.default)
                  for i, p in enumerate(self.tparams)}
        params = []
        for i, text in enumerate(self.param_texts):
            for tname, value in values.items():
                text = re.sub(rf"\b{re.escape(tname)}\b", f" {value} ", text)
            params.append(_parse_param(text, i))
        return KernelSignature(expression, tuple(params), self.line)


def template_args(expression: str) -> list[str]:
    """``"reduce<float, 256>"`` -> ``["float", "256"]`` (top-level commas only)."""
    if "<" not in expression or not expression.rstrip().endswith(">"):
        return []
    inner = expression[expression.index("<") + 1:expression.rstrip().rindex(">")]
    return [a.strip() for a in _split_top(inner) if a.strip()]


def expression_base(expression: str) -> str:
    """The function name of a name expression: ``"ns::reduce<float, 256>"`` -> ``"reduce"``."""
    return expression.split("<", 1)[0].strip().split("::")[-1].strip()


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _parse_tparams(text: str) -> tuple[TemplateParam, ...]:
    out = []
    for part in _split_top(text):
        part = " ".join(part.split())
        if not part:
            continue
        default = None
        if "=" in part:
            part, default = (x.strip() for x in part.split("=", 1))
        words = part.replace("*", " * ").split()
        kind = "typename" if words[0] in ("typename", "class") else " ".join(words[:-1])
        out.append(TemplateParam(kind, words[-1], default))
    return tuple(out)


@dataclass(frozen=True)
class GlobalVar:
    """A file-scope ``__constant__`` or ``__device__`` variable: what ``get_global`` returns."""
    name: str
    space: str                 # "__constant__" or "__device__"
    ctype: str
    const: bool
    dims: tuple[str, ...]      # as written: "16", "K", ...
    line: int

    @property
    def dtype(self) -> np.dtype:
        """NumPy dtype of one element (uint8 bytes for a struct or unknown type)."""
        return C_TYPES.get(self.ctype) or np.dtype(np.uint8)


_GLOBAL_VAR = re.compile(
    r"\b(__constant__|__device__)\b([^;{}()=]*?)\b([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)(?:=[^;]*)?;")
_VAR_WORDS = {"__constant__", "__device__", "static", "const", "volatile", "extern", "__managed__",
              "__restrict__", "constexpr"}


def find_globals(src: str) -> dict[str, GlobalVar]:
    """Map name -> :class:`GlobalVar` for the file-scope ``__constant__`` / ``__device__`` variables."""
    clean = strip_comments(src)
    found: dict[str, GlobalVar] = {}
    for m in _GLOBAL_VAR.finditer(clean):
        if clean.count("{", 0, m.start()) != clean.count("}", 0, m.start()):
            continue                                   # inside a function or a namespace
        start = max(clean.rfind(c, 0, m.start()) for c in ";}\n") + 1
        pre = clean[start:m.start()]                   # "static " etc. on the same line
        words = (pre + " " + m.group(2)).replace("*", " * ").split()
        words = [w for w in words if not re.match(r"__align__|alignas", w)]
        if "extern" in words or "(" in pre or "__shared__" in words:
            continue
        ctype = " ".join(w for w in words if w not in _VAR_WORDS and not w.startswith("__align"))
        if not ctype or "*" in ctype:
            continue                                   # a pointer variable: not an array view
        dims = tuple(d.strip() for d in re.findall(r"\[([^\]]*)\]", m.group(4)))
        found[m.group(3)] = GlobalVar(m.group(3), m.group(1), ctype, "const" in words, dims,
                                      clean.count("\n", 0, m.start()) + 1)
    return found


def find_templates(src: str) -> dict[str, TemplateKernel]:
    """Map name -> :class:`TemplateKernel` for every ``template <...> __global__`` function."""
    return _scan(src, templates=True)  # type: ignore[return-value]


def find_kernels(src: str) -> dict[str, KernelSignature]:
    """Map kernel name -> signature for every non-template ``__global__`` function in ``src``."""
    return _scan(src, templates=False)  # type: ignore[return-value]


def _scan(src: str, templates: bool):
    clean = strip_comments(src)
    found: dict = {}
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
        before = clean[max(0, m.start() - 400):m.start()]
        tmpl = re.search(r"template\s*<([^;{}]*)>\s*(static\s+)?(extern\s+\"C\"\s*)?$", before)
        if bool(tmpl) != templates:
            continue                       # templates are instantiated through name expressions
        depth, j = 0, head_end
        while True:
            if j >= len(clean):
                raise CompileError(f"unbalanced parentheses in the parameter list of {name}")
            depth += {"(": 1, ")": -1}.get(clean[j], 0)
            if depth == 0:
                break
            j += 1
        plist = clean[head_end + 1:j]
        parts = _split_top(plist)
        if not parts[-1].strip():       # "()" or a trailing comma: no last parameter
            parts.pop()
        if len(parts) == 1 and parts[0].strip() == "void":
            parts = []
        after = clean[j + 1:].lstrip()
        if after.startswith(";"):           # a declaration; the definition comes later
            continue
        line = clean.count("\n", 0, m.start()) + 1
        if templates:
            found[name] = TemplateKernel(name, _parse_tparams(tmpl.group(1)),
                                         tuple(" ".join(p.split()) for p in parts), line,
                                         "template <" + " ".join(tmpl.group(1).split()) + ">")
            continue
        params = tuple(_parse_param(p, i) for i, p in enumerate(parts))
        if name in found and found[name].params != params:
            raise CompileError(f"kernel '{name}' is overloaded; give each __global__ function "
                               "its own name (extern \"C\" kernels cannot be overloaded)")
        found[name] = KernelSignature(name, params, line)
    return found

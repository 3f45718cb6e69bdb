"""What a learner's CUDA kernel file may not contain.

The kernel is compiled into native code, so a check of the source is the first line of defence
(the sandbox's user id and limits are the boundary): no ``#include`` in any spelling (``#``, the
digraph ``%:``, the trigraph ``??=``), no digraphs or trigraphs at all, no inline assembly, no
``extern`` declarations other than ``extern "C" __global__`` kernels and ``extern __shared__``
arrays (a declared libc function would be callable), and none of the C library's process, file
or environment functions that the emulator's own headers already declare (``system``,
``fopen``, ``getenv`` ...).

Standard library only: the grader's tests and the sandbox process both load it.
"""
from __future__ import annotations

import re

FORBIDDEN_CALLS = (
    "system", "popen", "pclose", "fopen", "freopen", "fdopen", "tmpfile", "tmpnam", "remove",
    "rename", "getenv", "setenv", "putenv", "unsetenv", "exit", "_Exit", "quick_exit", "abort",
    "atexit", "at_quick_exit", "dlopen", "dlsym", "syscall", "fork", "vfork", "execl", "execle",
    "execlp", "execv", "execve", "execvp", "posix_spawn", "kill", "signal", "raise", "mmap",
    "mprotect", "ptrace", "socket", "connect", "open", "openat", "creat", "unlink", "chmod",
    "setrlimit", "prctl", "clone")
_CALL = re.compile(r"\b(?:std\s*::\s*|::\s*)?(" + "|".join(FORBIDDEN_CALLS) + r")\s*\(")
_RULES = [
    (re.compile(r"(#|%:|\?\?=)\s*include"), "#include is not allowed in the exercise kernel; "
     "write the code in the file itself", "forbidden include"),
    (re.compile(r"%:|<:|:>|<%|%>|\?\?[=/'()!<>-]"), "digraphs and trigraphs (%: <: ??= ...) are "
     "not allowed in the exercise kernel", "forbidden include"),
    (re.compile(r"\b(asm|__asm__|__asm)\b"), "inline assembly (asm) is not allowed in the "
     "exercise kernel", "forbidden code"),
    (re.compile(r"\bextern\b(?!\s*\"C\"\s*__global__)(?!\s*__shared__)"), "extern declarations "
     "are not allowed in the exercise kernel (only extern \"C\" __global__ kernels and extern "
     "__shared__ arrays)", "forbidden code"),
    (re.compile(r"\b(_Pragma|__attribute__)\b|#\s*pragma(?!\s+unroll\b)"), "pragmas (other than "
     "#pragma unroll) and attributes are not allowed in the exercise kernel", "forbidden code"),
]


def strip_comments(text: str) -> str:
    """Blank out ``//`` and ``/* */`` comments and string literals, keeping line numbers."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"", lambda m: m.group(0)
                  if m.group(0) == '"C"' else blank(m), text, flags=re.S)


def problems(text: str, filename: str = "kernel.cu") -> list[tuple[str, str]]:
    """``[(message, category)]``: what the kernel source may not contain, with line numbers."""
    found = []
    raw_lines = text.splitlines()
    code_lines = strip_comments(text).splitlines()
    for n, (raw, code) in enumerate(zip(raw_lines, code_lines), 1):
        # include/digraph/trigraph spellings count even inside comments (the preprocessor may
        # see them before comments are removed); the rest only in code.
        for pattern, what, category in _RULES[:2]:
            if pattern.search(raw):
                found.append((f"{filename} line {n}: {what}", category))
                break
        else:
            for pattern, what, category in _RULES[2:]:
                if pattern.search(code):
                    found.append((f"{filename} line {n}: {what}", category))
                    break
            else:
                m = _CALL.search(code)
                if m:
                    found.append((f"{filename} line {n}: {m.group(1)}() is not allowed in the "
                                  "exercise kernel", "forbidden code"))
    return found

"""Thread count of a CPU benchmark, fixed before NumPy or torch is imported.

OpenBLAS and OpenMP read their thread counts once, when the library loads, so a script
must set ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` before its
first ``import numpy``.  This module imports neither; a script calls, at the very top::

    from _threads import pin_threads
    THREADS = pin_threads(default=1)      # from --threads N / --threads=N, else default

and calls ``torch.set_num_threads(THREADS)`` once torch is imported.
"""
from __future__ import annotations

import os
import sys

ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def threads_from_argv(argv: list[str] | None = None, default: int | None = None) -> int:
    """The value of ``--threads`` in ``argv`` (``sys.argv[1:]`` if None), else ``default``
    (None: every core)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for k, a in enumerate(argv):
        if a == "--threads" or a.startswith("--threads="):
            value = a.split("=", 1)[1] if "=" in a else (argv[k + 1] if k + 1 < len(argv) else "")
            try:
                n = int(value)
            except ValueError:
                raise SystemExit(f"--threads needs a whole number, got {value!r}") from None
            if n < 1:
                raise SystemExit(f"--threads must be at least 1, got {n}")
            return n
    return default if default is not None else (os.cpu_count() or 1)


def pin_threads(default: int | None = None, argv: list[str] | None = None) -> int:
    """Read ``--threads`` and export it to the BLAS/OpenMP variables; returns it."""
    n = threads_from_argv(argv, default)
    for var in ENV_VARS:
        os.environ[var] = str(n)
    return n

"""Limit the BLAS thread count for a block of code (OpenBLAS, as bundled with NumPy wheels).

A tiny model multiplies 32 x 32 matrices: waking BLAS threads for each product costs
more than the product, and on a busy machine the threads wait for cores, so such code
runs several times faster single-threaded.  This helper finds the OpenBLAS library
that NumPy loaded and calls its ``set_num_threads``; where it cannot (another BLAS,
another platform) it does nothing -- results are the same either way, only speed differs.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import re

_PREFIXES = ("scipy_openblas", "openblas")


@functools.lru_cache(maxsize=1)
def _openblas():
    try:
        with open("/proc/self/maps") as f:
            paths = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", f.read())))
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in ("64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    return get, put
    return None


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Run the ``with`` block with at most ``n`` BLAS threads (``None``: leave as is)."""
    import numpy  # noqa: F401  (make sure NumPy's BLAS is loaded before looking for it)
    funcs = _openblas() if n is not None else None
    if funcs is None:
        yield
        return
    get, put = funcs
    before = get()
    put(int(n))
    try:
        yield
    finally:
        put(before)

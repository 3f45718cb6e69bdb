"""Where a launcher's arrays live: the backend choice and host <-> device moves, shared by every
operation's launchers (``course_lib.conv.gpu``, ``course_lib.rnn.gpu``, ``course_lib.attention.gpu``).

A launcher accepts NumPy arrays on either backend (on CuPy they are copied to the device and the
results come back as NumPy) or CuPy arrays on the CuPy backend (results stay on the device).
"""
from __future__ import annotations

from typing import Any

import numpy as np


def resolve_backend(backend: str | None) -> str:
    """``backend``, checked; ``None`` -> :func:`course_lib.cuda.default_backend`."""
    from .runtime import default_backend
    if backend is None:
        return default_backend()
    if backend not in ("cupy", "emulator"):
        raise ValueError(f"backend must be 'cupy', 'emulator' or None, got {backend!r}")
    return backend


def is_cupy(a: Any) -> bool:
    """True for a CuPy array (checked by module name, so CuPy need not be installed)."""
    return type(a).__module__.split(".")[0] == "cupy"


class DeviceArrays:
    """Moves a launcher's arguments to where ``backend`` computes, and the results back.

    ``xp`` is ``numpy`` (emulator) or ``cupy``; ``out`` returns NumPy when no input was CuPy.
    ``arrays`` maps argument names to arrays (or None) and is only used to find CuPy inputs.
    """

    def __init__(self, backend: str, arrays: dict[str, Any]):
        on_device = [k for k, v in arrays.items() if v is not None and is_cupy(v)]
        if backend == "emulator" and on_device:
            raise TypeError(f"the emulator backend needs NumPy arrays, but {on_device} are CuPy "
                            "arrays; pass backend='cupy' or copy them with .get()")
        if backend == "cupy":
            import cupy
            self.xp, self.to_numpy = cupy, not on_device
        else:
            self.xp, self.to_numpy = np, False

    def put(self, a):
        # cupy.ascontiguousarray refuses NumPy input: asarray copies host -> device first
        return None if a is None else self.xp.ascontiguousarray(self.xp.asarray(a))

    def out(self, a):
        return self.xp.asnumpy(a) if self.to_numpy else a

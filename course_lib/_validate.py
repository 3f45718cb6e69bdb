"""Input checks shared by every implementation.

Each helper raises ``TypeError`` (wrong kind of object or dtype) or ``ValueError``
(wrong shape or value) with a message that names the argument and shows the shapes,
so a learner sees *what* was wrong instead of a silent wrong answer.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_array(name: str, a: object, ndim: int | None = None, *, finite: bool = True,
                layout: str | None = None) -> np.ndarray:
    """Return ``a`` as a float32/float64 ndarray after checking it.

    ``layout`` is a label such as ``"(B, C_in, H, W)"`` used only in messages.
    Non-contiguous arrays are accepted (NumPy handles any strides correctly);
    kernels that need contiguous memory check that themselves.
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got dtype {a.dtype} "
                        f"(shape {a.shape}); convert with {name}.astype(np.float32)")
    if ndim is not None and a.ndim != ndim:
        want = f" {layout}" if layout else ""
        raise ValueError(f"{name} must be {ndim}-D{want}, got shape {a.shape}")
    if finite and a.size and not np.isfinite(a).all():
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(f"{name} (shape {a.shape}) contains {bad} NaN/inf value(s); "
                         "the implementations assume finite inputs")
    return a


def check_same_dtype(**arrays: np.ndarray | None) -> np.dtype:
    """All non-None arrays must share one dtype (as PyTorch requires); return it."""
    named = {k: v for k, v in arrays.items() if v is not None}
    dtypes = {k: v.dtype for k, v in named.items()}
    if len(set(dtypes.values())) > 1:
        desc = ", ".join(f"{k}: {d} {named[k].shape}" for k, d in dtypes.items())
        raise TypeError(f"dtypes differ ({desc}); cast them to one dtype")
    return next(iter(dtypes.values()))


def as_pair(name: str, value: int | Sequence[int], minimum: int) -> tuple[int, int]:
    """Normalise an int or a pair of ints to ``(h, w)``, each ``>= minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a convolution: ``floor((size + 2*padding - kernel) / stride) + 1``."""
    return (size + 2 * padding - kernel) // stride + 1

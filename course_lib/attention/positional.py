"""Sinusoidal positional encoding (Vaswani et al., 2017).

Attention is permutation-equivariant: shuffling the positions of the input shuffles
the output the same way, so the model cannot tell order by itself.  Adding a
position-dependent vector to each token embedding fixes that::

    PE[pos, 2i]   = sin(pos / base^(2i / d))
    PE[pos, 2i+1] = cos(pos / base^(2i / d))         i = 0 .. ceil(d/2) - 1

Each pair of columns is a rotation at its own frequency, from 1 rad/position (i = 0)
down to 1/base rad/position, so PE[pos + k] is a fixed linear function of PE[pos]
for every offset k.  Odd ``d``: the last column is a sine.
"""
from __future__ import annotations

import numpy as np

from .module import check_float_dtype


def sinusoidal_positional_encoding(length: int, d_model: int, base: float = 10000.0,
                                   dtype=np.float32) -> np.ndarray:
    """The (length, d_model) table above, computed in float64 and cast to ``dtype``."""
    for name, n in (("length", length), ("d_model", d_model)):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise ValueError(f"{name} must be an int >= 1, got {n!r}")
    if not base > 1:
        raise ValueError(f"base must be > 1, got {base!r}")
    dtype = check_float_dtype(dtype)
    pos = np.arange(length, dtype=np.float64)[:, None]
    freq = base ** (-np.arange(0, d_model, 2, dtype=np.float64) / d_model)   # (ceil(d/2),)
    angle = pos * freq                                                         # (length, ceil(d/2))
    pe = np.empty((length, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return pe.astype(dtype)

"""Argument checks shared by the recurrent layers in :mod:`course_lib.rnn`.

The layers follow ``torch.nn.LSTM`` / ``torch.nn.GRU``: a sequence is (T, B, I)
(or (B, T, I) with ``batch_first``), an unbatched sequence is (T, I), and a state
is (num_layers, B, H) (or (num_layers, H) unbatched).  Every check raises
``TypeError`` or ``ValueError`` naming the argument and the shapes.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array


def check_size(name: str, value: object, minimum: int = 1) -> int:
    """``value`` must be an int >= ``minimum`` (bools rejected)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_dtype(dtype: object) -> np.dtype:
    """float32 or float64 only: the two precisions the course keeps."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def check_sequence(x: object, input_size: int, dtype: np.dtype, batch_first: bool
                   ) -> tuple[np.ndarray, bool]:
    """Return ``(x as (T, B, I), unbatched)`` after checking a layer's input.

    The returned array is a view when possible (a ``batch_first`` input is
    transposed, not copied; the layers make one contiguous copy where a GEMM
    needs it).
    """
    layout = "(B, T, input_size)" if batch_first else "(T, B, input_size)"
    x = check_array("x", x, layout=layout)
    if x.ndim not in (2, 3):
        raise ValueError(f"x must be 3-D {layout} or 2-D (T, input_size) for one unbatched "
                         f"sequence, got shape {x.shape}")
    if x.shape[-1] != input_size:
        raise ValueError(f"x has {x.shape[-1]} features (shape {x.shape}) but the layer has "
                         f"input_size={input_size}")
    if x.dtype != dtype:
        raise TypeError(f"x has dtype {x.dtype} (shape {x.shape}) but the layer's parameters "
                        f"are {dtype}; cast x with x.astype(np.{dtype})")
    unbatched = x.ndim == 2
    if unbatched:
        x = x[:, None, :]
    elif batch_first:
        x = x.transpose(1, 0, 2)
    T, B = x.shape[:2]
    if T < 1:
        raise ValueError(f"x has sequence length T=0 (shape {x.shape if not unbatched else (0, input_size)}); "
                         "a recurrent layer needs at least one time step")
    if B < 1:
        raise ValueError(f"x has batch size B=0 (layout {layout}); need at least one sequence")
    return x, unbatched


def check_state(name: str, h: object, num_layers: int, batch: int, hidden_size: int,
                dtype: np.dtype, unbatched: bool) -> np.ndarray:
    """A state h0/c0 (or dh_n/dc_n): returned as (num_layers, B, H)."""
    want = (num_layers, hidden_size) if unbatched else (num_layers, batch, hidden_size)
    label = "(num_layers, H)" if unbatched else "(num_layers, B, H)"
    h = check_array(name, h, layout=label)
    if h.dtype != dtype:
        raise TypeError(f"{name} has dtype {h.dtype} (shape {h.shape}) but x and the "
                        f"parameters are {dtype}")
    if h.shape != want:
        if (not unbatched and h.ndim == 3 and h.shape[0] == num_layers
                and h.shape[2] == hidden_size and h.shape[1] != batch):
            raise ValueError(f"batch mismatch: {name} has batch {h.shape[1]} (shape {h.shape}) "
                             f"but x has batch {batch}")
        raise ValueError(f"{name} must have shape {label} = {want}, got {h.shape}")
    return h[:, None, :] if unbatched else h


def check_cell_input(x: object, input_size: int, dtype: np.dtype) -> tuple[np.ndarray, bool]:
    """A cell's input: (B, I) or unbatched (I,); returned as (B, I)."""
    x = check_array("x", x, layout="(B, input_size)")
    if x.ndim not in (1, 2):
        raise ValueError(f"x must be 2-D (B, input_size) or 1-D (input_size,), got shape {x.shape}")
    if x.shape[-1] != input_size:
        raise ValueError(f"x has {x.shape[-1]} features (shape {x.shape}) but the cell has "
                         f"input_size={input_size}")
    if x.dtype != dtype:
        raise TypeError(f"x has dtype {x.dtype} (shape {x.shape}) but the cell's parameters "
                        f"are {dtype}")
    if x.ndim == 2 and x.shape[0] < 1:
        raise ValueError(f"x has batch size 0 (shape {x.shape})")
    return (x[None, :], True) if x.ndim == 1 else (x, False)


def check_cell_state(name: str, h: object, batch: int, hidden_size: int, dtype: np.dtype,
                     unbatched: bool) -> np.ndarray:
    """A cell state h/c: (B, H) or unbatched (H,); returned as (B, H)."""
    want = (hidden_size,) if unbatched else (batch, hidden_size)
    h = check_array(name, h, layout="(B, H)")
    if h.dtype != dtype:
        raise TypeError(f"{name} has dtype {h.dtype} (shape {h.shape}) but x and the "
                        f"parameters are {dtype}")
    if h.shape != want:
        if not unbatched and h.ndim == 2 and h.shape[1] == hidden_size:
            raise ValueError(f"batch mismatch: {name} has batch {h.shape[0]} (shape {h.shape}) "
                             f"but x has batch {batch}")
        raise ValueError(f"{name} must have shape {want}, got {h.shape}")
    return h[None, :] if unbatched else h


def check_grad(name: str, g: object, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An incoming gradient must match the forward output it belongs to."""
    g = check_array(name, g)
    if g.shape != tuple(shape):
        raise ValueError(f"{name} must have the shape of the forward output {tuple(shape)}, "
                         f"got {g.shape}")
    if g.dtype != dtype:
        raise TypeError(f"{name} has dtype {g.dtype} but the forward pass ran in {dtype}")
    return g

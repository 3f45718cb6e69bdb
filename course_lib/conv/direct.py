"""Direct convolution vectorized over the kernel offsets.

Instead of visiting each output position, visit each of the KH*KW kernel offsets
``(kh, kw)``.  For a fixed offset, the input values that meet ``w[:, :, kh, kw]``
form a strided slice of the padded input with the output's spatial shape, so the
whole offset is one (C_out x C_in) @ (C_in x B*OH*OW) matrix product.
"""
from __future__ import annotations

import numpy as np

from ._args import check_conv2d
from .naive import pad_hw


def window_slice(kh: int, kw: int, out_hw: tuple[int, int], stride: tuple[int, int]
                 ) -> tuple[slice, slice, slice, slice]:
    """Index of the padded-input values that kernel offset ``(kh, kw)`` touches.

    ``xp[window_slice(...)]`` has shape (B, C, OH, OW): element ``[n, c, i, j]`` is
    ``xp[n, c, i*sh + kh, j*sw + kw]``.
    """
    (oh, ow), (sh, sw) = out_hw, stride
    return (slice(None), slice(None),
            slice(kh, kh + sh * (oh - 1) + 1, sh),
            slice(kw, kw + sw * (ow - 1) + 1, sw))


def conv2d_direct(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                  stride=1, padding=0) -> np.ndarray:
    """Same result as :func:`~course_lib.conv.naive.conv2d_naive`, with KH*KW matrix products.

    Shapes: x (B, C_in, H, W), w (C_out, C_in, KH, KW), b (C_out,) or None
    -> y (B, C_out, OH, OW).  The dtype of the inputs is kept (products and sums
    in float32 for float32 input).  Extra memory: the padded input plus one
    (B, C_in, OH, OW) slice copy per offset.
    """
    x, w, b, g = check_conv2d(x, w, b, stride, padding)
    xp = pad_hw(x, g.padding)
    # accumulate as (C_out, B, OH, OW): the layout tensordot returns, no transpose per step
    acc = np.zeros((g.C_out, g.B, g.OH, g.OW), dtype=x.dtype)
    for kh in range(g.KH):
        for kw in range(g.KW):
            xs = xp[window_slice(kh, kw, (g.OH, g.OW), g.stride)]      # (B, C_in, OH, OW)
            acc += np.tensordot(w[:, :, kh, kw], xs, axes=([1], [1]))  # (C_out, B, OH, OW)
    if b is not None:
        acc += b[:, None, None, None]
    return np.ascontiguousarray(acc.transpose(1, 0, 2, 3))

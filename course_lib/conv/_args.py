"""Argument checking shared by every 2-D convolution in :mod:`course_lib.conv`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .._validate import as_pair, check_array, check_same_dtype, conv_output_size


@dataclass(frozen=True)
class ConvGeometry:
    """Sizes of one convolution, NCHW.

    x: (B, C_in, H, W); w: (C_out, C_in, KH, KW); y: (B, C_out, OH, OW).
    """

    B: int
    C_in: int
    H: int
    W: int
    C_out: int
    KH: int
    KW: int
    stride: tuple[int, int]
    padding: tuple[int, int]
    OH: int
    OW: int

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.B, self.C_in, self.H, self.W)

    @property
    def w_shape(self) -> tuple[int, int, int, int]:
        return (self.C_out, self.C_in, self.KH, self.KW)

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        return (self.B, self.C_out, self.OH, self.OW)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the direct algorithm (bias excluded)."""
        return self.B * self.C_out * self.OH * self.OW * self.C_in * self.KH * self.KW


def geometry(x_shape: Sequence[int], w_shape: Sequence[int],
             stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0) -> ConvGeometry:
    """Check shapes, stride and padding; return the convolution's sizes."""
    sh, sw = as_pair("stride", stride, 1)
    ph, pw = as_pair("padding", padding, 0)
    B, C_in, H, W = x_shape
    C_out, C_in_w, KH, KW = w_shape
    if C_in_w != C_in:
        raise ValueError(f"channel mismatch: x has C_in={C_in} (shape {tuple(x_shape)}) but "
                         f"w expects C_in={C_in_w} (shape {tuple(w_shape)})")
    if min(KH, KW) < 1 or min(B, C_in, C_out, H, W) < 1:
        raise ValueError(f"empty dimension: x shape {tuple(x_shape)}, w shape {tuple(w_shape)}")
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError(f"kernel {KH}x{KW} (w shape {tuple(w_shape)}) is larger than the padded "
                         f"input {H + 2 * ph}x{W + 2 * pw} (x shape {tuple(x_shape)}, "
                         f"padding {(ph, pw)})")
    return ConvGeometry(B, C_in, H, W, C_out, KH, KW, (sh, sw), (ph, pw),
                        conv_output_size(H, KH, sh, ph), conv_output_size(W, KW, sw, pw))


def check_conv2d(x: object, w: object, b: object = None, stride=1, padding=0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvGeometry]:
    """Validate a forward call; return ``(x, w, b, geometry)``."""
    x = check_array("x", x, 4, layout="(B, C_in, H, W)")
    w = check_array("w", w, 4, layout="(C_out, C_in, KH, KW)")
    if b is not None:
        b = check_array("b", b, 1, layout="(C_out,)")
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"b has shape {b.shape} but w (shape {w.shape}) has C_out={w.shape[0]}")
    check_same_dtype(x=x, w=w, b=b)
    return x, w, b, geometry(x.shape, w.shape, stride, padding)


def check_conv2d_backward(dy: object, x: object, w: object, stride=1, padding=0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, ConvGeometry]:
    """Validate a backward call; ``dy`` must have the forward output's shape."""
    x, w, _, g = check_conv2d(x, w, None, stride, padding)
    dy = check_array("dy", dy, 4, layout="(B, C_out, OH, OW)")
    check_same_dtype(dy=dy, x=x, w=w)
    if dy.shape != g.y_shape:
        raise ValueError(f"dy has shape {dy.shape} but the forward output for x {x.shape}, "
                         f"w {w.shape}, stride {g.stride}, padding {g.padding} is {g.y_shape}")
    return dy, x, w, g

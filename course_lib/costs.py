"""Arithmetic cost of a layer, with the units named correctly.

* **MAC** (multiply-accumulate): one ``acc += a * b``.  A direct convolution does
  ``B * C_out * OH * OW * C_in * KH * KW`` of them.
* **FLOP** (floating-point operation, a *count*): a MAC is two FLOPs, a multiply and an
  add.  That is the convention of PyTorch's ``FlopCounterMode`` and of peak-throughput
  figures (a fused multiply-add counts as 2).
* **FLOP/s** (often written FLOPS): a *rate*, FLOPs per second.  A layer "costs" FLOPs;
  a GPU "delivers" FLOP/s; their ratio is a time.
"""
from __future__ import annotations

from dataclasses import dataclass

from ._validate import as_pair
from .conv._args import geometry

_SI = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def si(value: float, unit: str, digits: int = 3) -> str:
    """Format ``value`` with an SI prefix: ``si(3.78e9, "MAC") == "3.78 GMAC"``."""
    for scale, prefix in _SI:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"


@dataclass(frozen=True)
class ConvCost:
    """Counts for one forward pass of a 2-D convolution layer (direct algorithm).

    ``macs``: multiply-accumulates of the weighted sums (bias excluded).
    ``flops``: ``2 * macs`` plus one add per output element when there is a bias.
    ``params``: weights plus biases.  ``out_hw``: (OH, OW).
    ``input_elems`` / ``output_elems``: sizes of x (B, C_in, H, W) and y (B, C_out, OH, OW).
    """

    macs: int
    flops: int
    params: int
    out_hw: tuple[int, int]
    input_elems: int
    output_elems: int

    def seconds_at(self, flop_per_s: float) -> float:
        """Time the FLOPs take at a sustained rate of ``flop_per_s`` (a lower bound)."""
        if not flop_per_s > 0:
            raise ValueError(f"flop_per_s must be > 0, got {flop_per_s!r}")
        return self.flops / flop_per_s


def conv2d_cost(batch: int, c_in: int, c_out: int, kernel_size, in_hw, stride=1, padding=0,
                bias: bool = True) -> ConvCost:
    """MACs, FLOPs and parameters of ``Conv2d(c_in, c_out, kernel_size, stride, padding)``.

    ``kernel_size``, ``in_hw`` (H, W), ``stride`` and ``padding`` are an int or an
    (h, w) pair.  The backward pass costs about twice the forward MACs (one product
    for dx, one for dw), which is not included here.
    """
    for name, v in (("batch", batch), ("c_in", c_in), ("c_out", c_out)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    kh, kw = as_pair("kernel_size", kernel_size, 1)
    h, w = as_pair("in_hw", in_hw, 1)
    # the same shape checks and output-size formula as every convolution in course_lib.conv
    g = geometry((batch, c_in, h, w), (c_out, c_in, kh, kw), stride, padding)
    outputs = batch * c_out * g.OH * g.OW
    macs = g.macs
    return ConvCost(macs=macs,
                    flops=2 * macs + (outputs if bias else 0),
                    params=c_out * c_in * kh * kw + (c_out if bias else 0),
                    out_hw=(g.OH, g.OW),
                    input_elems=batch * c_in * h * w,
                    output_elems=outputs)

"""Arithmetic counts of the convolution algorithms, with the models stated.

Every function returns an :class:`OpCount` of *real* multiplications and additions
for one forward call of the algorithm as implemented in this package.

Models
------
* **direct / im2col**: one multiply and one add per multiply-accumulate;
  ``adds = outputs * (C_in*KH*KW - 1)`` (the first product needs no add).  im2col
  does the same arithmetic (it *is* the direct sum, arranged as a GEMM) and adds a
  workspace of ``B*C_in*KH*KW*OH*OW`` elements.
* **Winograd F(m x m, 3 x 3)**, tile a = m + 2, T tiles (ragged edges rounded up):
  elementwise stage ``a^2 * C_out * C_in * T`` mults and ``a^2 * C_out * (C_in-1) * T``
  adds (the C_in reduction), plus the transforms counted from the actual matrices:
  a matrix-vector product with matrix P costs one mult per entry not in {0, +1, -1}
  and ``nnz(row) - 1`` adds per row.  ``B^T d B`` = P applied to a columns then a
  rows (per tile and input channel), ``A^T M A`` = a columns then m rows (per tile
  and output channel), ``G g G^T`` = 3 columns then a rows (per filter pair).
* **FFT**: a real FFT of N points costs ``2.5 N log2 N`` flops (half of the classic
  radix-2 complex estimate ``5 N log2 N``), split as ``N log2 N`` mults and
  ``1.5 N log2 N`` adds (a radix-2 butterfly: 4 mults, 6 adds per complex pair).
  A 2-D transform of Nh x Nw uses N = Nh*Nw.  Transforms: B*C_in (input), C_out*C_in
  (kernel), B*C_out (inverse).  Frequency products: per retained frequency
  ``Nh*(Nw//2+1)`` and per (B, C_out, C_in) one complex multiply-accumulate =
  4 mults + 4 adds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from fractions import Fraction
from typing import Sequence

from ._args import geometry
from .fft import fft_size
from .winograd_transforms import winograd_matrices


@dataclass(frozen=True)
class OpCount:
    """Real multiplications and additions; ``parts`` breaks the total down by stage."""

    mults: float
    adds: float
    workspace_elements: int = 0
    parts: dict = field(default_factory=dict, compare=False)

    @property
    def flops(self) -> float:
        return self.mults + self.adds


def direct_ops(x_shape, w_shape, stride=1, padding=0) -> OpCount:
    """Direct convolution (naive loop and the per-offset GEMM version alike)."""
    g = geometry(x_shape, w_shape, stride, padding)
    outputs = g.B * g.C_out * g.OH * g.OW
    k = g.C_in * g.KH * g.KW
    return OpCount(outputs * k, outputs * (k - 1), 0, {"mac": (outputs * k, outputs * (k - 1))})


def im2col_ops(x_shape, w_shape, stride=1, padding=0) -> OpCount:
    """Same arithmetic as :func:`direct_ops`; workspace = the full column matrix."""
    g = geometry(x_shape, w_shape, stride, padding)
    d = direct_ops(x_shape, w_shape, stride, padding)
    return OpCount(d.mults, d.adds, g.B * g.C_in * g.KH * g.KW * g.OH * g.OW, dict(d.parts))


def matvec_cost(P: Sequence[Sequence]) -> tuple[int, int]:
    """(mults, adds) of ``P @ v`` done by hand: skip zeros, no mult for +-1."""
    mults = sum(1 for row in P for v in row if v not in (0, 1, -1))
    adds = sum(max(sum(1 for v in row if v != 0) - 1, 0) for row in P)
    return mults, adds


@lru_cache(maxsize=None)
def winograd_transform_costs(m: int, r: int = 3) -> tuple[tuple[int, int], ...]:
    """(mults, adds) of one matrix-vector product with ``B^T``, ``A^T`` and ``G`` of F(m, r).

    Depends only on the tile, so it is computed once per (m, r): the exact
    Fraction matrices are slow to build and to scan, and the ``algo="auto"``
    cost model needs these numbers on every call.
    """
    mats = winograd_matrices(m, r)
    return matvec_cost(mats.BT), matvec_cost(mats.AT), matvec_cost(mats.G)


def winograd_ops(x_shape, w_shape, padding=0, m: int = 2, include_filter: bool = True) -> OpCount:
    """Winograd F(m x m, 3 x 3), stride 1, as :func:`~course_lib.conv.winograd.conv2d_winograd`."""
    g = geometry(x_shape, w_shape, 1, padding)
    if (g.KH, g.KW) != (3, 3):
        raise ValueError(f"Winograd op count is for 3x3 kernels, got w shape {tuple(w_shape)}")
    (bm, ba), (am, aa), (gm, ga) = winograd_transform_costs(m)
    a = m + 2
    T = g.B * -(-g.OH // m) * -(-g.OW // m)
    parts = {}
    parts["elementwise"] = (a * a * g.C_out * g.C_in * T, a * a * g.C_out * (g.C_in - 1) * T)
    parts["input_transform"] = (2 * a * bm * g.C_in * T, 2 * a * ba * g.C_in * T)
    parts["output_transform"] = ((a + m) * am * g.C_out * T, (a + m) * aa * g.C_out * T)
    if include_filter:
        parts["filter_transform"] = ((3 + a) * gm * g.C_out * g.C_in, (3 + a) * ga * g.C_out * g.C_in)
    mults = sum(p[0] for p in parts.values())
    adds = sum(p[1] for p in parts.values())
    workspace = a * a * (g.C_in + g.C_out) * T + a * a * g.C_out * g.C_in
    return OpCount(mults, adds, workspace, parts)


def rfft_flops(n: int) -> tuple[float, float]:
    """(mults, adds) of one real FFT of n points under the 2.5 n log2 n model."""
    if n <= 1:
        return 0.0, 0.0
    nl = n * math.log2(n)
    return nl, 1.5 * nl


def fft_ops(x_shape, w_shape, stride=1, padding=0, kernel_cached: bool = False) -> OpCount:
    """FFT convolution as :func:`~course_lib.conv.fft.conv2d_fft` does it.

    ``kernel_cached=True`` leaves out the kernel transforms (weights transformed once
    and reused across calls, as an inference engine would).
    """
    g = geometry(x_shape, w_shape, stride, padding)
    Nh, Nw = fft_size(g.H + 2 * g.padding[0]), fft_size(g.W + 2 * g.padding[1])
    fm, fa = rfft_flops(Nh * Nw)
    n_fft = g.B * g.C_in + g.B * g.C_out + (0 if kernel_cached else g.C_out * g.C_in)
    F = Nh * (Nw // 2 + 1)
    cmac = g.B * g.C_out * g.C_in * F
    parts = {"transforms": (n_fft * fm, n_fft * fa), "frequency_products": (4 * cmac, 4 * cmac)}
    workspace = 2 * F * (g.B * g.C_in + g.C_out * g.C_in + g.B * g.C_out) + g.B * g.C_out * Nh * Nw
    return OpCount(n_fft * fm + 4 * cmac, n_fft * fa + 4 * cmac, workspace, parts)


# ----------------------------------------------------------------- tables for the book

def winograd_table(r: int = 3, ms: Sequence[int] = (2, 4)) -> list[dict]:
    """Multiplications per output of F(m, r) (1-D) and F(m x m, r x r) (2-D) vs direct.

    Elementwise-stage multiplications only (the transforms are amortised over channels).
    Each row: name, mults per tile, outputs per tile, mults per output, direct mults per
    output, reduction factor (direct / Winograd) and fraction of multiplications saved.
    """
    rows = []
    for dims in (1, 2):
        rows.append({"algorithm": f"direct {'x'.join([str(r)] * dims)}", "dims": dims,
                     "mults_per_tile": r ** dims, "outputs_per_tile": 1,
                     "mults_per_output": Fraction(r ** dims), "direct_per_output": r ** dims,
                     "reduction": Fraction(1), "saved": Fraction(0)})
        for m in ms:
            n = m + r - 1
            per_out = Fraction(n ** dims, m ** dims)
            name = f"F({m},{r})" if dims == 1 else f"F({m}x{m},{r}x{r})"
            rows.append({"algorithm": name, "dims": dims, "mults_per_tile": n ** dims,
                         "outputs_per_tile": m ** dims, "mults_per_output": per_out,
                         "direct_per_output": r ** dims,
                         "reduction": Fraction(r ** dims) / per_out,
                         "saved": 1 - per_out / r ** dims})
    return rows


def source_fft_table(N: int = 1024, K: int = 11) -> dict:
    """Recompute the source's "N=1024, K=11" FFT-vs-direct comparison.

    Single channel, N x N image, K x K kernel, 'valid' output (N-K+1)^2.  Returns the
    big-O numbers the source seems to use (N^2 K^2 and N^2 log2 N, constants dropped) next
    to counted flops: direct = 2 flops per MAC on the valid outputs; FFT = 3 real 2-D FFTs
    (image, kernel, inverse) of a fast size >= N under the 2.5 n log2 n model, plus the
    complex products; and the variant with the kernel spectrum precomputed.
    """
    out = N - K + 1
    direct_macs = out * out * K * K
    fft_ = fft_ops((1, 1, N, N), (1, 1, K, K))
    fft_cached = fft_ops((1, 1, N, N), (1, 1, K, K), kernel_cached=True)
    Nl = N + K - 1                                   # linear-convolution size the source pads to
    fm, fa = rfft_flops(Nl * Nl)
    source_style = 3 * (fm + fa) + 8 * Nl * (Nl // 2 + 1)
    return {
        "N": N, "K": K,
        "bigO_direct_N2K2": N * N * K * K,
        "bigO_fft_N2log2N": N * N * math.log2(N),
        "bigO_ratio": (N * N * K * K) / (N * N * math.log2(N)),
        "direct_valid_macs": direct_macs,
        "direct_flops": 2 * direct_macs,
        "fft_flops": fft_.flops,
        "fft_flops_kernel_cached": fft_cached.flops,
        "fft_flops_source_padding": source_style,
        "source_padding_size": Nl,
        "flop_ratio_direct_over_fft": 2 * direct_macs / fft_.flops,
        "flop_ratio_kernel_cached": 2 * direct_macs / fft_cached.flops,
    }

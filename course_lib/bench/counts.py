"""FLOP and byte counts of the course's operations, for GFLOP/s and the roofline.

Conventions (stated so that every benchmark counts alike):

* a multiply-accumulate is 2 FLOPs; a GEMM ``(m x k) @ (k x n)`` is ``2 m n k``;
* bytes are the *compulsory* traffic: every input read once and every output written
  once (``itemsize`` bytes each).  Real kernels move more (re-reads when tiles do not
  fit in cache, workspaces); the measured point then sits below the roofline, which is
  what the roofline is meant to show;
* element-wise maths (exp, tanh, sigmoid, divide) counts 1 FLOP per call per element,
  although it costs several instructions;
* softmax over a row of n: max (n), subtract (n), exp (n), sum (n), divide (n) = 5n.

Convolution, LSTM and attention counts reuse the course's own models:
:func:`course_lib.conv._args.geometry` gives the MACs of a convolution.
"""
from __future__ import annotations


def _pos(**kw) -> None:
    for k, v in kw.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{k} must be an int >= 1, got {v!r}")


def matmul_flops(m: int, n: int, k: int, batch: int = 1) -> int:
    """FLOPs of ``batch`` products (m x k) @ (k x n): ``2 * batch * m * n * k``."""
    _pos(m=m, n=n, k=k, batch=batch)
    return 2 * batch * m * n * k


def matmul_bytes(m: int, n: int, k: int, itemsize: int = 4, batch: int = 1) -> int:
    """Compulsory bytes of the same: read A (m x k) and B (k x n), write C (m x n)."""
    _pos(m=m, n=n, k=k, itemsize=itemsize, batch=batch)
    return batch * (m * k + k * n + m * n) * itemsize


def conv2d_flops(x_shape, w_shape, stride=1, padding=0) -> int:
    """2 x the MACs of the direct convolution (the useful work, whatever the algorithm)."""
    from ..conv._args import geometry
    return 2 * geometry(tuple(x_shape), tuple(w_shape), stride, padding).macs


def conv2d_bytes(x_shape, w_shape, stride=1, padding=0, itemsize: int = 4) -> int:
    """Compulsory bytes: read x (B, C_in, H, W) and w, write y (B, C_out, OH, OW)."""
    from ..conv._args import geometry
    g = geometry(tuple(x_shape), tuple(w_shape), stride, padding)
    elems = (g.B * g.C_in * g.H * g.W + g.C_out * g.C_in * g.KH * g.KW
             + g.B * g.C_out * g.OH * g.OW)
    return elems * itemsize


def softmax_flops(rows: int, n: int) -> int:
    """Softmax over ``rows`` rows of ``n`` values: 5 FLOPs per element (see module doc)."""
    _pos(rows=rows, n=n)
    return 5 * rows * n


def attention_flops(batch: int, heads: int, L: int, S: int, head_dim: int,
                    dv: int | None = None) -> int:
    """Scaled dot-product attention, Q (B, h, L, d), K (B, h, S, d), V (B, h, S, dv):
    ``Q K^T`` (2 L S d), scaling (L S), softmax (5 L S), ``P V`` (2 L S dv), per head."""
    dv = head_dim if dv is None else dv
    _pos(batch=batch, heads=heads, L=L, S=S, head_dim=head_dim, dv=dv)
    per = 2 * L * S * head_dim + L * S + 5 * L * S + 2 * L * S * dv
    return batch * heads * per


def attention_bytes(batch: int, heads: int, L: int, S: int, head_dim: int,
                    itemsize: int = 4, materialised: bool = True) -> int:
    """Bytes of attention: Q, K, V read and the output written; with ``materialised``
    the L x S score matrix is also written and read back twice (softmax, then P V) --
    the standard implementation; ``False`` is the flash-attention minimum."""
    _pos(batch=batch, heads=heads, L=L, S=S, head_dim=head_dim, itemsize=itemsize)
    qkvo = (2 * L * head_dim + 2 * S * head_dim) * batch * heads
    scores = 4 * L * S * batch * heads if materialised else 0   # write, read, write, read
    return (qkvo + scores) * itemsize


def lstm_step_flops(batch: int, input_size: int, hidden_size: int) -> int:
    """One LSTM step, fused gates: the GEMM ``[x, h] @ W^T`` (2 B (I+H) 4H), the bias
    (4BH), four gate activations (4BH) and the cell update ``c = f c + i g``,
    ``h = o tanh(c)`` (5BH): ``2B(I+H)4H + 13BH``."""
    _pos(batch=batch, input_size=input_size, hidden_size=hidden_size)
    B, I, H = batch, input_size, hidden_size
    return 2 * B * (I + H) * 4 * H + 13 * B * H


def arithmetic_intensity(flops: float, nbytes: float) -> float:
    """FLOPs per byte moved (the roofline's x axis)."""
    if nbytes <= 0:
        raise ValueError(f"nbytes must be > 0, got {nbytes!r}")
    if flops < 0:
        raise ValueError(f"flops must be >= 0, got {flops!r}")
    return flops / nbytes

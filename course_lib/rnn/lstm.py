"""A whole LSTM layer over a sequence, in two formulations that give the same numbers.

Shapes: x (T, B, I), h0 and c0 (B, H), w_ih (4H, I), w_hh (4H, H), biases (4H,) or None;
-> y (T, B, H), h_n (B, H), c_n (B, H) and an :class:`LSTMCache` for backpropagation.

* :func:`lstm_layer_per_gate` -- per step, four GEMMs (B, I+H) x (I+H, H), one per gate,
  each re-reading [x_t, h]; then the element-wise update.  4T GEMM calls.
* :func:`lstm_layer_fused` -- the input projection of *all* T steps is one GEMM
  (T*B, I) x (I, 4H), which reads w_ih once instead of T times; per step only the
  recurrent product (B, H) x (H, 4H) remains (it needs h_{t-1}), then one pass over
  the (B, 4H) gate block.  T + 1 GEMM calls.

Both cost 4H(I + H) multiply-adds per sequence and step; what differs is the number
of GEMM calls, how often weights and activations travel through memory, and the
number of element-wise passes.  Extra memory (both): the cache, about
T*B*(4H + 3H) values, kept for backward.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nonlin import sigmoid

TORCH_ORDER = (0, 1, 2, 3)   # block k of acts holds gate "ifgo"[k]
# The fused loop stores the gates as i, f, o, g: the three sigmoid gates adjacent, so
# one pair of NumPy calls finishes all three (see FUSED_ORDER below).
FUSED_ORDER = (0, 1, 3, 2)   # acts block of i, f, g, o


@dataclass
class LSTMCache:
    """What backward needs from one layer's forward pass.

    x (T, B, I) the layer input; h and c (T+1, B, H) with h[0] = h0, c[0] = c0;
    acts (T, B, 4H) the gate *activations*; gate i, f, g, o sits in block
    ``blocks[0..3]`` of acts (torch's order for the per-gate loop, i, f, o, g for the
    fused one); tanh_c (T, B, H) tanh(c[1:]); w_ih, w_hh torch's weights.
    """

    x: np.ndarray
    h: np.ndarray
    c: np.ndarray
    acts: np.ndarray
    tanh_c: np.ndarray
    w_ih: np.ndarray
    w_hh: np.ndarray
    blocks: tuple[int, int, int, int] = TORCH_ORDER

    def rows(self) -> np.ndarray:
        """Index r with acts[..., k] holding torch row r[k] (maps acts order to torch rows)."""
        H = self.w_hh.shape[1]
        where = np.empty(4, int)
        where[list(self.blocks)] = np.arange(4)      # block -> torch gate
        return np.concatenate([np.arange(g * H, (g + 1) * H) for g in where])


def lstm_layer_fused(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray | None,
                     b_hh: np.ndarray | None, h0: np.ndarray, c0: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, LSTMCache]:
    """Fused LSTM layer: one input-projection GEMM, then one recurrent GEMM per step.

    Arrays are assumed checked (see :class:`course_lib.rnn.LSTM`).  Two tricks keep
    the per-step NumPy calls few (at small sizes the calls, not the arithmetic, cost
    the time): the weight rows are reordered to i, f, o, g and the sigmoid rows
    halved once (exact in binary floating point), so that one ``tanh`` over the
    whole (B, 4H) block plus one multiply-add on its first 3H columns gives every
    gate, as sigmoid(a) = (1 + tanh(a/2)) / 2.  Preallocated buffers and ``out=``
    keep the loop free of temporaries.
    """
    T, B, I = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    half = dt.type(0.5)
    cache = LSTMCache(x, np.empty((T + 1, B, H), dt), np.empty((T + 1, B, H), dt), None,
                      np.empty((T, B, H), dt), w_ih, w_hh, FUSED_ORDER)
    rows = cache.rows()
    # transposed once into contiguous (K, 4H) arrays: the small per-step GEMM runs
    # markedly faster on them than on a transposed view
    wiT = np.ascontiguousarray(w_ih[rows].T)
    whT = np.ascontiguousarray(w_hh[rows].T)
    wiT[:, :3 * H] *= half
    whT[:, :3 * H] *= half
    # input projection for all steps at once; acts holds pre-activations until step t
    acts = (np.ascontiguousarray(x).reshape(T * B, I) @ wiT).reshape(T, B, 4 * H)
    if b_ih is not None:
        b = (b_ih + b_hh)[rows]
        b[:3 * H] *= half
        acts += b
    h, c, tanh_c = cache.h, cache.c, cache.tanh_c
    h[0], c[0] = h0, c0
    rec = np.empty((B, 4 * H), dt)
    ig = np.empty((B, H), dt)
    for t in range(T):
        a = acts[t]
        np.dot(h[t], whT, out=rec)          # the only GEMM left inside the loop
        a += rec
        np.tanh(a, out=a)                   # g directly; i, f, o as tanh(a/2)
        s = a[:, :3 * H]
        s *= half
        s += half                           # i, f, o = (1 + tanh(a/2)) / 2
        i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        np.multiply(f, c[t], out=c[t + 1])
        np.multiply(i, g, out=ig)
        c[t + 1] += ig
        np.tanh(c[t + 1], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=h[t + 1])
    cache.acts = acts
    return h[1:], h[T].copy(), c[T].copy(), cache


def per_gate_weights(w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray | None,
                     b_hh: np.ndarray | None) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Torch's stacked weights as four (H, I + H) matrices [w_ih_k | w_hh_k] and four (H,) biases."""
    H = w_hh.shape[1]
    ws, bs = [], []
    for k in range(4):
        rows = slice(k * H, (k + 1) * H)
        ws.append(np.concatenate([w_ih[rows], w_hh[rows]], axis=1))
        bs.append(None if b_ih is None else b_ih[rows] + b_hh[rows])
    return ws, bs


def lstm_layer_per_gate(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
                        b_ih: np.ndarray | None, b_hh: np.ndarray | None, h0: np.ndarray,
                        c0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, LSTMCache]:
    """Unfused LSTM layer: per step, one GEMM per gate on the concatenation [x_t, h].

    The textbook form (weights split once, before the loop); it computes exactly what
    :func:`lstm_layer_fused` does, with 4T GEMM calls instead of T + 1.
    """
    T, B, _ = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    ws, bs = per_gate_weights(w_ih, w_hh, b_ih, b_hh)
    h = np.empty((T + 1, B, H), dt)
    c = np.empty((T + 1, B, H), dt)
    acts = np.empty((T, B, 4 * H), dt)
    h[0], c[0] = h0, c0
    for t in range(T):
        xh = np.concatenate([x[t], h[t]], axis=1)          # (B, I + H), read by 4 GEMMs
        pre = [xh @ w.T if b is None else xh @ w.T + b for w, b in zip(ws, bs)]
        i, f, g, o = sigmoid(pre[0]), sigmoid(pre[1]), np.tanh(pre[2]), sigmoid(pre[3])
        c[t + 1] = f * c[t] + i * g
        h[t + 1] = o * np.tanh(c[t + 1])
        acts[t] = np.concatenate([i, f, g, o], axis=1)
    return h[1:], h[T].copy(), c[T].copy(), LSTMCache(x, h, c, acts, np.tanh(c[1:]), w_ih, w_hh)

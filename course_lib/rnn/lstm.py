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

from .lstm_step import split_gates
from .nonlin import sigmoid

# i, f and o are sigmoids, g is tanh: pre-scaling the sigmoid rows by 1/2 (exact in
# binary floating point) lets one tanh serve all four gates, since
# sigmoid(a) = (1 + tanh(a/2)) / 2
_SIGMOID_ROWS = (0, 1, 3)


@dataclass
class LSTMCache:
    """What backward needs from one layer's forward pass.

    x (T, B, I) the layer input; h and c (T+1, B, H) with h[0] = h0, c[0] = c0;
    acts (T, B, 4H) the gate *activations* i, f, g, o; tanh_c (T, B, H) tanh(c[1:]).
    """

    x: np.ndarray
    h: np.ndarray
    c: np.ndarray
    acts: np.ndarray
    tanh_c: np.ndarray
    w_ih: np.ndarray
    w_hh: np.ndarray


def _half_sigmoid_rows(w: np.ndarray | None) -> np.ndarray | None:
    if w is None:
        return None
    H = w.shape[0] // 4
    w = w.copy()
    for k in _SIGMOID_ROWS:
        w[k * H:(k + 1) * H] *= w.dtype.type(0.5)
    return w


def lstm_layer_fused(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray | None,
                     b_hh: np.ndarray | None, h0: np.ndarray, c0: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, LSTMCache]:
    """Fused LSTM layer: one input-projection GEMM, then one recurrent GEMM per step.

    Arrays are assumed checked (see :class:`course_lib.rnn.LSTM`).  Preallocated
    buffers and ``out=`` keep the loop free of temporaries.
    """
    T, B, I = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    wi, wh = _half_sigmoid_rows(w_ih), _half_sigmoid_rows(w_hh)
    # input projection for all steps at once; acts holds pre-activations until step t
    acts = (np.ascontiguousarray(x).reshape(T * B, I) @ wi.T).reshape(T, B, 4 * H)
    if b_ih is not None:
        acts += _half_sigmoid_rows((b_ih + b_hh)[:, None])[:, 0]
    h = np.empty((T + 1, B, H), dt)
    c = np.empty((T + 1, B, H), dt)
    tanh_c = np.empty((T, B, H), dt)
    h[0], c[0] = h0, c0
    rec = np.empty((B, 4 * H), dt)
    ig = np.empty((B, H), dt)
    whT = wh.T
    half = dt.type(0.5)
    for t in range(T):
        a = acts[t]
        np.matmul(h[t], whT, out=rec)       # the only GEMM left inside the loop
        a += rec
        np.tanh(a, out=a)                   # g directly, i/f/o as tanh(a/2)
        s = a[:, :2 * H]                    # i and f are adjacent: one pass
        s *= half
        s += half
        o = a[:, 3 * H:]
        o *= half
        o += half
        i, f, g, o = split_gates(a)
        np.multiply(f, c[t], out=c[t + 1])
        np.multiply(i, g, out=ig)
        c[t + 1] += ig
        np.tanh(c[t + 1], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=h[t + 1])
    return h[1:], h[T].copy(), c[T].copy(), LSTMCache(x, h, c, acts, tanh_c, w_ih, w_hh)


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

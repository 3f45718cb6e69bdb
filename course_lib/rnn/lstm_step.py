"""One LSTM time step, written plainly (the reference the fast paths are tested against).

Shapes: x (B, I), h and c (B, H); torch's stacked weights w_ih (4H, I), w_hh (4H, H),
biases (4H,), rows in the gate order **i, f, g, o** (input, forget, cell candidate,
output):

    a = x w_ih^T + b_ih + h w_hh^T + b_hh          (B, 4H) pre-activations
    i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
    c' = f * c + i * g                             (B, H)
    h' = o * tanh(c')                              (B, H)

Cost per step: 4H(I + H) multiply-adds per sequence in the batch (the two GEMMs),
plus O(BH) element-wise work.
"""
from __future__ import annotations

import numpy as np

from .nonlin import sigmoid


def split_gates(a: np.ndarray, n_gates: int = 4) -> list[np.ndarray]:
    """Views of the gate blocks of a stacked (..., n_gates*H) array, in row order."""
    H = a.shape[-1] // n_gates
    return [a[..., k * H:(k + 1) * H] for k in range(n_gates)]


def lstm_pointwise(gates: np.ndarray, c_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Everything after the GEMMs: gates (B, 4H) pre-activations, c_prev (B, H) -> (h, c).

    Reads each pre-activation once and writes h and c once: the work a fused GPU
    kernel does per step.  The input is not modified.
    """
    a_i, a_f, a_g, a_o = split_gates(gates)
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)
    g = np.tanh(a_g)
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def lstm_step(x: np.ndarray, h: np.ndarray, c: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
              b_ih: np.ndarray | None = None, b_hh: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """One fused step: two GEMMs against the stacked weights, then :func:`lstm_pointwise`."""
    a = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        a += b_ih
    if b_hh is not None:
        a += b_hh
    return lstm_pointwise(a, c)


def lstm_step_per_gate(x: np.ndarray, h: np.ndarray, c: np.ndarray, w_ih: np.ndarray,
                       w_hh: np.ndarray, b_ih: np.ndarray | None = None,
                       b_hh: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The same step as the textbook writes it: one GEMM per gate on [x, h].

    Gate k uses W_k = [w_ih_k | w_hh_k] (H, I + H) against xh = [x, h] (B, I + H):
    four GEMMs that each read xh again, and four bias adds.
    """
    H = h.shape[1]
    xh = np.concatenate([x, h], axis=1)
    pre = []
    for k in range(4):
        rows = slice(k * H, (k + 1) * H)
        a = xh @ np.concatenate([w_ih[rows], w_hh[rows]], axis=1).T
        if b_ih is not None:
            a = a + b_ih[rows] + b_hh[rows]
        pre.append(a)
    i, f, o = sigmoid(pre[0]), sigmoid(pre[1]), sigmoid(pre[3])
    c_new = f * c + i * np.tanh(pre[2])
    return o * np.tanh(c_new), c_new

"""How far back does a gradient reach?  Plain tanh RNN against an LSTM.

Put a loss on the last output only, L = <r, h_T>, and backpropagate: the size of
dL/dx_t as t moves away from T shows how much the output can still learn from
input t.  In a plain RNN, h_t = tanh(W_ih x_t + W_hh h_{t-1} + b), every step
multiplies the gradient by diag(1 - h_t^2) W_hh, so its norm shrinks (or grows)
geometrically.  In an LSTM the cell state's path c_{t-1} -> c_t multiplies it
only by the forget gate f_t, element-wise; with f near 1 it survives many steps.
"""
from __future__ import annotations

import numpy as np

from .modules import LSTM


def rnn_tanh_layer(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b: np.ndarray,
                   h0: np.ndarray) -> np.ndarray:
    """Plain RNN (torch.nn.RNN, tanh): x (T, B, I) -> h (T+1, B, H), h[0] = h0."""
    T = x.shape[0]
    h = np.empty((T + 1,) + h0.shape, x.dtype)
    h[0] = h0
    for t in range(T):
        h[t + 1] = np.tanh(x[t] @ w_ih.T + h[t] @ w_hh.T + b)
    return h


def rnn_tanh_input_grads(dh_T: np.ndarray, h: np.ndarray, w_ih: np.ndarray,
                         w_hh: np.ndarray) -> np.ndarray:
    """dL/dx_t (T, B, I) for L depending only on h_T (gradient dh_T), h from :func:`rnn_tanh_layer`."""
    T = h.shape[0] - 1
    dx = np.empty((T, dh_T.shape[0], w_ih.shape[1]), h.dtype)
    dh = dh_T
    for t in range(T - 1, -1, -1):
        da = dh * (1 - h[t + 1] ** 2)
        dx[t] = da @ w_ih
        dh = da @ w_hh
    return dx


def gradient_reach(kind: str, T: int = 100, B: int = 16, I: int = 32, H: int = 64, *,
                   forget_bias: float = 0.0, seed: int = 0) -> np.ndarray:
    """Mean ||dL/dx_t|| over the batch for t = T-1 (distance 0) back to t = 0 (distance T-1).

    kind "rnn" (tanh RNN) or "lstm"; weights drawn as torch does (U(+-1/sqrt(H))).
    ``forget_bias`` is added to the LSTM's forget-gate bias (a common initialisation
    choice; torch adds nothing).  float64, inputs standard normal.  Index k of the
    result is the distance T-1-t.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, I))
    r = rng.standard_normal((B, H))
    if kind == "rnn":
        k = 1 / np.sqrt(H)
        w_ih, w_hh = rng.uniform(-k, k, (H, I)), rng.uniform(-k, k, (H, H))
        b = rng.uniform(-k, k, H) + rng.uniform(-k, k, H)
        h = rnn_tanh_layer(x, w_ih, w_hh, b, np.zeros((B, H)))
        dx = rnn_tanh_input_grads(r, h, w_ih, w_hh)
    elif kind == "lstm":
        lstm = LSTM(I, H, dtype=np.float64, rng=rng)
        lstm.params["bias_ih_l0"][H:2 * H] += forget_bias
        y, _ = lstm(x)
        dy = np.zeros_like(y)
        dy[-1] = r
        dx, _ = lstm.backward(dy)
    else:
        raise ValueError(f"kind must be 'rnn' or 'lstm', got {kind!r}")
    return np.linalg.norm(dx, axis=2).mean(axis=1)[::-1]

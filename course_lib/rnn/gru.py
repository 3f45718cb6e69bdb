"""GRU steps and layers, in the two published forms.

Shapes: x (T, B, I), h0 (B, H), w_ih (3H, I), w_hh (3H, H), biases (3H,); rows in
torch's gate order **r, z, n** (reset, update, new).  With a = x w_ih^T + b_ih:

    r = sigmoid(a_r + h w_hr^T + b_hr)          z = sigmoid(a_z + h w_hz^T + b_hz)
    torch / cuDNN ("torch"):  n = tanh(a_n + r * (h w_hn^T + b_hn))
    original, Cho et al. 2014 ("original"):   n = tanh(a_n + (r * h) w_hn^T + b_hn)
    h' = (1 - z) * n + z * h

In the torch form all three recurrent products h w_h*^T are independent of r, so a
step needs ONE (B, H) x (H, 3H) GEMM; the original form must finish r before the
third product, so it needs two GEMMs per step.  The two forms are different
functions of the same weights (the chapter measures by how much).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nonlin import sigmoid

VARIANTS = ("torch", "original")


@dataclass
class GRUCache:
    """What backward needs from one GRU layer's forward pass.

    x (T, B, I); h (T+1, B, H) with h[0] = h0; acts (T, B, 3H) the activations r, z, n;
    rec_n (T, B, H): h w_hn^T + b_hn for the torch form, r * h for the original form.
    """

    x: np.ndarray
    h: np.ndarray
    acts: np.ndarray
    rec_n: np.ndarray
    w_ih: np.ndarray
    w_hh: np.ndarray
    variant: str


def check_variant(variant: object) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return str(variant)


def gru_step(x: np.ndarray, h: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
             b_ih: np.ndarray | None = None, b_hh: np.ndarray | None = None,
             variant: str = "torch") -> np.ndarray:
    """One GRU step, x (B, I), h (B, H) -> h' (B, H); see the module docstring."""
    H = h.shape[1]
    a = x @ w_ih.T
    if b_ih is not None:
        a = a + b_ih
    bh = np.zeros(3 * H, h.dtype) if b_hh is None else b_hh
    rz_rec = h @ w_hh[:2 * H].T + bh[:2 * H]
    r = sigmoid(a[:, :H] + rz_rec[:, :H])
    z = sigmoid(a[:, H:2 * H] + rz_rec[:, H:])
    if check_variant(variant) == "torch":
        n = np.tanh(a[:, 2 * H:] + r * (h @ w_hh[2 * H:].T + bh[2 * H:]))
    else:
        n = np.tanh(a[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + bh[2 * H:])
    return n + z * (h - n)


def gru_layer(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray | None,
              b_hh: np.ndarray | None, h0: np.ndarray, variant: str = "torch"
              ) -> tuple[np.ndarray, np.ndarray, GRUCache]:
    """GRU layer over a sequence -> y (T, B, H), h_n (B, H), cache.

    The input projection of all steps is one GEMM; per step one recurrent GEMM
    (torch form) or two (original form).
    """
    variant = check_variant(variant)
    T, B, I = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    acts = (np.ascontiguousarray(x).reshape(T * B, I)
            @ np.ascontiguousarray(w_ih.T)).reshape(T, B, 3 * H)
    if b_ih is not None:
        acts += b_ih
    bh = np.zeros(3 * H, dt) if b_hh is None else b_hh
    h = np.empty((T + 1, B, H), dt)
    h[0] = h0
    rec_n = np.empty((T, B, H), dt)
    rec = np.empty((B, 3 * H), dt)
    # contiguous transposed weights: faster small GEMMs than transposed views
    w_hh_T = np.ascontiguousarray(w_hh.T)
    w_rz_T, w_n_T = w_hh_T[:, :2 * H], w_hh_T[:, 2 * H:]
    for t in range(T):
        a = acts[t]
        rz = a[:, :2 * H]
        if variant == "torch":
            np.matmul(h[t], w_hh_T, out=rec)        # all three products in one GEMM
            rec += bh
            rz += rec[:, :2 * H]
            sigmoid(rz, out=rz)
            rec_n[t] = rec[:, 2 * H:]
            a[:, 2 * H:] += a[:, :H] * rec_n[t]
        else:
            rz += h[t] @ w_rz_T + bh[:2 * H]
            sigmoid(rz, out=rz)
            np.multiply(a[:, :H], h[t], out=rec_n[t])
            a[:, 2 * H:] += rec_n[t] @ w_n_T + bh[2 * H:]   # second GEMM waits for r
        n = a[:, 2 * H:]
        np.tanh(n, out=n)
        # h' = (1 - z) n + z h = n + z (h - n)
        np.subtract(h[t], n, out=h[t + 1])
        h[t + 1] *= a[:, H:2 * H]
        h[t + 1] += n
    return h[1:], h[T].copy(), GRUCache(x, h, acts, rec_n, w_ih, w_hh, variant)

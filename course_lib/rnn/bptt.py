"""Backpropagation through time for one LSTM or GRU layer.

The forward pass is a loop h_t = step(x_t, h_{t-1}) with the *same* weights at every
step, so the loss depends on the weights through every step.  Backward walks the
steps in reverse: at step t the gradient reaching h_t is the output's own gradient
dy_t plus what step t+1 sends back through its recurrent product; the step turns
that into gradients of its gate pre-activations.  Weight gradients are sums over
steps, so they are accumulated as ONE GEMM over all T*B rows after the loop; only
the recurrent product (B, nH) x (nH, H) stays inside it.

Cost: about twice the forward GEMM work (dW and dx/dh), plus the cache read once.
"""
from __future__ import annotations

import numpy as np

from .gru import GRUCache
from .lstm import LSTMCache


def _weight_grads(dpre: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """sum_t dpre_t^T @ inputs_t as one GEMM: (T, B, nH), (T, B, K) -> (nH, K)."""
    T, B, n = dpre.shape
    return dpre.reshape(T * B, n).T @ np.ascontiguousarray(inputs).reshape(T * B, -1)


def lstm_layer_backward(dy: np.ndarray, dh_n: np.ndarray, dc_n: np.ndarray, cache: LSTMCache
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """dy (T, B, H), dh_n and dc_n (B, H) -> dx (T, B, I), dh0, dc0 (B, H), grads.

    grads has "w_ih" (4H, I), "w_hh" (4H, H) and "b" (4H,) (the same for b_ih and
    b_hh, which enter the pre-activation as a sum).  With a = i, f, g, o activations:

        dh   = dy_t + (dh from step t+1)
        do   = dh * tanh(c_t)                 -> da_o = do * o (1 - o)
        dc   = (dc from t+1) + dh * o * (1 - tanh(c_t)^2)
        da_i = dc * g * i (1 - i)      da_f = dc * c_{t-1} * f (1 - f)
        da_g = dc * i * (1 - g^2)
        dc_{t-1} = dc * f              dh_{t-1} = da @ w_hh
    """
    acts, c, tanh_c = cache.acts, cache.c, cache.tanh_c
    T, B, H4 = acts.shape
    H = H4 // 4
    # gate k of i, f, g, o sits in block cache.blocks[k] of acts (and of dpre)
    si, sf, sg, so = (slice(k * H, (k + 1) * H) for k in cache.blocks)
    rows = cache.rows()
    w_hh = cache.w_hh[rows]                 # weights in the cache's gate order
    # Everything that does not depend on the incoming gradients is computed for all
    # steps at once, so the sequential loop is left with 9 NumPy calls per step.
    # dpre starts as the factor that multiplies dc (for i, f, g) or dh (for o):
    I_, F_, G_, O_ = acts[..., si], acts[..., sf], acts[..., sg], acts[..., so]
    dpre = np.empty_like(acts)
    dpre[..., si] = G_ * I_ * (1 - I_)
    dpre[..., sf] = c[:-1] * F_ * (1 - F_)
    dpre[..., sg] = I_ * (1 - G_ * G_)
    dpre[..., so] = tanh_c * O_ * (1 - O_)
    dc_from_dh = O_ * (1 - tanh_c * tanh_c)          # d c_t / d h_t through h = o tanh(c)
    dh = np.array(dh_n, dtype=acts.dtype, copy=True)
    dc = np.array(dc_n, dtype=acts.dtype, copy=True)
    buf = np.empty_like(dh)
    for t in range(T - 1, -1, -1):
        dh += dy[t]
        d = dpre[t]
        np.multiply(dh, dc_from_dh[t], out=buf)
        dc += buf
        for s_ in (si, sf, sg):
            np.multiply(d[:, s_], dc, out=d[:, s_])
        np.multiply(d[:, so], dh, out=d[:, so])
        dc *= acts[t, :, sf]                          # dc_{t-1} = dc_t * f_t
        np.dot(d, w_hh, out=dh)                       # dh_{t-1}
    inv = np.empty_like(rows)
    inv[rows] = np.arange(H4)               # back to torch's row order
    grads = {"w_ih": _weight_grads(dpre, cache.x)[inv],
             "w_hh": _weight_grads(dpre, cache.h[:-1])[inv],
             "b": dpre.sum(axis=(0, 1))[inv]}
    dx = (dpre.reshape(T * B, H4) @ cache.w_ih[rows]).reshape(T, B, -1)
    return dx, dh, dc, grads


def gru_layer_backward(dy: np.ndarray, dh_n: np.ndarray, cache: GRUCache
                       ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """dy (T, B, H), dh_n (B, H) -> dx (T, B, I), dh0 (B, H), grads.

    grads: "w_ih" (3H, I), "w_hh" (3H, H), "b_ih" (3H,), "b_hh" (3H,).  The r and z
    blocks of the two biases get the same gradient; the n blocks differ because r
    multiplies only the recurrent part.  With h' = n + z (h - n):

        dn = dh (1 - z)     dz = dh (h - n)     dh_prev = dh z + ...
        da_n = dn (1 - n^2)
        torch variant:    n = tanh(a_n + r * (w_hn h + b_hn))
            dr = da_n * (w_hn h + b_hn),   d(w_hn h + b_hn) = da_n * r
        original variant: n = tanh(a_n + w_hn (r * h) + b_hn)
            d(r h) = da_n @ w_hn,  dr = d(r h) * h,  dh_prev += d(r h) * r
    """
    acts, h = cache.acts, cache.h
    T, B, H3 = acts.shape
    H = H3 // 3
    w_hh = cache.w_hh
    d_in = np.empty_like(acts)          # gradients of the input-side pre-activations
    d_rec = np.empty_like(acts)         # gradients of the recurrent products (+ b_hh)
    dh = np.array(dh_n, dtype=acts.dtype, copy=True)
    torch_form = cache.variant == "torch"
    for t in range(T - 1, -1, -1):
        dh += dy[t]
        r, z, n = (acts[t, :, k * H:(k + 1) * H] for k in range(3))
        hp = h[t]
        dn = dh * (1 - z)
        dz = dh * (hp - n)
        dan = dn * (1 - n * n)
        dh_prev = dh * z
        if torch_form:
            dr = dan * cache.rec_n[t]
            d_rec[t, :, 2 * H:] = dan * r
        else:
            drh = dan @ w_hh[2 * H:]
            dr = drh * hp
            dh_prev += drh * r
            d_rec[t, :, 2 * H:] = dan
        d_in[t, :, :H] = d_rec[t, :, :H] = dr * r * (1 - r)
        d_in[t, :, H:2 * H] = d_rec[t, :, H:2 * H] = dz * z * (1 - z)
        d_in[t, :, 2 * H:] = dan
        if torch_form:
            dh_prev += d_rec[t] @ w_hh
        else:
            dh_prev += d_rec[t, :, :2 * H] @ w_hh[:2 * H]
        dh = dh_prev
    if torch_form:
        dw_hh = _weight_grads(d_rec, h[:-1])
    else:
        dw_hh = np.concatenate([_weight_grads(d_rec[:, :, :2 * H], h[:-1]),
                                _weight_grads(d_rec[:, :, 2 * H:], cache.rec_n)])
    grads = {"w_ih": _weight_grads(d_in, cache.x), "w_hh": dw_hh,
             "b_ih": d_in.sum(axis=(0, 1)), "b_hh": d_rec.sum(axis=(0, 1))}
    dx = (d_in.reshape(T * B, H3) @ cache.w_ih).reshape(T, B, -1)
    return dx, dh, grads

"""Exercise 16.3b -- the backward pass of one GRU step (PyTorch's formulation).

Forward (torch.nn.GRUCell; rows of the stacked weights in the order r, z, n):

    a = x @ w_ih.T + b_ih            (B, 3H)   split into a_r, a_z, a_n
    u = h @ w_hh.T + b_hh            (B, 3H)   split into u_r, u_z, u_n
    r = sigmoid(a_r + u_r)
    z = sigmoid(a_z + u_z)
    n = tanh(a_n + r * u_n)          # reset gate applied AFTER the recurrent product
    h_new = (1 - z) * n + z * h

Given dL/dh_new, return the gradients of L with respect to x, h and the four
parameters.  Recompute what you need from the forward pass first.
Useful: sigmoid' = s (1 - s), tanh' = 1 - t^2.

Plain NumPy only.  Keep the dtype of the inputs.
"""
from __future__ import annotations

import numpy as np


def sigmoid(a):
    """Logistic function; written with tanh so that it cannot overflow in float32."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def gru_step_backward(dh_new, x, h, w_ih, w_hh, b_ih, b_hh):
    """Gradients of one GRU step.

    Args:
        dh_new: (B, H) dL/dh_new.
        x: (B, I), h: (B, H) the step's inputs.
        w_ih: (3H, I), w_hh: (3H, H), b_ih, b_hh: (3H,) -- rows r, z, n.

    Returns:
        (dx, dh, dw_ih, dw_hh, db_ih, db_hh) with the shapes of
        (x, h, w_ih, w_hh, b_ih, b_hh).  The inputs are not modified.
    """
    # BEGIN SOLUTION: recompute a, u, r, z, n as in the module docstring. Then
    # dn = dh_new * (1 - z); dz = dh_new * (h - n); da_n = dn * (1 - n**2);
    # dr = da_n * u_n; da_r = dr * r * (1 - r); da_z = dz * z * (1 - z).
    # Input side da = [da_r, da_z, da_n]; recurrent side du = [da_r, da_z, da_n * r].
    # dx = da @ w_ih, dh = dh_new * z + du @ w_hh, dw_ih = da.T @ x, dw_hh = du.T @ h,
    # db_ih = da.sum(0), db_hh = du.sum(0).
    H = h.shape[1]
    a = x @ w_ih.T + b_ih
    u = h @ w_hh.T + b_hh
    r = sigmoid(a[:, :H] + u[:, :H])
    z = sigmoid(a[:, H:2 * H] + u[:, H:2 * H])
    n = np.tanh(a[:, 2 * H:] + r * u[:, 2 * H:])
    dn = dh_new * (1 - z)
    dz = dh_new * (h - n)
    da_n = dn * (1 - n * n)
    dr = da_n * u[:, 2 * H:]
    da_r = dr * r * (1 - r)
    da_z = dz * z * (1 - z)
    da = np.concatenate([da_r, da_z, da_n], axis=1)
    du = np.concatenate([da_r, da_z, da_n * r], axis=1)
    dx = da @ w_ih
    dh = dh_new * z + du @ w_hh
    return dx, dh, da.T @ x, du.T @ h, da.sum(axis=0), du.sum(axis=0)
    # END SOLUTION

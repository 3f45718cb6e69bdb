"""Exercise 16.3a -- one fused LSTM step, with PyTorch's weights.

PyTorch stacks the four gate blocks of an LSTM into one matrix, rows in the order
i, f, g, o (input gate, forget gate, cell candidate, output gate):

    w_ih (4H, I), w_hh (4H, H), b_ih (4H,), b_hh (4H,)

so ONE product x @ w_ih.T plus ONE product h @ w_hh.T give all four pre-activations
at once, a (B, 4H) block:

    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i = sigmoid(a[:, 0:H])     f = sigmoid(a[:, H:2H])
    g = tanh(a[:, 2H:3H])      o = sigmoid(a[:, 3H:4H])
    c_new = f * c + i * g
    h_new = o * tanh(c_new)

Plain NumPy only.  Keep the dtype of the inputs (float32 stays float32).
"""
from __future__ import annotations

import numpy as np


def sigmoid(a):
    """Logistic function; written with tanh so that it cannot overflow in float32."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def lstm_step_fused(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM time step with stacked (fused) gate weights.

    Args:
        x: (B, I) input at this step.
        h, c: (B, H) hidden and cell state of the previous step.
        w_ih: (4H, I), w_hh: (4H, H), b_ih, b_hh: (4H,) -- torch's layout, rows i, f, g, o.

    Returns:
        (h_new, c_new), both (B, H), dtype of x.  The inputs are not modified.
    """
    # BEGIN SOLUTION: compute the (B, 4H) pre-activations with one product per weight matrix,
    # a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh; split the columns into i, f, g, o (H each,
    # in that order); i, f, o use sigmoid (given above), g uses np.tanh; then
    # c_new = f * c + i * g and h_new = o * np.tanh(c_new). Return (h_new, c_new).
    H = h.shape[1]
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return h_new, c_new
    # END SOLUTION

"""Exercise 16.3c -- from PyTorch's stacked LSTM weights to one matrix per gate.

Many texts write each gate with its own matrix acting on the concatenation
[h_{t-1}, x_t] (hidden state FIRST, then the input):

    f_t = sigmoid(W_f @ [h_{t-1}, x_t] + b_f)        W_f: (H, H + I), b_f: (H,)

PyTorch stores the same numbers differently: two stacked matrices
w_ih (4H, I) and w_hh (4H, H) with gate blocks of H rows in the order
i, f, g, o, and two bias vectors b_ih, b_hh (4H,) that are simply added.

Plain NumPy only.
"""
from __future__ import annotations

import numpy as np

GATES = ("i", "f", "g", "o")


def split_lstm_weights(w_ih, w_hh, b_ih, b_hh):
    """Split torch's stacked LSTM parameters into per-gate (W, b) for the [h, x] form.

    Args:
        w_ih: (4H, I), w_hh: (4H, H), b_ih: (4H,), b_hh: (4H,).

    Returns:
        dict with keys "i", "f", "g", "o"; each value a pair (W, b) with
        W of shape (H, H + I) -- columns 0..H-1 act on h, columns H.. act on x --
        and b of shape (H,) = the gate's part of b_ih + b_hh.  New arrays (not views
        of the inputs), dtype of w_ih.
    """
    # BEGIN SOLUTION: for gate k = 0, 1, 2, 3 (names "i", "f", "g", "o") take rows
    # k*H:(k+1)*H of each torch array; W = np.concatenate([w_hh rows, w_ih rows], axis=1)
    # (h first!), b = b_ih rows + b_hh rows. Return {"i": (W, b), "f": ..., ...}.
    H = w_hh.shape[1]
    out = {}
    for k, name in enumerate(GATES):
        rows = slice(k * H, (k + 1) * H)
        W = np.concatenate([w_hh[rows], w_ih[rows]], axis=1)
        out[name] = (W, b_ih[rows] + b_hh[rows])
    return out
    # END SOLUTION

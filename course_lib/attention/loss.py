"""Cross-entropy loss over the last axis, fused with its softmax gradient.

For logits z (..., C) and integer targets t (...): loss = mean over positions of
``logsumexp(z) - z[t]``.  Its gradient is ``(softmax(z) - onehot(t)) / M`` for M
positions -- the softmax Jacobian and the log cancel, which is why the two are
always computed together.
"""
from __future__ import annotations

import numpy as np


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross entropy of ``logits`` (..., C) against ``targets`` (...); returns (loss, dlogits)."""
    targets = np.asarray(targets)
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits (..., C) and targets (...) disagree: logits {logits.shape}, "
                         f"targets {targets.shape}")
    C = logits.shape[-1]
    z = logits.reshape(-1, C)
    t = targets.reshape(-1)
    z = z - z.max(axis=1, keepdims=True)               # stable log-sum-exp
    lse = np.log(np.exp(z).sum(axis=1))
    M = z.shape[0]
    loss = float(np.mean(lse - z[np.arange(M), t]))
    p = np.exp(z - lse[:, None])
    p[np.arange(M), t] -= 1.0
    return loss, (p / M).reshape(logits.shape).astype(logits.dtype)

"""Adam (Kingma & Ba, 2015), as ``torch.optim.Adam`` with its default options.

For each parameter p with gradient g, at step t = 1, 2, ...::

    m = b1 m + (1 - b1) g            first moment (momentum)
    v = b2 v + (1 - b2) g^2          second moment
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

The bias corrections undo the zero start of m and v.  ``weight_decay`` adds
``wd * p`` to g first (torch's L2 form, not AdamW).  Updates are in place, so a
module's ``params`` see them directly.
"""
from __future__ import annotations

import numpy as np


class Adam:
    """Adam over a dict of named arrays (e.g. ``module.named_parameters()``)."""

    def __init__(self, params: dict[str, np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        if not lr > 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1) or not eps > 0:
            raise ValueError(f"need lr > 0, 0 <= betas < 1, eps > 0; got lr={lr}, "
                             f"betas={betas}, eps={eps}")
        self.params = params
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.t = 0

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """One update from ``grads`` (same keys as the parameters)."""
        missing = set(self.params) - set(grads)
        if missing:
            raise ValueError(f"no gradient for {sorted(missing)}")
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for k, p in self.params.items():
            g = grads[k]
            if self.weight_decay:
                g = g + self.weight_decay * p
            m, v = self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (self.lr / c1) * m / (np.sqrt(v / c2) + self.eps)

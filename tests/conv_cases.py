"""Shared convolution test cases and the PyTorch reference (imported by tests/test_conv_*.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)  # pytest-xdist already uses every core

TOL = {np.float32: 1e-4, np.float64: 1e-10}


@dataclass(frozen=True)
class Case:
    B: int
    C_in: int
    C_out: int
    H: int
    W: int
    KH: int
    KW: int
    stride: object
    padding: object
    bias: bool = True

    def pairs(self):
        s = self.stride if isinstance(self.stride, tuple) else (self.stride,) * 2
        p = self.padding if isinstance(self.padding, tuple) else (self.padding,) * 2
        return s, p

    @property
    def leftover(self) -> tuple[int, int]:
        """(H + 2p - K) % s for both axes: rows/cols the last window does not reach."""
        (sh, sw), (ph, pw) = self.pairs()
        return (self.H + 2 * ph - self.KH) % sh, (self.W + 2 * pw - self.KW) % sw

    def __str__(self):
        return (f"B{self.B}_Ci{self.C_in}_Co{self.C_out}_{self.H}x{self.W}_k{self.KH}x{self.KW}"
                f"_s{self.stride}_p{self.padding}{'' if self.bias else '_nobias'}")

    def arrays(self, dtype, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((self.B, self.C_in, self.H, self.W)).astype(dtype)
        w = rng.standard_normal((self.C_out, self.C_in, self.KH, self.KW)).astype(dtype)
        b = rng.standard_normal(self.C_out).astype(dtype) if self.bias else None
        return x, w, b


STRIDES = [1, 2, 3, (1, 2), (2, 1), (3, 2)]
PADDINGS = [0, 1, 2, 3, (0, 1), (2, 0), (1, 3)]

# Hand-picked corners, then seeded random cases.
EDGE_CASES = [
    Case(1, 1, 1, 5, 5, 3, 3, 1, 0),           # batch 1, one channel
    Case(2, 3, 4, 6, 9, 1, 1, 1, 0),           # 1x1 kernel, non-square image
    Case(1, 2, 3, 7, 7, 1, 1, 2, 2),           # padding > K - 1
    Case(2, 2, 2, 4, 3, 6, 5, 1, 1),           # kernel = padded input -> 1x1 output
    Case(1, 2, 3, 8, 8, 3, 3, 3, 1),           # (8 + 2 - 3) % 3 = 1, with padding
    Case(2, 3, 2, 9, 10, 2, 4, (1, 2), (0, 3)),  # rectangular kernel, pair stride/padding
    Case(1, 1, 2, 1, 1, 1, 1, 1, 0),           # 1x1 image
    Case(2, 2, 2, 5, 6, 3, 2, 2, 1, bias=False),
]


def random_cases(n: int = 40, seed: int = 1234) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        stride = STRIDES[rng.integers(len(STRIDES))]
        padding = PADDINGS[rng.integers(len(PADDINGS))]
        c = Case(int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                 int(rng.integers(1, 11)), int(rng.integers(1, 11)),
                 int(rng.integers(1, 5)), int(rng.integers(1, 5)), stride, padding,
                 bias=bool(rng.integers(0, 4)))
        (_, _), (ph, pw) = c.pairs()
        if c.KH <= c.H + 2 * ph and c.KW <= c.W + 2 * pw:
            cases.append(c)
    return cases


CASES = EDGE_CASES + random_cases()
# tiny shapes for central differences (2 * size forward calls per tensor)
TINY_CASES = [c for c in CASES if c.B * c.C_in * c.H * c.W <= 60 and c.C_out * c.C_in * c.KH * c.KW <= 40][:12]


def torch_forward_backward(x, w, b, stride, padding, dy=None):
    """PyTorch's y and, when dy is given, autograd's (dx, dw, db) in the inputs' dtype."""
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    yt = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    if dy is None:
        return yt.detach().numpy()
    yt.backward(torch.tensor(dy))
    db = None if bt is None else bt.grad.numpy()
    return yt.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), db


def assert_close(actual, ref, dtype, what=""):
    """Elementwise, with the absolute part scaled by the reference's largest entry."""
    tol = TOL[dtype]
    np.testing.assert_allclose(actual, ref, rtol=tol, atol=tol * max(1.0, float(np.abs(ref).max(initial=0))),
                               err_msg=what)

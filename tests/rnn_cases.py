"""Shared recurrent-layer test cases and PyTorch references (imported by tests/test_rnn_*.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

torch.set_num_threads(1)  # pytest-xdist already uses every core

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}
TDT = {np.float32: torch.float32, np.float64: torch.float64}


@dataclass(frozen=True)
class Case:
    T: int
    B: int          # 0 means one unbatched sequence
    I: int
    H: int
    L: int = 1
    bias: bool = True
    batch_first: bool = False
    with_state: bool = True

    def __str__(self):
        b = "unbatched" if self.B == 0 else f"B{self.B}"
        return (f"T{self.T}_{b}_I{self.I}_H{self.H}_L{self.L}{'' if self.bias else '_nobias'}"
                f"{'_bf' if self.batch_first else ''}{'' if self.with_state else '_nostate'}")

    def x_shape(self):
        if self.B == 0:
            return (self.T, self.I)
        return (self.B, self.T, self.I) if self.batch_first else (self.T, self.B, self.I)

    def state_shape(self):
        return (self.L, self.H) if self.B == 0 else (self.L, self.B, self.H)

    def y_shape(self):
        return self.x_shape()[:-1] + (self.H,)


EDGE = [
    Case(1, 1, 1, 1),                         # everything 1
    Case(5, 0, 3, 4),                         # unbatched
    Case(4, 0, 3, 2, L=2, with_state=False),  # unbatched, 2 layers, zero state
    Case(3, 2, 4, 5, batch_first=True),
    Case(6, 3, 2, 3, L=3, bias=False),
    Case(2, 4, 7, 1, L=2, batch_first=True, with_state=False),
]


def random_cases(n: int, seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    return [Case(int(rng.integers(1, 9)), int(rng.integers(0, 5)), int(rng.integers(1, 9)),
                 int(rng.integers(1, 9)), int(rng.integers(1, 4)), bool(rng.integers(0, 4)),
                 bool(rng.integers(0, 2)), bool(rng.integers(0, 3))) for _ in range(n)]


CASES = EDGE + random_cases(14, seed=163)


def arrays(case: Case, dtype, seed: int = 0, n_states: int = 2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.x_shape()).astype(dtype)
    states = [rng.standard_normal(case.state_shape()).astype(dtype) for _ in range(n_states)]
    return x, states


def torch_run(module, x, states, dy, dstates):
    """Forward and autograd backward of a torch RNN module with sum(y*dy) + sum(h_n*dh_n)...

    Returns (y, finals, dx, dstates0, {param name: grad}) as NumPy arrays.
    """
    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in states] if states else None
    if st is None:
        y, fin = module(xt)
    else:
        y, fin = module(xt, tuple(st) if len(st) == 2 else st[0])
    fin = list(fin) if isinstance(fin, tuple) else [fin]
    loss = (y * torch.tensor(dy)).sum()
    for f, d in zip(fin, dstates):
        loss = loss + (f * torch.tensor(d)).sum()
    loss.backward()
    grads = {k: p.grad.numpy() for k, p in module.named_parameters()}
    d0 = [s.grad.numpy() for s in st] if st else []
    return (y.detach().numpy(), [f.detach().numpy() for f in fin], xt.grad.numpy(), d0, grads)


def torch_gru_original(x, h0, params, L):
    """Independent torch-ops reference for the original (Cho et al.) GRU, float64, (T, B, I) input."""
    xt = torch.tensor(x, requires_grad=True)
    pt = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h0t = torch.tensor(h0, requires_grad=True)
    inp = xt
    finals = []
    for layer in range(L):
        w_ih, w_hh = pt[f"weight_ih_l{layer}"], pt[f"weight_hh_l{layer}"]
        b_ih = pt.get(f"bias_ih_l{layer}", torch.zeros(w_ih.shape[0], dtype=xt.dtype))
        b_hh = pt.get(f"bias_hh_l{layer}", torch.zeros(w_ih.shape[0], dtype=xt.dtype))
        Wr, Wz, Wn = w_ih.chunk(3)
        Ur, Uz, Un = w_hh.chunk(3)
        br, bz, bn = b_ih.chunk(3)
        cr, cz, cn = b_hh.chunk(3)
        h, outs = h0t[layer], []
        for t in range(inp.shape[0]):
            r = torch.sigmoid(inp[t] @ Wr.T + br + h @ Ur.T + cr)
            z = torch.sigmoid(inp[t] @ Wz.T + bz + h @ Uz.T + cz)
            n = torch.tanh(inp[t] @ Wn.T + bn + (r * h) @ Un.T + cn)
            h = (1 - z) * n + z * h
            outs.append(h)
        inp = torch.stack(outs)
        finals.append(h)
    return xt, h0t, pt, inp, torch.stack(finals)

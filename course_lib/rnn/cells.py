"""Single-step cells with ``torch.nn.LSTMCell`` / ``torch.nn.GRUCell``'s interface.

    cell = LSTMCell(I, H)
    h1, c1 = cell(x, (h0, c0))      # x (B, I) or (I,); states (B, H) or (H,)
    gcell = GRUCell(I, H)
    h1 = gcell(x, h0)

Parameters ``weight_ih`` (nH, I), ``weight_hh`` (nH, H), ``bias_ih``, ``bias_hh`` (nH,)
with n = 4 (rows i, f, g, o) or 3 (rows r, z, n); they are attributes and also in
``.params``.  A cell is one step of the corresponding layer: forward only (the layers
do backpropagation through time).
"""
from __future__ import annotations

import numpy as np

from ._args import check_cell_input, check_cell_state, check_dtype, check_size
from .gru import check_variant, gru_step
from .init import init_weight
from .lstm_step import lstm_step

_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class _Cell:
    n_gates = 0
    torch_name = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=np.float32, *,
                 init: str = "torch", seed: int | None = None,
                 rng: np.random.Generator | None = None):
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.bias = bool(bias)
        self.dtype = check_dtype(dtype)
        rng = rng if rng is not None else np.random.default_rng(seed)
        nH = self.n_gates * self.hidden_size
        shapes = [(nH, self.input_size), (nH, self.hidden_size)] + [(nH,)] * (2 * self.bias)
        self.params = {name: init_weight(rng, s, init, self.hidden_size, self.n_gates, self.dtype)
                       for name, s in zip(_NAMES, shapes)}

    def __getattr__(self, name):
        if name in _NAMES:
            return self.__dict__["params"].get(name)
        raise AttributeError(name)

    def _state(self, name, s, x, unbatched):
        if s is None:
            return np.zeros((x.shape[0], self.hidden_size), self.dtype)
        return check_cell_state(name, s, x.shape[0], self.hidden_size, self.dtype, unbatched)

    @classmethod
    def from_torch(cls, module, **kwargs):
        """A cell holding a copy of a ``torch.nn.LSTMCell`` / ``GRUCell``'s weights."""
        import torch
        if not isinstance(module, getattr(torch.nn, cls.torch_name)):
            raise TypeError(f"{cls.__name__}.from_torch needs a torch.nn.{cls.torch_name}, "
                            f"got {type(module).__name__}")
        dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(module.weight_ih.dtype)
        if dtype is None:
            raise TypeError(f"module parameters must be float32 or float64, "
                            f"got {module.weight_ih.dtype}")
        cell = cls(module.input_size, module.hidden_size, module.bias, dtype, **kwargs)
        cell.params = {k: v.detach().cpu().numpy().astype(dtype)
                       for k, v in module.named_parameters()}
        return cell

    def to_torch(self):
        """The equivalent torch cell (CPU, same dtype) with these weights."""
        import torch
        tdt = torch.float64 if self.dtype == np.float64 else torch.float32
        module = getattr(torch.nn, self.torch_name)(self.input_size, self.hidden_size,
                                                    bias=self.bias, dtype=tdt)
        with torch.no_grad():
            for name, p in module.named_parameters():
                p.copy_(torch.from_numpy(np.ascontiguousarray(self.params[name])))
        return module

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.input_size}, {self.hidden_size}, "
                f"bias={self.bias}, dtype={self.dtype})")


class LSTMCell(_Cell):
    """One LSTM step: ``cell(x, (h, c)) -> (h', c')`` (zeros when the state is None)."""

    n_gates = 4
    torch_name = "LSTMCell"

    def forward(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        x, unbatched = check_cell_input(x, self.input_size, self.dtype)
        h, c = (None, None) if hx is None else hx
        h = self._state("h", h, x, unbatched)
        c = self._state("c", c, x, unbatched)
        p = self.params
        h1, c1 = lstm_step(x, h, c, p["weight_ih"], p["weight_hh"], p.get("bias_ih"),
                           p.get("bias_hh"))
        return (h1[0], c1[0]) if unbatched else (h1, c1)

    __call__ = forward


class GRUCell(_Cell):
    """One GRU step: ``cell(x, h) -> h'``; ``variant`` as in :class:`~course_lib.rnn.GRU`."""

    n_gates = 3
    torch_name = "GRUCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=np.float32, *,
                 variant: str = "torch", **kwargs):
        self.__dict__["variant"] = check_variant(variant)
        super().__init__(input_size, hidden_size, bias, dtype, **kwargs)

    def forward(self, x: np.ndarray, hx: np.ndarray | None = None):
        x, unbatched = check_cell_input(x, self.input_size, self.dtype)
        h = self._state("h", hx, x, unbatched)
        p = self.params
        h1 = gru_step(x, h, p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh"),
                      self.variant)
        return h1[0] if unbatched else h1

    __call__ = forward

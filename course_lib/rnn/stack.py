"""What LSTM and GRU layers share: parameters under torch's names, layouts, conversion.

A stack of ``num_layers`` recurrent layers; layer l reads the output sequence of
layer l-1 (layer 0 reads x).  Parameters live in ``.params`` under the names of
``torch.nn.LSTM`` / ``torch.nn.GRU``: ``weight_ih_l{l}`` (nH, I or H),
``weight_hh_l{l}`` (nH, H), ``bias_ih_l{l}``, ``bias_hh_l{l}`` (nH,), with n = 4
(LSTM) or 3 (GRU) gate blocks stacked in torch's order.  After ``backward`` the
gradients are in ``.grads`` under the same names.

Not supported (as in the course text): bidirectional layers, LSTM projections
(``proj_size``), dropout between layers.
"""
from __future__ import annotations

import numpy as np

from ._args import check_dtype, check_sequence, check_size, check_state
from .init import init_weight


class RecurrentStack:
    """Base class of :class:`~course_lib.rnn.LSTM` and :class:`~course_lib.rnn.GRU`."""

    n_gates = 0            # set by subclasses
    torch_name = ""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dtype=np.float32, *, init: str = "torch",
                 seed: int | None = None, rng: np.random.Generator | None = None):
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.num_layers = check_size("num_layers", num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dtype = check_dtype(dtype)
        rng = rng if rng is not None else np.random.default_rng(seed)
        H, n = self.hidden_size, self.n_gates
        self.params: dict[str, np.ndarray] = {}
        for layer in range(self.num_layers):
            fan_in = self.input_size if layer == 0 else H
            shapes = {"weight_ih": (n * H, fan_in), "weight_hh": (n * H, H)}
            if self.bias:
                shapes.update(bias_ih=(n * H,), bias_hh=(n * H,))
            for name, shape in shapes.items():   # torch's parameter order
                self.params[f"{name}_l{layer}"] = init_weight(rng, shape, init, H, n, self.dtype)
        self.grads: dict[str, np.ndarray] = {}
        self._caches: list | None = None
        self._shape: tuple | None = None

    # -- parameters -------------------------------------------------------------
    def layer_params(self, layer: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                                np.ndarray | None]:
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer (biases None without bias)."""
        p = self.params
        return (p[f"weight_ih_l{layer}"], p[f"weight_hh_l{layer}"],
                p.get(f"bias_ih_l{layer}"), p.get(f"bias_hh_l{layer}"))

    def num_parameters(self) -> int:
        return int(sum(a.size for a in self.params.values()))

    @classmethod
    def _torch_class(cls):
        import torch
        return getattr(torch.nn, cls.torch_name)

    @classmethod
    def from_torch(cls, module, **kwargs):
        """A layer holding a copy of ``module``'s weights (float32 or float64 module)."""
        import torch
        if not isinstance(module, cls._torch_class()):
            raise TypeError(f"{cls.__name__}.from_torch needs a torch.nn.{cls.torch_name}, "
                            f"got {type(module).__name__}")
        if module.bidirectional or getattr(module, "proj_size", 0) or module.dropout:
            raise ValueError("bidirectional, proj_size and dropout are not supported "
                             f"(module: {module})")
        p0 = module.weight_ih_l0
        dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(p0.dtype)
        if dtype is None:
            raise TypeError(f"module parameters must be float32 or float64, got {p0.dtype}")
        layer = cls(module.input_size, module.hidden_size, module.num_layers, module.bias,
                    module.batch_first, dtype, **kwargs)
        state = {k: v.detach().cpu().numpy() for k, v in module.named_parameters()}
        if set(state) != set(layer.params):
            raise ValueError(f"parameter names differ: module {sorted(state)}, "
                             f"layer {sorted(layer.params)}")
        layer.params = {k: np.array(state[k], dtype=dtype) for k in layer.params}
        return layer

    def to_torch(self):
        """The equivalent ``torch.nn.LSTM`` / ``torch.nn.GRU`` (CPU, same dtype) with these weights."""
        import torch
        tdt = torch.float64 if self.dtype == np.float64 else torch.float32
        module = self._torch_class()(self.input_size, self.hidden_size, self.num_layers,
                                     bias=self.bias, batch_first=self.batch_first, dtype=tdt)
        with torch.no_grad():
            for name, p in module.named_parameters():
                p.copy_(torch.from_numpy(np.ascontiguousarray(self.params[name])))
        return module

    # -- layouts ----------------------------------------------------------------
    def _prepare(self, x, states: dict[str, object]):
        """Check x and the initial states; return x (T, B, I), states (L, B, H), unbatched."""
        x, unbatched = check_sequence(x, self.input_size, self.dtype, self.batch_first)
        B = x.shape[1]
        out = {}
        for name, s in states.items():
            if s is None:
                out[name] = np.zeros((self.num_layers, B, self.hidden_size), self.dtype)
            else:
                out[name] = check_state(name, s, self.num_layers, B, self.hidden_size,
                                        self.dtype, unbatched)
        return x, out, unbatched

    def _seq_out(self, y: np.ndarray, unbatched: bool) -> np.ndarray:
        """(T, B, H) -> the caller's layout."""
        if unbatched:
            return y[:, 0].copy()
        return np.ascontiguousarray(y.transpose(1, 0, 2)) if self.batch_first else y

    def _seq_in(self, dy: np.ndarray, unbatched: bool) -> np.ndarray:
        """The caller's layout -> (T, B, H)."""
        if unbatched:
            return dy[:, None, :]
        return dy.transpose(1, 0, 2) if self.batch_first else dy

    def _state_out(self, s: np.ndarray, unbatched: bool) -> np.ndarray:
        return s[:, 0].copy() if unbatched else s

    def _check_backward(self):
        if self._caches is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward "
                               "(no cached activations)")

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.input_size}, {self.hidden_size}, "
                f"num_layers={self.num_layers}, bias={self.bias}, "
                f"batch_first={self.batch_first}, dtype={self.dtype})")

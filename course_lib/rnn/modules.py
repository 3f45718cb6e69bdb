"""``LSTM`` and ``GRU``: multi-layer recurrent layers with torch's interface and BPTT.

    lstm = LSTM(I, H, num_layers=2)
    y, (h_n, c_n) = lstm(x, (h0, c0))        # x (T, B, I) -> y (T, B, H); states (L, B, H)
    dx, (dh0, dc0) = lstm.backward(dy)       # lstm.grads["weight_hh_l1"] ...

    gru = GRU(I, H)
    y, h_n = gru(x, h0)
    dx, dh0 = gru.backward(dy)

``batch_first=True`` uses (B, T, ·) for x, y, dx and dy (states stay (L, B, H)); a 2-D
x (T, I) is one unbatched sequence, with states (L, H).  Cost per call: T steps of
each layer, 4H(I + H) (LSTM) or 3H(I + H) (GRU) multiply-adds per sequence and step;
backward about twice that.
"""
from __future__ import annotations

import numpy as np

from ._args import check_grad
from .bptt import gru_layer_backward, lstm_layer_backward
from .gru import check_variant, gru_layer
from .lstm import lstm_layer_fused, lstm_layer_per_gate
from .stack import RecurrentStack

FORMULATIONS = {"fused": lstm_layer_fused, "per_gate": lstm_layer_per_gate}


class LSTM(RecurrentStack):
    """``torch.nn.LSTM`` in NumPy (gate rows i, f, g, o), forward and backward.

    ``formulation="fused"`` (default): one input-projection GEMM per layer, then one
    recurrent GEMM per step; ``"per_gate"``: four GEMMs per step on [x_t, h].  Both
    give the same result to rounding.
    """

    n_gates = 4
    torch_name = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dtype=np.float32, *, formulation: str = "fused",
                 **kwargs):
        if formulation not in FORMULATIONS:
            raise ValueError(f"formulation must be one of {tuple(FORMULATIONS)}, "
                             f"got {formulation!r}")
        self.formulation = formulation
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dtype, **kwargs)

    def forward(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        """x -> (y, (h_n, c_n)); ``hx = (h0, c0)`` or None for zeros."""
        if hx is None:
            h0 = c0 = None
        elif isinstance(hx, tuple) and len(hx) == 2:
            h0, c0 = hx
        else:
            raise TypeError(f"hx must be a pair (h0, c0) or None, got {type(hx).__name__}")
        if (h0 is None) != (c0 is None):
            raise TypeError("give both h0 and c0, or neither")
        x, st, unbatched = self._prepare(x, {"h0": h0, "c0": c0})
        layer_fn = FORMULATIONS[self.formulation]
        caches, hs, cs, inp = [], [], [], x
        for layer in range(self.num_layers):
            inp, h_n, c_n, cache = layer_fn(inp, *self.layer_params(layer),
                                            st["h0"][layer], st["c0"][layer])
            caches.append(cache)
            hs.append(h_n)
            cs.append(c_n)
        self._caches, self._shape = caches, (x.shape, unbatched)
        h_n, c_n = np.stack(hs), np.stack(cs)
        return (self._seq_out(inp, unbatched),
                (self._state_out(h_n, unbatched), self._state_out(c_n, unbatched)))

    __call__ = forward

    def backward(self, dy: np.ndarray, dh_n: np.ndarray | None = None,
                 dc_n: np.ndarray | None = None):
        """Gradients of the last forward call -> (dx, (dh0, dc0)); fills ``.grads``.

        dy has y's shape; dh_n, dc_n have h_n's shape (None: zero).
        """
        self._check_backward()
        (T, B, _), unbatched = self._shape
        y_shape = (T, self.hidden_size) if unbatched else (
            (B, T, self.hidden_size) if self.batch_first else (T, B, self.hidden_size))
        dy = self._seq_in(check_grad("dy", dy, y_shape, self.dtype), unbatched)
        st_shape = (self.num_layers,) + ((self.hidden_size,) if unbatched
                                         else (B, self.hidden_size))
        dh = [np.zeros((B, self.hidden_size), self.dtype)] * self.num_layers
        dc = list(dh)
        if dh_n is not None:
            dh = list(check_grad("dh_n", dh_n, st_shape, self.dtype).reshape(-1, B, self.hidden_size))
        if dc_n is not None:
            dc = list(check_grad("dc_n", dc_n, st_shape, self.dtype).reshape(-1, B, self.hidden_size))
        grads, dh0, dc0 = {}, [None] * self.num_layers, [None] * self.num_layers
        for layer in range(self.num_layers - 1, -1, -1):
            dy, dh0[layer], dc0[layer], g = lstm_layer_backward(dy, dh[layer], dc[layer],
                                                                self._caches[layer])
            grads[f"weight_ih_l{layer}"] = g["w_ih"]
            grads[f"weight_hh_l{layer}"] = g["w_hh"]
            if self.bias:
                grads[f"bias_ih_l{layer}"] = g["b"]
                grads[f"bias_hh_l{layer}"] = g["b"].copy()
        self.grads = {k: grads[k] for k in self.params}
        dh0, dc0 = np.stack(dh0), np.stack(dc0)
        return (self._seq_out(dy, unbatched),
                (self._state_out(dh0, unbatched), self._state_out(dc0, unbatched)))


class GRU(RecurrentStack):
    """``torch.nn.GRU`` in NumPy (gate rows r, z, n), forward and backward.

    ``variant="torch"`` (default, what torch and cuDNN compute): the reset gate
    multiplies ``h w_hn^T + b_hn``; ``variant="original"`` (Cho et al. 2014): it
    multiplies h before the recurrent product.
    """

    n_gates = 3
    torch_name = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dtype=np.float32, *, variant: str = "torch",
                 **kwargs):
        self.variant = check_variant(variant)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dtype, **kwargs)

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None):
        """x -> (y, h_n); h0 None for zeros."""
        x, st, unbatched = self._prepare(x, {"h0": h0})
        caches, hs, inp = [], [], x
        for layer in range(self.num_layers):
            inp, h_n, cache = gru_layer(inp, *self.layer_params(layer), st["h0"][layer],
                                        self.variant)
            caches.append(cache)
            hs.append(h_n)
        self._caches, self._shape = caches, (x.shape, unbatched)
        return self._seq_out(inp, unbatched), self._state_out(np.stack(hs), unbatched)

    __call__ = forward

    def backward(self, dy: np.ndarray, dh_n: np.ndarray | None = None):
        """Gradients of the last forward call -> (dx, dh0); fills ``.grads``."""
        self._check_backward()
        (T, B, _), unbatched = self._shape
        H = self.hidden_size
        y_shape = (T, H) if unbatched else ((B, T, H) if self.batch_first else (T, B, H))
        dy = self._seq_in(check_grad("dy", dy, y_shape, self.dtype), unbatched)
        dh = [np.zeros((B, H), self.dtype)] * self.num_layers
        if dh_n is not None:
            st_shape = (self.num_layers,) + ((H,) if unbatched else (B, H))
            dh = list(check_grad("dh_n", dh_n, st_shape, self.dtype).reshape(-1, B, H))
        grads, dh0 = {}, [None] * self.num_layers
        for layer in range(self.num_layers - 1, -1, -1):
            dy, dh0[layer], g = gru_layer_backward(dy, dh[layer], self._caches[layer])
            grads[f"weight_ih_l{layer}"] = g["w_ih"]
            grads[f"weight_hh_l{layer}"] = g["w_hh"]
            if self.bias:
                grads[f"bias_ih_l{layer}"] = g["b_ih"]
                grads[f"bias_hh_l{layer}"] = g["b_hh"]
        self.grads = {k: grads[k] for k in self.params}
        return self._seq_out(dy, unbatched), self._state_out(np.stack(dh0), unbatched)

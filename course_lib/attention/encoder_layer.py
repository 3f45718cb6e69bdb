"""One Transformer encoder layer, as ``torch.nn.TransformerEncoderLayer``.

Post-LN (``norm_first=False``, the original Transformer and torch's default)::

    x = norm1(x + dropout1(self_attn(x, x, x)))
    x = norm2(x + dropout2(ff(x)))

Pre-LN (``norm_first=True``, used by most modern models because its gradients are
better behaved in deep stacks)::

    x = x + dropout1(self_attn(norm1(x)))
    x = x + dropout2(ff(norm2(x)))

with ``ff(x) = linear2(dropout(act(linear1(x))))``.  Shapes: src (S, N, E), or
(N, S, E) with ``batch_first=True``, or (S, E) unbatched; the output has the same
shape.  Parameter names are torch's (``self_attn.in_proj_weight``, ``linear1.weight``,
``norm1.bias`` ...), so ``from_torch``/``to_torch`` copy weights by name.  All
dropouts share one seeded generator and act only in training mode.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array
from .dropout import Dropout
from .feedforward import FeedForward
from .layernorm import LayerNorm
from .module import (Module, as_rng, check_float_dtype, copy_into_torch, torch_dtype,
                     torch_dtype_to_numpy, torch_state_to_numpy)
from .multihead import MultiHeadAttention


class TransformerEncoderLayer(Module):
    """``TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation="relu", layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)``.

    ``activation`` is ``"relu"`` or ``"gelu"`` (exact erf form).  ``rng`` (seed or
    Generator) drives both the initialisation and the dropout masks.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, *,
                 dtype=np.float32, rng=None) -> None:
        super().__init__()
        dtype, rng = check_float_dtype(dtype), as_rng(rng)
        self.d_model, self.nhead, self.dim_feedforward = d_model, nhead, dim_feedforward
        self.dropout_p, self.activation = dropout, activation
        self.layer_norm_eps, self.batch_first, self.norm_first = layer_norm_eps, batch_first, norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype, rng=rng)
        self.ff = FeedForward(d_model, dim_feedforward, activation, dropout, bias,
                              dtype=dtype, rng=rng)
        self.norm1 = LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        # "" merges ff's linear1/linear2 into this layer's names, as torch lays them out
        self._children = {"self_attn": self.self_attn, "": self.ff, "norm1": self.norm1,
                          "norm2": self.norm2, "dropout1": self.dropout1,
                          "dropout2": self.dropout2}

    def _sa(self, x, src_mask, src_key_padding_mask, is_causal):
        out, _ = self.self_attn(x, x, x, key_padding_mask=src_key_padding_mask,
                                need_weights=False, attn_mask=src_mask, is_causal=is_causal)
        return self.dropout1(out)

    def _sa_backward(self, d):
        dq, dk, dv = self.self_attn.backward(self.dropout1.backward(d))
        return dq + dk + dv

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """src (S, N, E) / (N, S, E) / (S, E) -> same shape.  Masks as in
        :class:`~.multihead.MultiHeadAttention` (bool True = not allowed, or float added)."""
        src = check_array("src", src)
        if src.ndim not in (2, 3) or src.shape[-1] != self.d_model:
            raise ValueError(f"src must be (S, N, d_model), (N, S, d_model) with batch_first, or "
                             f"(S, d_model) unbatched, with d_model={self.d_model}; got shape "
                             f"{src.shape}")
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self.dropout2(self.ff(self.norm2(x)))
        else:
            x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self.dropout2(self.ff(x)))
        self._cache = {}
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout (shape of the output) -> dsrc; gradients in every child's ``grads``
        (read them all with :meth:`named_grads`)."""
        if self._cache is None:
            raise RuntimeError("backward() needs a forward() call first")
        if self.norm_first:
            # x2 = x1 + dropout2(ff(norm2(x1))),  x1 = x0 + dropout1(sa(norm1(x0)))
            dx1 = dout + self.norm2.backward(self.ff.backward(self.dropout2.backward(dout)))
            return dx1 + self.norm1.backward(self._sa_backward(dx1))
        # x2 = norm2(x1 + dropout2(ff(x1))),  x1 = norm1(x0 + dropout1(sa(x0)))
        d = self.norm2.backward(dout)
        dx1 = d + self.ff.backward(self.dropout2.backward(d))
        d = self.norm1.backward(dx1)
        return d + self._sa_backward(d)

    @classmethod
    def from_torch(cls, module) -> "TransformerEncoderLayer":
        """A copy of a ``torch.nn.TransformerEncoderLayer`` (config, weights, dtype, mode)."""
        import torch.nn.functional as F
        act = module.activation
        name = {F.relu: "relu", F.gelu: "gelu"}.get(act)
        if name is None and act.__class__.__name__ in ("ReLU", "GELU"):
            name = act.__class__.__name__.lower()
            if name == "gelu" and getattr(act, "approximate", "none") != "none":
                name = None
        if name is None:
            raise ValueError(f"only relu and exact gelu activations are supported, got {act!r}")
        sa = module.self_attn
        layer = cls(sa.embed_dim, sa.num_heads, module.linear1.out_features,
                    module.dropout.p, name, module.norm1.eps, sa.batch_first,
                    module.norm_first, module.linear1.bias is not None,
                    dtype=torch_dtype_to_numpy(module))
        layer.load_state_dict(torch_state_to_numpy(module))
        return layer.train(module.training)

    def to_torch(self):
        """The equivalent ``torch.nn.TransformerEncoderLayer`` with these weights."""
        import torch
        m = torch.nn.TransformerEncoderLayer(
            self.d_model, self.nhead, self.dim_feedforward, self.dropout_p, self.activation,
            self.layer_norm_eps, self.batch_first, self.norm_first,
            bias="linear1.bias" in self.named_parameters(), dtype=torch_dtype(self.dtype))
        return copy_into_torch(m, self)

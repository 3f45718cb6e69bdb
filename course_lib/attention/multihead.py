"""Multi-head attention with the parameters, call and results of ``torch.nn.MultiheadAttention``.

With E = embed_dim, H = num_heads, Dh = E / H, N the batch, L queries, S keys::

    Q = query @ Wq^T + bq        (N, L, E)   Wq = in_proj_weight[0:E]     (E, E)
    K = key   @ Wk^T + bk        (N, S, E)   Wk = in_proj_weight[E:2E]    (E, kdim)
    V = value @ Wv^T + bv        (N, S, E)   Wv = in_proj_weight[2E:3E]   (E, vdim)
    Q, K, V -> heads             (N, H, L|S, Dh)     a view, see :mod:`.heads`
    P = softmax(Q K^T / sqrt(Dh) + masks)   (N, H, L, S)
    O = P @ V                    (N, H, L, Dh) -> merged (N, L, E)
    out = O @ Wo^T + bo          (N, L, E)   Wo = out_proj.weight (E, E)

With ``kdim``/``vdim`` different from E the three projections are separate
parameters ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``, as in torch.
Layouts: (L, N, E) by default, (N, L, E) with ``batch_first=True``, (L, E) unbatched.

Masks follow torch's MultiheadAttention convention (the opposite of SDPA's for
booleans): ``attn_mask`` (L, S) or (N*H, L, S) and ``key_padding_mask`` (N, S) are
either boolean with **True = not allowed** or float and added to the scores.
Differences from torch, on purpose:

* a query whose every key is masked gets zero attention (output = ``out_proj.bias``)
  where torch's MultiheadAttention returns NaN;
* ``is_causal=True`` *applies* a causal mask (also when ``attn_mask`` is None); torch
  treats it as a hint and requires ``attn_mask`` to be that mask.

Cost (self-attention, L = S): projections 8*N*L*E^2 flops, scores and P@V
4*N*L^2*E flops; memory N*H*L^2 for P -- the N^2 term.
"""
from __future__ import annotations

import math

import numpy as np

from .._validate import check_array
from .blas_threads import blas_threads
from .dropout import Dropout
from .heads import merge_heads, split_heads
from .linear import Linear, linear, uniform_init
from .masks import FLOATS, causal_mask
from .module import (Module, as_rng, check_float_dtype, copy_into_torch, torch_dtype,
                     torch_dtype_to_numpy, torch_state_to_numpy)
from .softmax import softmax_, softmax_backward_


# The per-head products are many small GEMMs (e.g. 64 of 128 x 64 x 128).  OpenBLAS
# splits each one over its threads, and the hand-off costs more than the product, so
# they run single-threaded; the large projection GEMMs keep every thread.
HEAD_GEMM_THREADS: int | None = 1


def _positive_int(name, n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{name} must be an int >= 1, got {n!r}")
    return int(n)


class MultiHeadAttention(Module):
    """``torch.nn.MultiheadAttention(embed_dim, num_heads, dropout, bias, kdim, vdim, batch_first)``.

    ``add_bias_kv`` and ``add_zero_attn`` are not implemented.  Call
    ``mha(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (out, weights)``; ``backward(dout)``
    returns ``(dquery, dkey, dvalue)`` (for self-attention add the three).
    """

    def __init__(self, embed_dim: int, num_heads: int, *, dropout: float = 0.0,
                 bias: bool = True, kdim: int | None = None, vdim: int | None = None,
                 batch_first: bool = False, dtype=np.float32, rng=None) -> None:
        super().__init__()
        E = _positive_int("embed_dim", embed_dim)
        H = _positive_int("num_heads", num_heads)
        if E % H:
            raise ValueError(f"embed_dim={E} must be divisible by num_heads={H} "
                             f"(each head gets embed_dim / num_heads features)")
        self.embed_dim, self.num_heads, self.head_dim = E, H, E // H
        self.kdim = E if kdim is None else _positive_int("kdim", kdim)
        self.vdim = E if vdim is None else _positive_int("vdim", vdim)
        self.packed = self.kdim == E and self.vdim == E   # torch's _qkv_same_embed_dim
        self.batch_first = bool(batch_first)
        dtype, rng = check_float_dtype(dtype), as_rng(rng)
        self.rng = rng
        if self.packed:
            # xavier_uniform_ over the whole (3E, E) matrix, as torch does
            self.params["in_proj_weight"] = uniform_init(rng, (3 * E, E),
                                                         math.sqrt(6.0 / (4 * E)), dtype)
        else:
            for name, d in (("q", E), ("k", self.kdim), ("v", self.vdim)):
                self.params[f"{name}_proj_weight"] = uniform_init(
                    rng, (E, d), math.sqrt(6.0 / (E + d)), dtype)
        if bias:
            self.params["in_proj_bias"] = np.zeros(3 * E, dtype)
        self.out_proj = Linear(E, E, bias, dtype=dtype, rng=rng)
        if bias:
            self.out_proj.params["bias"][...] = 0.0
        self.attn_dropout = Dropout(dropout, rng=rng)
        self.dropout = self.attn_dropout.p
        self._children = {"out_proj": self.out_proj, "attn_dropout": self.attn_dropout}

    # -- parameters as the three projections ------------------------------------------
    def _proj_weights(self):
        """[(W, b)] for q, k, v: views into in_proj_weight / in_proj_bias when packed."""
        E = self.embed_dim
        b = self.params.get("in_proj_bias")
        bs = [None] * 3 if b is None else [b[i * E:(i + 1) * E] for i in range(3)]
        if self.packed:
            W = self.params["in_proj_weight"]
            ws = [W[i * E:(i + 1) * E] for i in range(3)]
        else:
            ws = [self.params[f"{n}_proj_weight"] for n in "qkv"]
        return list(zip(ws, bs))

    # -- forward ----------------------------------------------------------------------
    def _check_inputs(self, query, key, value):
        query, key, value = (check_array(n, a) for n, a in
                             (("query", query), ("key", key), ("value", value)))
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"query, key and value must all be 3-D (batched) or all 2-D "
                             f"(unbatched), got query {query.shape}, key {key.shape}, "
                             f"value {value.shape}")
        for name, a, width in (("query", query, self.embed_dim), ("key", key, self.kdim),
                               ("value", value, self.vdim)):
            if a.shape[-1] != width:
                label = {"query": "embed_dim", "key": "kdim", "value": "vdim"}[name]
                raise ValueError(f"{name} must have last dim {label}={width}, got shape {a.shape}")
            if a.dtype != self.dtype:
                raise TypeError(f"{name} has dtype {a.dtype} but the module's parameters "
                                f"are {self.dtype}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"key and value must have the same length and batch, got "
                             f"key {key.shape}, value {value.shape}")
        batched = query.ndim == 3
        nax = 0 if (self.batch_first or not batched) else 1
        if batched and query.shape[nax] != key.shape[nax]:
            raise ValueError(f"query and key must have the same batch size (dim {nax} with "
                             f"batch_first={self.batch_first}), got query {query.shape}, "
                             f"key {key.shape}")
        return query, key, value

    def _masks(self, attn_mask, key_padding_mask, is_causal, N, L, S, batched):
        """Checked masks, reshaped to broadcast against the (N, H, L, S) scores."""
        H = self.num_heads
        out = []
        if attn_mask is not None:
            m = _check_mask_dtype("attn_mask", attn_mask)
            if m.shape == (L, S):
                out.append(m)
            elif m.ndim == 3 and m.shape == ((N * H) if batched else H, L, S):
                out.append(m.reshape(N, H, L, S))
            else:
                want = f"(L, S) = {(L, S)} or " + (f"(N*num_heads, L, S) = {(N * H, L, S)}"
                                                    if batched else f"(num_heads, L, S) = {(H, L, S)}")
                raise ValueError(f"attn_mask must have shape {want}, got {m.shape}")
        if key_padding_mask is not None:
            m = _check_mask_dtype("key_padding_mask", key_padding_mask)
            want = (N, S) if batched else (S,)
            if m.shape != want:
                raise ValueError(f"key_padding_mask must have shape {'(N, S)' if batched else '(S,)'}"
                                 f" = {want}, got {m.shape}")
            out.append(m.reshape(N, 1, 1, S))
        if is_causal not in (True, False):
            raise TypeError(f"is_causal must be a bool, got {is_causal!r}")
        if is_causal:
            out.append(~causal_mask(L, S))        # True = not allowed, as the other masks
        return out

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attention of ``query`` over ``key``/``value``; returns ``(out, weights)``.

        Shapes (batch_first=False): query (L, N, E), key (S, N, kdim), value (S, N, vdim)
        -> out (L, N, E); batch_first=True swaps the first two axes; 2-D inputs are one
        unbatched sequence.  ``weights`` (N, L, S) averaged over heads, (N, H, L, S) with
        ``average_attn_weights=False``, or None when ``need_weights=False``; they are
        the probabilities after attention dropout, as torch returns them.
        """
        query, key, value = self._check_inputs(query, key, value)
        batched = query.ndim == 3
        seq_first = batched and not self.batch_first
        # internally (N, L, E) or (L, N, E) views; unbatched gets N = 1 in front
        q_in, k_in, v_in = (a if batched else a[None] for a in (query, key, value))
        N = q_in.shape[1] if seq_first else q_in.shape[0]
        L = q_in.shape[0] if seq_first else q_in.shape[1]
        S = k_in.shape[0] if seq_first else k_in.shape[1]
        masks = self._masks(attn_mask, key_padding_mask, is_causal, N, L, S, batched)
        E, H = self.embed_dim, self.num_heads
        (wq, bq), (wk, bk), (wv, bv) = self._proj_weights()
        if self.packed and query is key and key is value:
            # self-attention: one (M, E) x (E, 3E) product instead of three
            qkv = linear(q_in, self.params["in_proj_weight"], self.params.get("in_proj_bias"))
            qp, kp, vp = qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
        else:
            qp, kp, vp = linear(q_in, wq, bq), linear(k_in, wk, bk), linear(v_in, wv, bv)
        scale = q_in.dtype.type(1.0 / math.sqrt(self.head_dim))
        qh = split_heads(qp, H, seq_first=seq_first) * scale     # (N, H, L, Dh), scaled
        kh = split_heads(kp, H, seq_first=seq_first)              # (N, H, S, Dh)
        vh = split_heads(vp, H, seq_first=seq_first)              # (N, H, S, Dh)
        with blas_threads(HEAD_GEMM_THREADS):
            scores = np.matmul(qh, kh.swapaxes(-1, -2))           # (N, H, L, S)
            for m in masks:
                if m.dtype == np.bool_:
                    np.copyto(scores, -np.inf, where=m)
                else:
                    scores += m.astype(scores.dtype, copy=False)
            probs = softmax_(scores)
            probs_d = self.attn_dropout(probs)
            oh = np.matmul(probs_d, vh)                           # (N, H, L, Dh)
        merged = merge_heads(oh, seq_first=seq_first)             # (N, L, E) or (L, N, E)
        out = self.out_proj(merged)
        self._cache = dict(inputs=(q_in, k_in, v_in), heads=(qh, kh, vh), probs=probs,
                           probs_d=probs_d, seq_first=seq_first, batched=batched, scale=scale)
        if not batched:
            out = out[0]
        weights = None
        if need_weights:
            weights = probs_d.mean(axis=1) if average_attn_weights else probs_d
            weights = weights if batched else weights[0]
        return out, weights

    # -- backward ---------------------------------------------------------------------
    def backward(self, dout: np.ndarray):
        """dout (shape of out) -> (dquery, dkey, dvalue); parameter gradients in ``grads``.

        The weights output is treated as a side result (no gradient flows from it).
        """
        c = self._cache
        if c is None:
            raise RuntimeError("backward() needs a forward() call first")
        seq_first, (q_in, k_in, v_in) = c["seq_first"], c["inputs"]
        qh, kh, vh = c["heads"]
        probs, probs_d, scale = c["probs"], c["probs_d"], c["scale"]
        dout = check_array("dout", dout)
        dout = dout if c["batched"] else dout[None]
        dmerged = self.out_proj.backward(dout)
        doh = split_heads(dmerged, self.num_heads, seq_first=seq_first)
        with blas_threads(HEAD_GEMM_THREADS):
            dvh = np.matmul(probs_d.swapaxes(-1, -2), doh)        # (N, H, S, Dh)
            dprobs = self.attn_dropout.backward(np.matmul(doh, vh.swapaxes(-1, -2)))
            ds = softmax_backward_(dprobs, probs)                  # (N, H, L, S)
            dqh = np.matmul(ds, kh) * scale                        # qh already holds the scale
            dkh = np.matmul(ds.swapaxes(-1, -2), qh)
        grads_w, grads_b, dx = [], [], []
        for dh, x, (w, b) in zip((dqh, dkh, dvh), (q_in, k_in, v_in), self._proj_weights()):
            dp = merge_heads(dh, seq_first=seq_first)             # (.., E) in x's layout
            dp2 = dp.reshape(-1, dp.shape[-1])
            dx.append((dp2 @ w).reshape(x.shape))
            grads_w.append(dp2.T @ x.reshape(-1, x.shape[-1]))
            grads_b.append(dp2.sum(axis=0) if b is not None else None)
        self.grads = {}
        if self.packed:
            self.grads["in_proj_weight"] = np.concatenate(grads_w, axis=0)
        else:
            for n, g in zip("qkv", grads_w):
                self.grads[f"{n}_proj_weight"] = g
        if "in_proj_bias" in self.params:
            self.grads["in_proj_bias"] = np.concatenate(grads_b)
        if not c["batched"]:
            dx = [d[0] for d in dx]
        return tuple(dx)

    # -- torch interop ----------------------------------------------------------------
    @classmethod
    def from_torch(cls, module) -> "MultiHeadAttention":
        """A copy of a ``torch.nn.MultiheadAttention`` (configuration, weights, dtype, mode)."""
        if module.bias_k is not None or module.add_zero_attn:
            raise ValueError("add_bias_kv and add_zero_attn are not supported")
        mha = cls(module.embed_dim, module.num_heads, dropout=module.dropout,
                  bias=module.in_proj_bias is not None, kdim=module.kdim, vdim=module.vdim,
                  batch_first=module.batch_first, dtype=torch_dtype_to_numpy(module))
        mha.load_state_dict(torch_state_to_numpy(module))
        return mha.train(module.training)

    def to_torch(self):
        """The equivalent ``torch.nn.MultiheadAttention`` with these weights."""
        import torch
        m = torch.nn.MultiheadAttention(self.embed_dim, self.num_heads, dropout=self.dropout,
                                        bias="in_proj_bias" in self.params, kdim=self.kdim,
                                        vdim=self.vdim, batch_first=self.batch_first,
                                        dtype=torch_dtype(self.dtype))
        return copy_into_torch(m, self)


def _check_mask_dtype(name: str, m) -> np.ndarray:
    if not isinstance(m, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray (bool or float), got {type(m).__name__}")
    if m.dtype != np.bool_ and m.dtype not in FLOATS:
        raise TypeError(f"{name} must be bool (True = not allowed) or float32/float64 "
                        f"(added to the scores), got dtype {m.dtype} (shape {m.shape})")
    if m.dtype != np.bool_ and np.isnan(m).any():
        raise ValueError(f"{name} (shape {m.shape}) contains NaN")
    return m

"""FlashAttention in NumPy: exact attention, tiled, without the L x S matrix.

Standard attention (:mod:`.sdpa`) builds the (L, S) scores, their softmax and then
``P @ V``: memory O(L*S) per head.  FlashAttention (Dao et al. 2022; the loop order
of FlashAttention-2, Dao 2023) visits the scores one (block_q, block_k) tile at a
time and never stores more than one tile:

forward, for each query tile Q_i (block_q rows)::

    m = -inf, l = 0, acc = 0                      per row of the tile
    for each key tile j (block_k keys):           (causal: only tiles left of the diagonal)
        S_ij  = Q_i K_j^T * scale                 (block_q, block_k)   the only big temporary
        m_new = max(m, rowmax(S_ij))
        P_ij  = exp(S_ij - m_new)
        l     = exp(m - m_new) * l   + rowsum(P_ij)
        acc   = exp(m - m_new) * acc + P_ij V_j
        m     = m_new
    O_i = acc / l,   lse_i = m + log(l)           (the log-sum-exp, kept for backward)

(the online softmax, see :mod:`.online_softmax`; dividing by l only once at the end
is FlashAttention-2's choice, the 2022 paper rescales O at every step).

backward (recomputation; FlashAttention-2 order: outer loop over key tiles, so dK_j
and dV_j stay in "fast memory", dQ is accumulated)::

    D = rowsum(dO * O)                            (L,)   = rowsum(dP * P)
    for each key tile j:      dK_j = dV_j = 0
        for each query tile i (causal: only tiles that see key tile j):
            P_ij  = exp(Q_i K_j^T * scale - lse_i)     recomputed, not stored
            dV_j += P_ij^T dO_i
            dP_ij = dO_i V_j^T
            dS_ij = P_ij * (dP_ij - D_i)               the softmax backward
            dQ_i += dS_ij K_j * scale
            dK_j += dS_ij^T Q_i * scale

Causal masking is top-left aligned, as in torch (query i sees keys j <= i, also for
L != S).  A tile entirely above the diagonal is skipped (never computed), a tile
entirely below it needs no mask; only tiles on the diagonal are masked
(:func:`causal_tile_plan`).

Cost: the same 4*L*S*E flops as standard attention (forward), ~2.5x that for the
backward (one extra product: the recomputed scores).  Extra memory: one tile of
scores, O(block_q * block_k) per batch/head index, plus O(L*E) for the output, the
running statistics and, in the backward, dQ.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array
from .blas_threads import blas_threads
from .gqa import check_gqa, group_query_heads
from .online_softmax import finish, safe_shift
from .sdpa import _scale, check_qkv, sum_to_shape

SKIP, FULL, DIAGONAL = 0, 1, 2

# Each tile is a small GEMM (block_q x E x block_k, E ~ 64).  Handing such a product
# to OpenBLAS's threads costs more than it saves (measured: the 4k benchmark runs
# ~2x faster single-threaded on a busy 2-core machine), so the tile loops run with
# this many BLAS threads; None leaves the setting alone.
TILE_GEMM_THREADS: int | None = 1


def check_block(name: str, b) -> int:
    """A block size must be an int >= 1."""
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
        raise ValueError(f"{name} must be an int >= 1, got {b!r}")
    return int(b)


def causal_tile_plan(L: int, S: int, block_q: int, block_k: int) -> np.ndarray:
    """What causal masking does to each tile: int array (ceil(L/block_q), ceil(S/block_k)).

    ``SKIP`` (0): every query of the tile is before every key -- nothing to compute;
    ``FULL`` (1): every key is at or before every query -- computed, no mask;
    ``DIAGONAL`` (2): computed with the mask j <= i applied inside the tile.
    """
    for name, n in (("L", L), ("S", S)):
        check_block(name, n)
    bq, bk = check_block("block_q", block_q), check_block("block_k", block_k)
    q0 = np.arange(0, L, bq)[:, None]
    q1 = np.minimum(q0 + bq, L)                  # exclusive ends (ragged last tile)
    k0 = np.arange(0, S, bk)[None, :]
    k1 = np.minimum(k0 + bk, S)
    plan = np.full((q0.size, k0.size), DIAGONAL, np.int8)
    plan[k1 - 1 <= q0] = FULL                    # last key <= first query
    plan[k0 > q1 - 1] = SKIP                     # first key > last query
    return plan


def _tile_mask(q0, q1, k0, k1):
    """True where key j > query i (blocked) inside the tile [q0, q1) x [k0, k1)."""
    return np.arange(k0, k1)[None, :] > np.arange(q0, q1)[:, None]


def _prepare(q, k, v, enable_gqa):
    """Checked arrays; with GQA the grouped views (..., H_kv, G, L, E) / (..., H_kv, 1, S, E)."""
    q, k, v = check_array("q", q), check_array("k", k), check_array("v", v)
    if enable_gqa not in (True, False):
        raise TypeError(f"enable_gqa must be a bool, got {enable_gqa!r}")
    if enable_gqa:
        if q.shape[-1:] != k.shape[-1:]:
            raise ValueError(f"q and k must have the same feature width E (last dim): "
                             f"q {q.shape}, k {k.shape}")
        check_gqa(q, k, v)
        q, k, v = group_query_heads(q, k, v)
    batch, L, S = check_qkv(q, k, v)
    return q, k, v, batch, L, S


def flash_attention(q, k, v, is_causal=False, scale=None, block_q=64, block_k=64,
                    return_lse=False, enable_gqa=False, *, stats=None):
    """Tiled exact attention: q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev).

    Equal (to rounding) to ``scaled_dot_product_attention(q, k, v, is_causal=...,
    scale=..., enable_gqa=...)`` but its scores exist one (block_q, block_k) tile at a
    time.  Leading dims broadcast; float32/float64 kept.  ``enable_gqa=True``: q has
    H heads at dim -3 and k, v have H_kv (H divisible by H_kv), as in torch.

    ``return_lse=True`` also returns the log-sum-exp of each row's scores,
    shape (..., L), which :func:`flash_attention_backward` needs.  ``stats``, a dict
    if given, receives ``tiles_computed`` and ``tiles_skipped`` (causal skipping).
    """
    H = q.shape[-3] if enable_gqa is True and getattr(q, "ndim", 0) >= 3 else None
    q, k, v, batch, L, S = _prepare(q, k, v, enable_gqa)
    bq, bk = check_block("block_q", block_q), check_block("block_k", block_k)
    if is_causal not in (True, False):
        raise TypeError(f"is_causal must be a bool, got {is_causal!r}")
    s = q.dtype.type(_scale(scale, q.shape[-1]))
    with blas_threads(TILE_GEMM_THREADS):
        out, lse, done, skipped = _forward(q, k, v, batch, L, S, s, bool(is_causal), bq, bk)
    if stats is not None:
        stats.update(tiles_computed=done, tiles_skipped=skipped)
    if H is not None:                       # (..., H_kv, G, L, .) -> (..., H, L, .)
        out = out.reshape(out.shape[:-4] + (H,) + out.shape[-2:])
        lse = lse.reshape(lse.shape[:-3] + (H,) + lse.shape[-1:])
    return (out, lse) if return_lse else out


def _forward(q, k, v, batch, L, S, s, causal, bq, bk):
    dtype, Ev = q.dtype, v.shape[-1]
    out = np.empty(batch + (L, Ev), dtype)
    lse = np.empty(batch + (L,), dtype)
    kT = np.swapaxes(k, -1, -2)                           # a view, (..., E, S)
    done = skipped = 0
    for q0 in range(0, L, bq):
        q1 = min(q0 + bq, L)
        qt = q[..., q0:q1, :] * s                         # scale the (bq, E) tile, not the scores
        m = np.full(batch + (q1 - q0,), -np.inf, dtype)
        l = np.zeros(batch + (q1 - q0,), dtype)
        acc = np.zeros(batch + (q1 - q0, Ev), dtype)
        k_end = min(S, q1) if causal else S               # causal: keys after q1-1 never seen
        for k0 in range(0, k_end, bk):
            k1 = min(k0 + bk, S)
            st = np.matmul(qt, kT[..., k0:k1])            # (..., bq, bk) scores of the tile
            if causal and k1 - 1 > q0:                    # a diagonal tile: mask inside it
                st[..., _tile_mask(q0, q1, k0, k1)] = -np.inf
            m_new = np.maximum(m, st.max(axis=-1))
            sh = safe_shift(m_new)
            alpha = np.exp(m - sh)                        # rescales the old partial (<= 1)
            np.subtract(st, sh[..., None], out=st)
            np.exp(st, out=st)                            # st now holds P_ij, in place
            l *= alpha
            l += st.sum(axis=-1)
            acc *= alpha[..., None]
            acc += np.matmul(st, v[..., k0:k1, :])
            m = m_new
            done += 1
        skipped += -(-S // bk) - -(-k_end // bk)
        out[..., q0:q1, :], lse[..., q0:q1] = finish(m, l, acc)
    return out, lse, done, skipped


def flash_attention_backward(dout, q, k, v, out, lse, is_causal=False, scale=None,
                             block_q=64, block_k=64, enable_gqa=False):
    """Gradients ``(dq, dk, dv)`` of attention by recomputation, tile by tile.

    Args: ``dout`` and ``out`` (..., L, Ev), ``lse`` (..., L) from
    ``flash_attention(..., return_lse=True)`` with the same q, k, v (..., L|S, E|Ev),
    ``is_causal``, ``scale`` and ``enable_gqa``.  The probabilities are rebuilt as
    ``exp(scores - lse)`` per tile; ``D = rowsum(dout * out)`` replaces the softmax
    backward's row sum.  Extra memory O(block_q*block_k + L*E) per batch/head index.
    Gradients of broadcast (or GQA-shared) k, v are summed back to their shapes.
    """
    H = q.shape[-3] if enable_gqa is True and getattr(q, "ndim", 0) >= 3 else None
    q_shape, k_shape, v_shape = (getattr(a, "shape", None) for a in (q, k, v))
    q, k, v, batch, L, S = _prepare(q, k, v, enable_gqa)
    bq, bk = check_block("block_q", block_q), check_block("block_k", block_k)
    if is_causal not in (True, False):
        raise TypeError(f"is_causal must be a bool, got {is_causal!r}")
    dout, out = check_array("dout", dout), check_array("out", out)
    lse = check_array("lse", lse, finite=False)
    if H is not None:
        Hkv = k.shape[-4]
        want_o = batch[:-2] + (H, L, v.shape[-1])
        want_l = batch[:-2] + (H, L)
    else:
        want_o, want_l = batch + (L, v.shape[-1]), batch + (L,)
    for name, a, want in (("dout", dout, want_o), ("out", out, want_o), ("lse", lse, want_l)):
        if a.shape != want:
            raise ValueError(f"{name} must have shape {want} (the forward's output for q "
                             f"{q_shape}, k {k_shape}, v {v_shape}), got {a.shape}")
        if a.dtype != q.dtype:
            raise TypeError(f"{name} has dtype {a.dtype}, q has {q.dtype}")
    if np.isnan(lse).any() or np.isposinf(lse).any():
        raise ValueError(f"lse (shape {lse.shape}) holds NaN or +inf")
    if H is not None:                       # group the head axis like q
        G = H // Hkv
        dout = dout.reshape(dout.shape[:-3] + (Hkv, G) + dout.shape[-2:])
        out = out.reshape(dout.shape)
        lse = lse.reshape(lse.shape[:-2] + (Hkv, G, L))
    s = q.dtype.type(_scale(scale, q.shape[-1]))
    with blas_threads(TILE_GEMM_THREADS):
        dq, dk, dv = _backward(dout, q, k, v, out, lse, batch, L, S, s, bool(is_causal), bq,
                               bk)
    return dq.reshape(q_shape), dk.reshape(k_shape), dv.reshape(v_shape)


def _backward(dout, q, k, v, out, lse, batch, L, S, s, causal, bq, bk):
    dtype = q.dtype
    D = np.sum(dout * out, axis=-1)                         # (..., L): rowsum(dP * P)
    # rows with no allowed key (lse = -inf) have P = 0: +inf makes exp(s - lse) = 0
    lse = np.where(np.isfinite(lse), lse, np.inf).astype(dtype, copy=False)
    dq = np.zeros(batch + (L, q.shape[-1]), dtype)
    dk = np.empty(k.shape, dtype)
    dv = np.empty(v.shape, dtype)
    for k0 in range(0, S, bk):
        k1 = min(k0 + bk, S)
        kt, vt = k[..., k0:k1, :], v[..., k0:k1, :]
        dk_t = np.zeros(batch + (k1 - k0, k.shape[-1]), dtype)
        dv_t = np.zeros(batch + (k1 - k0, v.shape[-1]), dtype)
        q_start = (k0 // bq) * bq if causal else 0           # earlier queries see none of these keys
        for q0 in range(q_start, L, bq):
            q1 = min(q0 + bq, L)
            qt, dot = q[..., q0:q1, :], dout[..., q0:q1, :]
            st = np.matmul(qt * s, np.swapaxes(kt, -1, -2))  # recomputed scores (..., bq, bk)
            if causal and k1 - 1 > q0:
                st[..., _tile_mask(q0, q1, k0, k1)] = -np.inf
            np.subtract(st, lse[..., q0:q1, None], out=st)
            p = np.exp(st, out=st)                           # P_ij, in place
            dv_t += np.matmul(np.swapaxes(p, -1, -2), dot)
            ds = np.matmul(dot, np.swapaxes(vt, -1, -2))     # dP_ij
            ds -= D[..., q0:q1, None]
            ds *= p                                          # dS_ij = P * (dP - D)
            ds *= s
            dq[..., q0:q1, :] += np.matmul(ds, kt)
            dk_t += np.matmul(np.swapaxes(ds, -1, -2), qt)
        dk[..., k0:k1, :] = sum_to_shape(dk_t, k.shape[:-2] + dk_t.shape[-2:])
        dv[..., k0:k1, :] = sum_to_shape(dv_t, v.shape[:-2] + dv_t.shape[-2:])
    return sum_to_shape(dq, q.shape), dk, dv

"""Launchers of the attention kernels (``course_lib/attention/kernels/*.cu``) and the plain
GPU attention pipeline that the FlashAttention chapter measures itself against.

* :func:`softmax` -- ``softmax.cu``: row softmax of x (..., L, S) with an optional boolean mask
  (True = may attend) and causal masking; one warp per row (``variant="warp"``) or one block per
  row (``variant="block"``, for long rows).  Fully masked rows give zeros.
* :func:`layer_norm`, :func:`layer_norm_backward` -- ``layernorm.cu``: LayerNorm over the last
  axis with two-pass float32 statistics, one warp per row or one block per row; backward gives
  dx (a row reduction) and dw, db (column reductions over the rows, two kernels, no atomics).
* :func:`attention` -- ``softmax(q k^T * scale) v`` as three launches: a GEMM (``cupy.matmul``,
  i.e. cuBLAS, on a GPU; NumPy on the emulator), the softmax kernel, a second GEMM.  It writes
  the whole (..., L, S) score matrix and its probabilities to memory:
  :func:`attention_intermediate_bytes` says how many bytes that is.

Every function takes NumPy arrays (any backend: on CuPy they are copied to the device and the
results come back as NumPy) or CuPy arrays (CuPy backend; results stay on the device); float32
only.  ``backend=None`` picks CuPy when a GPU is present, else the CPU emulator; ``schedule``
("forward" / "reverse" / "random") and ``sanitizer`` ("address" / "thread") are emulator options
(ignored on CuPy): the order in which a block's threads run, and a bounds / race-checking build.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..cuda.arrays import DeviceArrays as _Arrays, is_cupy as _is_cupy, resolve_backend as _resolve

KERNELS_DIR = Path(__file__).resolve().parent / "kernels"
INT_MAX = 2**31 - 1
#: Warps (rows) per block of ``softmax_warp``: 128 threads, four rows.
SOFTMAX_WARPS_PER_BLOCK = 4
#: Rows per block of the LayerNorm kernels in the one-warp-per-row layout: blockDim = (32, 8).
LN_ROWS_PER_BLOCK = 8
#: Must match PARAM_ROWS in layernorm.cu.
LN_PARAM_ROWS = 8
#: Most threads given to one row by the "block" variants.
MAX_ROW_THREADS = 256
VARIANTS = ("warp", "block")


@dataclass(frozen=True)
class KernelInfo:
    """One CUDA kernel of this module: where it lives and what it does (for the book and scripts)."""

    file: str
    function: str
    description: str


#: Every kernel launched by this module, by short name.
KERNELS: dict[str, KernelInfo] = {
    "softmax_warp": KernelInfo("softmax.cu", "softmax_warp",
                               "row softmax, one warp per row (4 rows per 128-thread block); max and "
                               "sum by butterfly shuffles; boolean / causal masks; masked rows -> 0"),
    "softmax_block": KernelInfo("softmax.cu", "softmax_block",
                                "row softmax, one block per row for long rows; warp shuffles, then "
                                "the warp partials in shared memory"),
    "layer_norm_forward": KernelInfo("layernorm.cu", "layer_norm_forward",
                                     "LayerNorm forward, one warp or one block per row, two-pass "
                                     "mean / variance in float32; also writes mean and rstd"),
    "layer_norm_backward_input": KernelInfo("layernorm.cu", "layer_norm_backward_input",
                                            "LayerNorm dx, one warp or one block per row (two row "
                                            "sums: dy*w and dy*w*xhat)"),
    "layer_norm_backward_params": KernelInfo("layernorm.cu", "layer_norm_backward_params",
                                             "LayerNorm dw, db partial sums: 32 columns x a group "
                                             "of rows per block, combined in shared memory"),
    "column_sum": KernelInfo("layernorm.cu", "column_sum",
                             "adds the row-group partials of dw and db (read as one "
                             "(groups, 2N) array): one thread per column"),
}


# --------------------------------------------------------------------------- backends and arrays

@functools.lru_cache(maxsize=None)
def _module(file: str, backend: str, schedule: str | None, sanitizer: str | None):
    from ..cuda import RawModule
    opts = {}
    if backend == "emulator":
        opts = {k: v for k, v in (("schedule", schedule), ("sanitizer", sanitizer)) if v is not None}
    return RawModule(path=KERNELS_DIR / file, backend=backend, **opts)


def get_kernel(name: str, backend: str | None = None, schedule: str | None = None,
               sanitizer: str | None = None):
    """The compiled kernel ``KERNELS[name]`` for ``backend`` (modules are cached)."""
    info = KERNELS[name]
    return _module(info.file, _resolve(backend), schedule, sanitizer).get_function(info.function)


def _check_float32(name: str, a: Any, min_ndim: int, layout: str, allow_neg_inf: bool = False) -> None:
    if not (isinstance(a, np.ndarray) or _is_cupy(a)):
        raise TypeError(f"{name} must be a numpy.ndarray or cupy.ndarray, got {type(a).__name__}")
    if a.dtype != np.float32:
        raise TypeError(f"the CUDA kernels are float32 only: {name} has dtype {a.dtype} "
                        f"(shape {tuple(a.shape)}); convert with {name}.astype(np.float32)")
    if a.ndim < min_ndim:
        raise ValueError(f"{name} must be at least {min_ndim}-D {layout}, got shape {tuple(a.shape)}")
    if 0 in a.shape:
        raise ValueError(f"{name} has an empty axis (shape {tuple(a.shape)}); every size must be >= 1")
    xp = __import__("cupy") if _is_cupy(a) else np
    bad = xp.isnan(a) | (a == np.inf) if allow_neg_inf else ~xp.isfinite(a)
    if bool(bad.any()):                      # one device sync for a CuPy array
        what = "NaN or +inf" if allow_neg_inf else "NaN/inf"
        raise ValueError(f"{name} (shape {tuple(a.shape)}) contains {what} value(s)"
                         + ("; -inf is allowed and means 'masked'" if allow_neg_inf else ""))


def _check_rows(what: str, rows: int) -> None:
    if rows > INT_MAX:
        raise ValueError(f"{what} has {rows} rows, more than the kernels' 32-bit int row index "
                         f"allows ({INT_MAX}); split the batch")


def _i32(*values: int) -> tuple:
    return tuple(np.int32(v) for v in values)


def row_threads(n: int) -> int:
    """Threads given to one row of ``n`` columns by a "block" variant: whole warps, at most 256."""
    return min(MAX_ROW_THREADS, 32 * -(-n // 32))


# --------------------------------------------------------------------------- softmax

def softmax_launch_config(rows: int, S: int, variant: str = "warp") -> dict:
    """Grid and block of the softmax kernels for ``rows`` rows of length ``S``.

    ``"warp"``: block = 4 warps (128 threads), warp ``w`` of block ``b`` owns row ``4 b + w``,
    grid = ceil(rows / 4); the surplus warps of the last block return at once.
    ``"block"``: grid = rows, block = ``row_threads(S)`` (32..256) threads striding over the row.
    """
    if variant == "warp":
        per = SOFTMAX_WARPS_PER_BLOCK
        return dict(grid=(-(-rows // per),), block=(32 * per,))
    if variant == "block":
        return dict(grid=(rows,), block=(row_threads(S),))
    raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")


def _prepare_mask(mask, shape: tuple, xp) -> tuple[Any, int]:
    """A boolean mask broadcastable to ``shape`` (..., L, S) as (uint8 rows, mask_rows).

    A mask that varies only over (L, S) -- the usual causal or padding-free case -- is passed as
    one (L, S) plane and reused by every batch entry (row r reads mask row r % L); any other
    broadcast is expanded to the full (rows, S).
    """
    if not (isinstance(mask, np.ndarray) or _is_cupy(mask)):
        raise TypeError(f"mask must be a boolean numpy.ndarray or cupy.ndarray, got {type(mask).__name__}")
    if mask.dtype != np.bool_:
        raise TypeError(f"mask must have dtype bool (True = may attend), got {mask.dtype} "
                        f"(shape {tuple(mask.shape)}); add a float mask to the scores instead")
    try:
        full = xp.broadcast_to(xp.asarray(mask), shape)
    except ValueError:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not broadcast to the scores' shape "
                         f"{tuple(shape)} (..., L, S)") from None
    L, S = shape[-2], shape[-1]
    lead = full.ndim - 2
    # astype copies: a writable, contiguous array even when the broadcast view is read-only
    if all(st == 0 for st in full.strides[:lead]):
        plane = full[(0,) * lead] if lead else full
        return plane.astype(np.uint8), L
    return full.reshape(-1, S).astype(np.uint8), int(np.prod(shape[:-1]))


def softmax(x, mask=None, is_causal: bool = False, variant: str = "warp",
            backend: str | None = None, schedule: str | None = None, sanitizer: str | None = None):
    """Softmax over the last axis of x (..., L, S), float32, by ``softmax.cu``.

    ``mask``: bool, broadcastable to x's shape, True = may attend (the convention of
    ``torch.nn.functional.scaled_dot_product_attention``); ``is_causal``: query i (position along
    L) may attend to keys j <= i only (top-left aligned, as torch).  Both may be given (their AND).
    x may hold -inf (an additive mask's "never"); NaN and +inf are refused.  A row with no allowed
    entry comes out as zeros, not NaN.  Returns y, same shape as x, float32.

    Reduction: ``"warp"`` -- each of a warp's 32 lanes keeps a partial max / sum over columns
    lane, lane + 32, ... and 5 butterfly shuffle steps combine them; ``"block"`` -- the same per
    warp, then one shared-memory step across the block's warps.  Memory traffic: 3 reads of x
    (max, sum, write passes; the later ones mostly from cache) and 1 write of y, 8 bytes per
    element from DRAM at best.
    """
    _check_float32("x", x, 2, "(..., L, S)", allow_neg_inf=True)
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    backend = _resolve(backend)
    arr = _Arrays(backend, {"x": x, "mask": mask})
    xp = arr.xp
    xd = arr.put(x)
    L, S = xd.shape[-2], xd.shape[-1]
    rows = xd.size // S
    _check_rows("x", rows)
    if mask is not None:
        m8, mask_rows = _prepare_mask(mask, xd.shape, xp)
    else:
        m8, mask_rows = xp.zeros(1, dtype=np.uint8), 0      # never read: mask_rows = 0
    y = xp.empty_like(xd)
    launch_softmax(xd, m8, y, rows, L, S, mask_rows, is_causal, variant, backend, schedule, sanitizer)
    return arr.out(y)


def launch_softmax(x, mask8, y, rows: int, L: int, S: int, mask_rows: int, is_causal: bool,
                   variant: str, backend: str, schedule: str | None = None,
                   sanitizer: str | None = None):
    """Run a softmax kernel into the preallocated ``y``; no argument checks (for benchmarks).

    ``x``, ``y`` contiguous float32 (rows * S elements), ``mask8`` uint8 (mask_rows, S) or a dummy
    with ``mask_rows = 0``.  Returns ``y``.
    """
    cfg = softmax_launch_config(rows, S, variant)
    kern = get_kernel(f"softmax_{variant}", backend, schedule, sanitizer)
    kern(cfg["grid"], cfg["block"], (x, mask8, y, *_i32(rows, L, S, mask_rows, int(bool(is_causal)))))
    return y


# --------------------------------------------------------------------------- LayerNorm

def layer_norm_launch_config(rows: int, N: int, variant: str = "warp") -> dict:
    """blockDim = (T, R) and grid of the LayerNorm row kernels.

    ``"warp"``: (32, 8) -- 8 rows per block, one warp each, reductions by shuffles only.
    ``"block"``: (row_threads(N), 1) -- one block of up to 256 threads per row, shuffles then
    shared memory.  grid = ceil(rows / R).
    """
    if variant == "warp":
        T, R = 32, LN_ROWS_PER_BLOCK
    elif variant == "block":
        T, R = row_threads(N), 1
    else:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return dict(grid=(-(-rows // R),), block=(T, R))


def _ln_params(weight, bias, N: int, xp):
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        _check_float32(name, p, 1, "(N,)")
        if tuple(p.shape) != (N,):
            raise ValueError(f"{name} must have shape ({N},) to match x's last axis, got {tuple(p.shape)}")
    w = xp.ones(N, dtype=np.float32) if weight is None else xp.ascontiguousarray(xp.asarray(weight))
    b = xp.zeros(N, dtype=np.float32) if bias is None else xp.ascontiguousarray(xp.asarray(bias))
    return w, b


def layer_norm(x, weight=None, bias=None, eps: float = 1e-5, variant: str = "warp",
               backend: str | None = None, schedule: str | None = None, sanitizer: str | None = None):
    """LayerNorm over the last axis by ``layernorm.cu``: returns ``(y, mean, rstd)``.

    x (..., N), weight (N,) or None (ones), bias (N,) or None (zeros), float32 ->
    y (..., N), mean (...), rstd (...) = 1 / sqrt(biased var + eps): what the backward needs.
    Statistics in float32 by two passes over the row (sum, then squared deviations).
    Memory traffic: x read 3 times (mean, variance, output passes; the later two mostly from
    cache), y written once, + w and b.
    """
    _check_float32("x", x, 1, "(..., N)")
    if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    backend = _resolve(backend)
    arr = _Arrays(backend, {"x": x, "weight": weight, "bias": bias})
    xp = arr.xp
    xd = arr.put(x)
    N = xd.shape[-1]
    rows = xd.size // N
    _check_rows("x", rows)
    w, b = _ln_params(weight, bias, N, xp)
    y = xp.empty_like(xd)
    mean = xp.empty(xd.shape[:-1], dtype=np.float32)
    rstd = xp.empty(xd.shape[:-1], dtype=np.float32)
    launch_layer_norm(xd, w, b, y, mean, rstd, eps, variant, backend, schedule, sanitizer)
    return arr.out(y), arr.out(mean), arr.out(rstd)


def launch_layer_norm(x, w, b, y, mean, rstd, eps: float, variant: str, backend: str,
                      schedule: str | None = None, sanitizer: str | None = None):
    """Run ``layer_norm_forward`` into preallocated y, mean, rstd; no checks (for benchmarks).
    All contiguous float32 on the backend's side; w, b (N,) arrays (not None)."""
    N = x.shape[-1]
    rows = x.size // N
    cfg = layer_norm_launch_config(rows, N, variant)
    get_kernel("layer_norm_forward", backend, schedule, sanitizer)(
        cfg["grid"], cfg["block"], (x, w, b, y, mean, rstd, *_i32(rows, N), np.float32(eps)))
    return y, mean, rstd


def layer_norm_param_groups(rows: int) -> int:
    """Row groups (gridDim.y) of ``layer_norm_backward_params``: about 32 rows per thread column,
    at most 64 groups (enough blocks to fill a GPU, a short ``column_sum`` afterwards)."""
    return max(1, min(64, -(-rows // (32 * LN_PARAM_ROWS))))


def layer_norm_backward(dy, x, weight, mean, rstd, variant: str = "warp",
                        backend: str | None = None, schedule: str | None = None,
                        sanitizer: str | None = None):
    """Gradients of :func:`layer_norm`: returns ``(dx, dweight, dbias)``.

    dy, x (..., N); weight (N,) or None (ones); mean, rstd (...) from the forward.
    dx (..., N) = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * weight, one row
    reduction pass (both sums at once) and one write pass.  dweight = sum over rows of dy * xhat,
    dbias = sum over rows of dy, both (N,): partial sums of 32 columns x a row group per block
    (coalesced row segments, 8 rows combined in shared memory), then ``column_sum`` adds the
    groups -- deterministic, no atomics.
    """
    for name, a, nd, lay in (("dy", dy, 1, "(..., N)"), ("x", x, 1, "(..., N)")):
        _check_float32(name, a, nd, lay)
    if tuple(dy.shape) != tuple(x.shape):
        raise ValueError(f"dy has shape {tuple(dy.shape)} but x has shape {tuple(x.shape)}")
    for name, a in (("mean", mean), ("rstd", rstd)):
        if not (isinstance(a, np.ndarray) or _is_cupy(a)) or a.dtype != np.float32:
            raise TypeError(f"{name} must be the float32 array returned by layer_norm, got "
                            f"{getattr(a, 'dtype', type(a).__name__)}")
        if tuple(a.shape) != tuple(x.shape[:-1]):
            raise ValueError(f"{name} must have shape {tuple(x.shape[:-1])} (x {tuple(x.shape)} "
                             f"without its last axis), got {tuple(a.shape)}")
    backend = _resolve(backend)
    arr = _Arrays(backend, {"dy": dy, "x": x, "weight": weight, "mean": mean, "rstd": rstd})
    xp = arr.xp
    dyd, xd, md, rd = arr.put(dy), arr.put(x), arr.put(mean), arr.put(rstd)
    N = xd.shape[-1]
    rows = xd.size // N
    _check_rows("x", rows)
    w, _ = _ln_params(weight, None, N, xp)
    dx = xp.empty_like(xd)
    part = xp.empty((layer_norm_param_groups(rows), 2, N), dtype=np.float32)
    dwdb = xp.empty(2 * N, dtype=np.float32)
    launch_layer_norm_backward(dyd, xd, w, md, rd, dx, part, dwdb, variant, backend, schedule, sanitizer)
    return arr.out(dx), arr.out(dwdb[:N]), arr.out(dwdb[N:])


def launch_layer_norm_backward(dy, x, w, mean, rstd, dx, part, dwdb, variant: str, backend: str,
                               schedule: str | None = None, sanitizer: str | None = None):
    """Run the three backward kernels into preallocated dx (..., N), part
    (layer_norm_param_groups(rows), 2, N) and dwdb (2N,) = [dw, db]; no checks (for benchmarks)."""
    N = x.shape[-1]
    rows = x.size // N
    cfg = layer_norm_launch_config(rows, N, variant)
    get_kernel("layer_norm_backward_input", backend, schedule, sanitizer)(
        cfg["grid"], cfg["block"], (dy, x, w, mean, rstd, dx, *_i32(rows, N)))
    groups = part.shape[0]                      # [g, 0] dw, [g, 1] db partials
    get_kernel("layer_norm_backward_params", backend, schedule, sanitizer)(
        (-(-N // 32), groups), (32, LN_PARAM_ROWS), (dy, x, mean, rstd, part, *_i32(rows, N)))
    get_kernel("column_sum", backend, schedule, sanitizer)(     # part read as (groups, 2N)
        (-(-2 * N // 256),), (256,), (part, dwdb, *_i32(groups, 2 * N)))
    return dx, dwdb


# --------------------------------------------------------------------------- attention pipeline

def _attention_shapes(q, k, v, attn_mask) -> tuple:
    """Checks of :func:`attention`; returns (batch shape, L, S, E, Ev)."""
    for name, a, lay in (("q", q, "(..., L, E)"), ("k", k, "(..., S, E)"), ("v", v, "(..., S, Ev)")):
        _check_float32(name, a, 2, lay)
    (L, E), (S, Ek), (Sv, Ev) = q.shape[-2:], k.shape[-2:], v.shape[-2:]
    if Ek != E:
        raise ValueError(f"q and k must have the same last axis E: q {tuple(q.shape)} (..., L, E), "
                         f"k {tuple(k.shape)} (..., S, E)")
    if Sv != S:
        raise ValueError(f"k and v must have the same number of keys S: k {tuple(k.shape)}, "
                         f"v {tuple(v.shape)}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"the batch axes of q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} "
                         "do not broadcast") from None
    if attn_mask is not None:
        if not (isinstance(attn_mask, np.ndarray) or _is_cupy(attn_mask)):
            raise TypeError(f"attn_mask must be an array, got {type(attn_mask).__name__}")
        if attn_mask.dtype not in (np.bool_, np.float32):
            raise TypeError(f"attn_mask must be bool (True = may attend) or float32 (added to the "
                            f"scores), got {attn_mask.dtype} (shape {tuple(attn_mask.shape)})")
        try:
            np.broadcast_shapes(attn_mask.shape, (*batch, L, S))
        except ValueError:
            raise ValueError(f"attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to the "
                             f"scores' shape {(*batch, L, S)} (..., L, S)") from None
    return batch, L, S, E, Ev


def attention(q, k, v, attn_mask=None, is_causal: bool = False, scale: float | None = None,
              variant: str = "warp", backend: str | None = None, schedule: str | None = None,
              sanitizer: str | None = None):
    """``softmax(q k^T * scale + mask) v`` as GEMM -> softmax kernel -> GEMM (the unfused pipeline).

    Shapes as ``torch.nn.functional.scaled_dot_product_attention``: q (..., L, E), k (..., S, E),
    v (..., S, Ev) -> out (..., L, Ev), batch axes broadcast; float32.  ``attn_mask``: bool
    (True = may attend, passed to the kernel) or float32 (added to the scores), broadcastable to
    (..., L, S); ``is_causal``: key j visible to query i iff j <= i (not together with a mask, as
    torch); ``scale`` defaults to 1 / sqrt(E).  A query that may attend to nothing gives zeros,
    never NaN.

    1. scores = (q * scale) @ k^T  -- (..., L, S), written to memory (cuBLAS / NumPy GEMM);
    2. probs = softmax(scores)     -- ``softmax.cu``, another (..., L, S) array;
    3. out = probs @ v             -- (..., L, Ev), GEMM.
    The two L x S intermediates are the point: :func:`attention_intermediate_bytes` gives their
    size, which grows as L * S while q, k, v, out grow as L + S.  Traffic: the GEMMs read q, k, v
    once each; scores are written once, read by the softmax (3 passes) and probs written once and
    read by the second GEMM -- about 2 * 4 * L * S * (2 + 1) bytes per batch entry besides q, k, v.
    """
    batch, L, S, E, Ev = _attention_shapes(q, k, v, attn_mask)
    if is_causal and attn_mask is not None:
        raise ValueError("give either attn_mask or is_causal=True, not both (as torch)")
    if scale is None:
        scale = 1.0 / math.sqrt(E)
    elif not (isinstance(scale, (int, float)) and math.isfinite(scale)):
        raise ValueError(f"scale must be a finite number or None, got {scale!r}")
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    backend = _resolve(backend)
    arr = _Arrays(backend, {"q": q, "k": k, "v": v, "attn_mask": attn_mask})
    xp = arr.xp
    mask8, mask_rows, additive = None, 0, None
    if attn_mask is not None:
        md = xp.asarray(attn_mask)
        if md.dtype == np.bool_:
            mask8, mask_rows = _prepare_mask(md, (*batch, L, S), xp)
        else:
            if not bool((~xp.isnan(md) & (md != np.inf)).all()):
                raise ValueError(f"attn_mask (shape {tuple(md.shape)}) contains NaN or +inf; "
                                 "use -inf for 'never'")
            additive = md
    _check_rows("scores", int(np.prod(batch, dtype=np.int64)) * L)
    out = launch_attention(arr.put(q), arr.put(k), arr.put(v), is_causal, scale, variant, backend,
                           mask8=mask8, mask_rows=mask_rows, additive_mask=additive,
                           schedule=schedule, sanitizer=sanitizer)
    return arr.out(out)


def launch_attention(q, k, v, is_causal: bool = False, scale: float | None = None,
                     variant: str = "warp", backend: str = "cupy", *, mask8=None, mask_rows: int = 0,
                     additive_mask=None, schedule: str | None = None, sanitizer: str | None = None):
    """The three steps of :func:`attention` on arrays already on ``backend``'s side; no checks
    (for benchmarks).  ``mask8``/``mask_rows``: a boolean mask prepared as for the softmax kernel;
    ``additive_mask``: a float32 array added to the scores."""
    xp = np if backend == "emulator" else __import__("cupy")
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    scores = xp.matmul(q * np.float32(scale), xp.swapaxes(k, -1, -2))          # (..., L, S)
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    if scores.shape != (*batch, L, S):          # k, v with more batch axes than q
        scores = xp.broadcast_to(scores, (*batch, L, S)).copy()
    if additive_mask is not None:
        scores += additive_mask
    if mask8 is None:
        mask8, mask_rows = xp.zeros(1, dtype=np.uint8), 0     # never read: mask_rows = 0
    probs = xp.empty_like(scores)
    launch_softmax(scores, mask8, probs, scores.size // S, L, S, mask_rows, is_causal, variant,
                   backend, schedule, sanitizer)
    del scores                                  # the second GEMM may reuse its memory
    return xp.matmul(probs, v)


def attention_intermediate_bytes(q_shape, k_shape, dtype_bytes: int = 4) -> dict[str, int]:
    """Bytes of the (..., L, S) arrays that :func:`attention` materialises.

    ``scores`` and ``probs`` each hold prod(batch) * L * S elements; both are alive while the
    softmax runs, so ``peak`` is their sum (FlashAttention keeps neither: its extra memory is
    O(L) per head).  ``qkvo`` is q, k, v and the output together, for comparison
    (Ev = E assumed).
    """
    q_shape, k_shape = tuple(int(s) for s in q_shape), tuple(int(s) for s in k_shape)
    if len(q_shape) < 2 or len(k_shape) < 2 or q_shape[-1] != k_shape[-1]:
        raise ValueError(f"q_shape (..., L, E) and k_shape (..., S, E) must share E, "
                         f"got {q_shape}, {k_shape}")
    batch = np.broadcast_shapes(q_shape[:-2], k_shape[:-2])
    (L, E), S = q_shape[-2:], k_shape[-2]
    nb = int(np.prod(batch, dtype=np.int64))
    per = nb * L * S * dtype_bytes
    return {"scores": per, "probs": per, "peak": 2 * per,
            "qkvo": nb * (2 * L + 2 * S) * E * dtype_bytes}

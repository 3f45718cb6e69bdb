"""Launchers of the FlashAttention kernels (``course_lib/attention/kernels/flash_*.cu``, ``decode.cu``).

* :func:`flash_attention_gpu` -- the fused forward: ``softmax(scale q k^T) v`` and its log-sum-exp
  without an L x S matrix in memory.  Three variants of one algorithm (query tile per block,
  K/V tiles in shared memory, online softmax):

  - ``"f32"``  -- ``flash_fwd_f32.cu``: float32 throughout, one thread per query row;
  - ``"half"`` -- ``flash_fwd_half.cu``: __half or __nv_bfloat16 inputs and output, float32
    scores, softmax and accumulator (the same loop as f32);
  - ``"wmma"`` -- ``flash_fwd_wmma.cu`` (__half, sm_70+) / ``flash_fwd_wmma_bf16.cu``
    (__nv_bfloat16, sm_80+): both products (q k^T and p v) on tensor cores with
    ``nvcuda::wmma`` 16x16x16 fragments and float accumulators, a warp per 16 query rows
    (4 warps per block up to E = 64, 2 above).

* :func:`flash_attention_backward_gpu` -- ``flash_bwd_f32.cu``, float32: D = rowsum(dO * O),
  then dk, dv with one block per K/V tile (each block owns its keys: no atomics), then dq in a
  separate pass with one block per query tile (again no atomics, so deterministic; FlashAttention-2
  itself adds dq with atomicAdd from the K/V blocks, one pass fewer).
* :func:`flash_decode_gpu` -- ``decode.cu``: one new query per sequence against a KV cache,
  split over the cache into chunks of ``DECODE_CHUNK`` keys (one block each, partial (m, l, acc)),
  then a merge kernel (flash-decoding).

Shapes as ``torch.nn.functional.scaled_dot_product_attention``: q (B, H, L, E), k and v
(B, H_kv, S, E) -> out (B, H, L, E); ``enable_gqa=True`` lets H_kv divide H (grouped-query
attention: query head h reads key/value head h // (H // H_kv)).  E <= 128, the same for q, k and v.
Arrays are NumPy (any backend; on CuPy copied to the device and back) or CuPy (CuPy backend,
results stay on the device).  Results are float32 (the half variants' outputs are widened).
``backend=None``: CuPy with a GPU, else the CPU emulator; ``schedule`` and ``sanitizer`` are
emulator options, as in :mod:`course_lib.attention.gpu`.

bfloat16 has no NumPy dtype: it travels as uint16 bit patterns (:func:`to_bf16_bits`,
:func:`from_bf16_bits`).

The float loops keep a query row (and its accumulator) in registers, so each kernel is built
for a largest head dim ``FLASH_EMAX`` (``-D`` option): 32, 64 or 128 (:func:`head_dim_bucket`).
ptxas (NVRTC 12.9, sm_90) reports: at 64, flash_fwd_f32 / half 164-167 registers and no spills,
flash_bwd_dq (three rows of E floats) 255 registers and 48 bytes spilled; at 128 every
float-loop kernel needs more than the 255 registers a thread may have and spills 160-1728
bytes to local memory.  The wmma kernels (72-120 registers) and decode (40) never spill: their
rows live in shared memory.  :data:`KERNELS` lists every kernel with a one-line description.
"""
from __future__ import annotations

import functools
import hashlib
import math
import re
from typing import Any

import numpy as np

from .gpu import KERNELS_DIR, KernelInfo, _Arrays, _is_cupy, _resolve

VARIANTS = ("f32", "half", "wmma")
HALF_DTYPES = ("float16", "bfloat16")
MAX_HEAD_DIM = 128
#: query rows per block of flash_fwd_f32 / flash_fwd_half / flash_bwd_dq (one thread each)
BLOCK_Q = 64
#: keys per block of flash_bwd_dkdv (one thread each)
BWD_BLOCK_K = 32
#: keys per block of the decode partial kernel (one thread each)
DECODE_CHUNK = 128

#: Every kernel launched by this module, by name (for the book and scripts).
KERNELS: dict[str, KernelInfo] = {
    "flash_fwd_f32": KernelInfo("flash_fwd_f32.cu", "flash_fwd_f32",
                                "forward, float32: a thread per query row, 64 rows per block, K/V "
                                "tiles of 32 keys in shared memory, online softmax, lse"),
    "flash_fwd_f16": KernelInfo("flash_fwd_half.cu", "flash_fwd_f16",
                                "forward, __half in and out, float32 scores and accumulator"),
    "flash_fwd_bf16": KernelInfo("flash_fwd_half.cu", "flash_fwd_bf16",
                                 "forward, __nv_bfloat16 in and out, float32 scores and accumulator"),
    "flash_fwd_wmma_f16": KernelInfo("flash_fwd_wmma.cu", "flash_fwd_wmma_f16",
                                     "forward on tensor cores (wmma 16x16x16, __half, float "
                                     "accumulators): a warp per 16 query rows; sm_70+"),
    "flash_fwd_wmma_bf16": KernelInfo("flash_fwd_wmma_bf16.cu", "flash_fwd_wmma_bf16",
                                      "the same with __nv_bfloat16 fragments; sm_80+"),
    "flash_bwd_preprocess": KernelInfo("flash_bwd_f32.cu", "flash_bwd_preprocess",
                                       "backward step 1: D = rowsum(dO * O), a thread per row"),
    "flash_bwd_dkdv": KernelInfo("flash_bwd_f32.cu", "flash_bwd_dkdv",
                                 "backward step 2: dK, dV, a thread per key, 32 keys per block, "
                                 "looping over the query tiles of the GQA group; no atomics"),
    "flash_bwd_dq": KernelInfo("flash_bwd_f32.cu", "flash_bwd_dq",
                               "backward step 3: dQ, a thread per query row, K/V tiles in shared "
                               "memory (a separate pass instead of atomics)"),
    "flash_decode_partial": KernelInfo("decode.cu", "flash_decode_partial",
                                       "decode: a block per 128-row chunk of the KV cache, "
                                       "partial (max, sum, acc)"),
    "flash_decode_merge": KernelInfo("decode.cu", "flash_decode_merge",
                                     "decode: merges the chunks' partial softmax states"),
}


# --------------------------------------------------------------------------- builds

def head_dim_bucket(E: int) -> int:
    """FLASH_EMAX of the float-loop kernels for head dim E: 32, 64 or 128 (fewer builds)."""
    for b in (32, 64, MAX_HEAD_DIM):
        if E <= b:
            return b
    raise ValueError(f"head dim E = {E} is larger than the kernels take ({MAX_HEAD_DIM})")


def _local_headers_tag(file: str) -> str:
    """A short hash of the ``#include "..."`` headers of ``kernels/file``.

    Passed as a ``-D`` option so that a changed header changes the build: the kernel caches
    (CuPy's, and the emulator's) key a build on the source text and the options, not on the
    files it includes."""
    src = (KERNELS_DIR / file).read_text()
    h = hashlib.sha256()
    for name in re.findall(r'#include\s+"([^"]+)"', src):
        h.update((KERNELS_DIR / name).read_bytes())
    return h.hexdigest()[:12]


@functools.lru_cache(maxsize=None)
def _module(file: str, emax: int, backend: str, schedule: str | None, sanitizer: str | None):
    from ..cuda import RawModule
    opts = {}
    if backend == "emulator":
        opts = {k: v for k, v in (("schedule", schedule), ("sanitizer", sanitizer)) if v is not None}
    return RawModule(path=KERNELS_DIR / file, backend=backend,
                     options=(f"-DFLASH_EMAX={emax}",
                              f"-DFLASH_HEADERS_{_local_headers_tag(file)}"), **opts)


def get_kernel(file: str, name: str, emax: int, backend: str | None = None,
               schedule: str | None = None, sanitizer: str | None = None):
    """Kernel ``name`` of ``kernels/file`` built with ``-DFLASH_EMAX=emax`` (modules cached)."""
    return _module(file, emax, _resolve(backend), schedule, sanitizer).get_function(name)


def _device_cc(backend: str) -> int | None:
    if backend != "cupy":
        return None
    import cupy
    return int(cupy.cuda.Device().compute_capability)


# --------------------------------------------------------------------------- dtypes

def to_bf16_bits(x) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (uint16), rounded to nearest even (finite input)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(b) -> np.ndarray:
    """bfloat16 bit patterns (uint16) -> float32 (exact)."""
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def round_to(x, dtype: str) -> np.ndarray:
    """x rounded to ``dtype`` ("float16" / "bfloat16") and back to float32: the values the half
    kernels actually see (tests build their float64 references from these)."""
    if dtype == "float16":
        return np.asarray(x, np.float32).astype(np.float16).astype(np.float32)
    return from_bf16_bits(to_bf16_bits(x))


def _pick_half_dtype(dtype, variant: str, backend: str) -> str:
    """float16 unless asked otherwise; bfloat16 tensor cores need compute capability 8.0."""
    if dtype is None or (not isinstance(dtype, str) and dtype is np.float16):
        dtype = "float16"
    if dtype not in HALF_DTYPES:
        raise ValueError(f"dtype must be one of {HALF_DTYPES} for variant {variant!r}, got {dtype!r}")
    cc = _device_cc(backend)
    if variant == "wmma" and dtype == "bfloat16" and cc is not None and cc < 80:
        raise ValueError(f"bfloat16 tensor-core fragments need compute capability 8.0 (Ampere) or "
                         f"newer; this GPU is {cc // 10}.{cc % 10}: use dtype='float16'")
    return dtype


# --------------------------------------------------------------------------- argument checks

def _check_tensor(name: str, a: Any, layout: str, ndim: int = 4, dtypes=(np.float32,)) -> None:
    if not (isinstance(a, np.ndarray) or _is_cupy(a)):
        raise TypeError(f"{name} must be a numpy.ndarray or cupy.ndarray, got {type(a).__name__}")
    if a.dtype not in dtypes:
        raise TypeError(f"{name} must have dtype {' or '.join(np.dtype(d).name for d in dtypes)}, "
                        f"got {a.dtype} (shape {tuple(a.shape)})")
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {tuple(a.shape)}")
    if 0 in a.shape:
        raise ValueError(f"{name} has an empty axis (shape {tuple(a.shape)}); every size must be >= 1")
    xp = __import__("cupy") if _is_cupy(a) else np
    if not bool(xp.isfinite(a).all()):
        raise ValueError(f"{name} (shape {tuple(a.shape)}) contains NaN/inf value(s)")


def _check_qkv(q, k, v, enable_gqa: bool, dtypes=(np.float32,)) -> tuple[int, int, int, int, int, int]:
    """Checks shared by the forward and backward; returns (B, H, H_kv, L, S, E)."""
    _check_tensor("q", q, "(B, H, L, E)", dtypes=dtypes)
    _check_tensor("k", k, "(B, H_kv, S, E)", dtypes=dtypes)
    _check_tensor("v", v, "(B, H_kv, S, E)", dtypes=dtypes)
    B, H, L, E = q.shape
    if tuple(k.shape) != tuple(v.shape):
        raise ValueError(f"k and v must have the same shape (B, H_kv, S, E) (the kernels need "
                         f"Ev = E), got k {tuple(k.shape)}, v {tuple(v.shape)}")
    Bk, H_kv, S, Ek = k.shape
    if Bk != B or Ek != E:
        raise ValueError(f"q {tuple(q.shape)} (B, H, L, E) and k {tuple(k.shape)} (B, H_kv, S, E) "
                         "must share B and E")
    if H_kv != H and not enable_gqa:
        raise ValueError(f"q has {H} heads but k, v have {H_kv}: pass enable_gqa=True for "
                         "grouped-query attention (as torch)")
    if H % H_kv:
        raise ValueError(f"the query heads H = {H} must be a multiple of the key/value heads "
                         f"H_kv = {H_kv} (q {tuple(q.shape)}, k {tuple(k.shape)})")
    if E > MAX_HEAD_DIM:
        raise ValueError(f"head dim E = {E} (q {tuple(q.shape)}) is larger than the kernels take "
                         f"({MAX_HEAD_DIM})")
    if B * H > 65535:
        raise ValueError(f"B * H = {B * H} blocks along grid y exceed CUDA's 65535; split the batch")
    return B, H, H_kv, L, S, E


def _scale(scale, E: int) -> float:
    if scale is None:
        return 1.0 / math.sqrt(E)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
        raise ValueError(f"scale must be a finite number or None, got {scale!r}")
    return float(scale)


def _i32(*values: int) -> tuple:
    return tuple(np.int32(x) for x in values)


# --------------------------------------------------------------------------- forward

def flash_attention_gpu(q, k, v, is_causal: bool = False, scale: float | None = None,
                        return_lse: bool = False, dtype=None, variant: str = "f32",
                        backend: str | None = None, schedule: str | None = None,
                        sanitizer: str | None = None, enable_gqa: bool = False):
    """FlashAttention forward on a GPU kernel: returns out (B, H, L, E) [and lse (B, H, L)].

    q (B, H, L, E), k and v (B, H_kv, S, E); any L, S >= 1 (ragged last tiles), E <= 128.
    ``is_causal``: key j visible to query i iff j <= i (top-left, as torch); whole key tiles past
    a query tile are skipped.  ``scale`` defaults to 1 / sqrt(E).  ``lse`` is the natural-log
    log-sum-exp of each query's scaled scores (float32), as the backward needs it.

    ``variant="f32"``: float32 inputs.  ``"half"`` / ``"wmma"``: float32 or float16 inputs are
    rounded to ``dtype`` ("float16", the default, or "bfloat16"; bfloat16 tensor cores need an
    sm_80 GPU, so a T4 runs float16); scores, softmax and accumulator stay float32; out is
    written in ``dtype`` and returned widened to float32.  The wmma kernels pad E to a multiple of
    16 (zero columns change no score and give output columns that are dropped).

    Cost: 4 B H L S E flops (about half with ``is_causal`` and L = S); memory traffic about
    (L + 2 S ceil(L / block_q)) E elements per head; extra memory only lse (B H L floats).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    backend = _resolve(backend)
    in_dtypes = (np.float32,) if variant == "f32" else (np.float32, np.float16)
    B, H, H_kv, L, S, E = _check_qkv(q, k, v, enable_gqa, in_dtypes)
    if variant == "f32" and dtype not in (None, np.float32, "float32"):
        raise ValueError(f"variant 'f32' computes in float32; for dtype {dtype!r} use "
                         "variant='half' or 'wmma'")
    scale = _scale(scale, E)
    arr = _Arrays(backend, {"q": q, "k": k, "v": v})
    xp = arr.xp
    args = dict(H=H, H_kv=H_kv, L=L, S=S, E=E, causal=bool(is_causal), scale=scale,
                backend=backend, schedule=schedule, sanitizer=sanitizer)
    if variant == "f32":
        qd, kd, vd = arr.put(q), arr.put(k), arr.put(v)
        out, lse = launch_flash_fwd_f32(qd, kd, vd, **args)
    else:
        hd = _pick_half_dtype(dtype, variant, backend)
        qd, kd, vd = (_to_half(arr, a, hd) for a in (q, k, v))
        launch = launch_flash_fwd_half if variant == "half" else launch_flash_fwd_wmma
        out_h, lse = launch(qd, kd, vd, dtype=hd, **args)
        out = (out_h.astype(np.float32) if hd == "float16"
               else (out_h.astype(np.uint32) << 16).view(np.float32))
    out = out.reshape(B, H, L, E)
    lse = lse.reshape(B, H, L)
    return (arr.out(out), arr.out(lse)) if return_lse else arr.out(out)


def _to_half(arr: _Arrays, a, dtype: str):
    """a as contiguous float16 / bfloat16-bits on the backend's side."""
    if dtype == "float16":
        return arr.put(a.astype(np.float16, copy=False))
    host = a.get() if _is_cupy(a) else a          # rounding done on the host, in NumPy
    return arr.put(to_bf16_bits(host.astype(np.float32)))


def launch_flash_fwd_f32(q, k, v, *, H, H_kv, L, S, E, causal, scale, backend,
                         schedule=None, sanitizer=None):
    """``flash_fwd_f32`` on contiguous float32 arrays already on the backend's side; no checks
    (for benchmarks).  Returns (out (B*H, L, E), lse (B*H, L))."""
    xp = np if backend == "emulator" else __import__("cupy")
    BH = q.size // (L * E)
    out = xp.empty((BH, L, E), np.float32)
    lse = xp.empty((BH, L), np.float32)
    kern = get_kernel("flash_fwd_f32.cu", "flash_fwd_f32", head_dim_bucket(E), backend,
                      schedule, sanitizer)
    kern((-(-L // BLOCK_Q), BH), (BLOCK_Q,),
         (q, k, v, out, lse, *_i32(H, H_kv, L, S, E, int(causal)), np.float32(scale)))
    return out, lse


def launch_flash_fwd_half(q, k, v, *, dtype, H, H_kv, L, S, E, causal, scale, backend,
                          schedule=None, sanitizer=None):
    """``flash_fwd_f16`` / ``flash_fwd_bf16`` (float16 or uint16-bit arrays); no checks.
    Returns (out (B*H, L, E) in the input's storage dtype, lse (B*H, L) float32)."""
    xp = np if backend == "emulator" else __import__("cupy")
    BH = q.size // (L * E)
    out = xp.empty((BH, L, E), q.dtype)
    lse = xp.empty((BH, L), np.float32)
    name = "flash_fwd_f16" if dtype == "float16" else "flash_fwd_bf16"
    kern = get_kernel("flash_fwd_half.cu", name, head_dim_bucket(E), backend, schedule, sanitizer)
    kern((-(-L // BLOCK_Q), BH), (BLOCK_Q,),
         (q, k, v, out, lse, *_i32(H, H_kv, L, S, E, int(causal)), np.float32(scale)))
    return out, lse


def wmma_head_dim(E: int) -> int:
    """E rounded up to the 16 of a wmma fragment."""
    return 16 * -(-E // 16)


def wmma_warps(Ep: int) -> int:
    """Warps (16 query rows each) per block of the wmma kernels for padded head dim Ep: 4 up to
    64, else 2 (shared memory); must match WQ_WARPS in flash_fwd_wmma_tile.cuh."""
    return 4 if Ep <= 64 else 2


def launch_flash_fwd_wmma(q, k, v, *, dtype, H, H_kv, L, S, E, causal, scale, backend,
                          schedule=None, sanitizer=None):
    """The tensor-core kernel; pads E to :func:`wmma_head_dim` (a copy) when needed; no checks.
    Returns (out (B*H, L, E) in the input's storage dtype, lse (B*H, L) float32)."""
    xp = np if backend == "emulator" else __import__("cupy")
    Ep = wmma_head_dim(E)
    if Ep != E:
        pad = ((0, 0),) * (q.ndim - 1) + ((0, Ep - E),)   # zero bits are +0.0 in both types
        q, k, v = (xp.pad(a, pad) for a in (q, k, v))
    BH = q.size // (L * Ep)
    out = xp.empty((BH, L, Ep), q.dtype)
    lse = xp.empty((BH, L), np.float32)
    file, name = (("flash_fwd_wmma.cu", "flash_fwd_wmma_f16") if dtype == "float16"
                  else ("flash_fwd_wmma_bf16.cu", "flash_fwd_wmma_bf16"))
    kern = get_kernel(file, name, Ep, backend, schedule, sanitizer)
    warps = wmma_warps(Ep)
    kern((-(-L // (16 * warps)), BH), (32 * warps,),
         (q, k, v, out, lse, *_i32(H, H_kv, L, S, int(causal)), np.float32(scale)))
    return (out[..., :E] if Ep != E else out), lse


# --------------------------------------------------------------------------- backward

def flash_attention_backward_gpu(dout, q, k, v, out, lse, is_causal: bool = False,
                                 scale: float | None = None, backend: str | None = None,
                                 schedule: str | None = None, sanitizer: str | None = None,
                                 enable_gqa: bool = False):
    """Gradients of :func:`flash_attention_gpu` (float32): returns (dq, dk, dv).

    dout, out (B, H, L, E) and lse (B, H, L) from the forward (``return_lse=True``).  The
    probabilities are recomputed tile by tile from q, k and lse, never stored:
        D_i = sum_d dO_id O_id;   P_ij = exp(scale q_i.k_j - lse_i);
        dV_j = sum_i P_ij dO_i;   dS_ij = P_ij (dO_i.v_j - D_i);
        dK_j = scale sum_i dS_ij q_i;   dQ_i = scale sum_j dS_ij k_j.
    Three kernels: ``flash_bwd_preprocess`` (D), ``flash_bwd_dkdv`` (one block per K/V tile of
    a key/value head, looping over the query tiles of every query head of its group, so GQA
    gradients are summed in the kernel) and ``flash_bwd_dq`` (one block per query tile).  No
    atomics.  Cost: about 2.5x the forward's flops (S = q k^T is computed twice).
    """
    backend = _resolve(backend)
    B, H, H_kv, L, S, E = _check_qkv(q, k, v, enable_gqa)
    _check_tensor("dout", dout, "(B, H, L, E)")
    _check_tensor("out", out, "(B, H, L, E)")
    _check_tensor("lse", lse, "(B, H, L)", ndim=3)
    for name, a in (("dout", dout), ("out", out)):
        if tuple(a.shape) != tuple(q.shape):
            raise ValueError(f"{name} must have q's shape {tuple(q.shape)}, got {tuple(a.shape)}")
    if tuple(lse.shape) != (B, H, L):
        raise ValueError(f"lse must have shape {(B, H, L)} (q {tuple(q.shape)} without E), "
                         f"got {tuple(lse.shape)}")
    scale = _scale(scale, E)
    arr = _Arrays(backend, {"dout": dout, "q": q, "k": k, "v": v, "out": out, "lse": lse})
    dq, dk, dv = launch_flash_bwd_f32(*(arr.put(a) for a in (dout, q, k, v, out, lse)),
                                      H=H, H_kv=H_kv, L=L, S=S, E=E, causal=bool(is_causal),
                                      scale=scale, backend=backend, schedule=schedule,
                                      sanitizer=sanitizer)
    return arr.out(dq), arr.out(dk), arr.out(dv)


def launch_flash_bwd_f32(dout, q, k, v, out, lse, *, H, H_kv, L, S, E, causal, scale, backend,
                         schedule=None, sanitizer=None):
    """The three backward kernels on contiguous float32 arrays on the backend's side; no checks."""
    xp = np if backend == "emulator" else __import__("cupy")
    emax = head_dim_bucket(E)
    kern = functools.partial(get_kernel, "flash_bwd_f32.cu", emax=emax, backend=backend,
                             schedule=schedule, sanitizer=sanitizer)
    rows = q.size // E
    BH, BHkv = rows // L, k.size // (S * E)
    delta = xp.empty(rows, np.float32)
    kern("flash_bwd_preprocess")((-(-rows // 128),), (128,), (dout, out, delta, *_i32(rows, E)))
    dq = xp.empty(q.shape, np.float32)
    dk = xp.empty(k.shape, np.float32)
    dv = xp.empty(v.shape, np.float32)
    sizes = (*_i32(H, H_kv, L, S, E, int(causal)), np.float32(scale))
    kern("flash_bwd_dkdv")((-(-S // BWD_BLOCK_K), BHkv), (BWD_BLOCK_K,),
                           (q, k, v, dout, lse, delta, dk, dv, *sizes))
    kern("flash_bwd_dq")((-(-L // BLOCK_Q), BH), (BLOCK_Q,),
                         (q, k, v, dout, lse, delta, dq, *sizes))
    return dq, dk, dv


# --------------------------------------------------------------------------- decode

def flash_decode_gpu(q, k_cache, v_cache, lengths=None, scale: float | None = None,
                     return_lse: bool = False, backend: str | None = None,
                     schedule: str | None = None, sanitizer: str | None = None):
    """One decoding step: each sequence's new query against its KV cache (flash-decoding).

    q (B, H, E) float32 (the new token's queries); k_cache, v_cache (B, H_kv, S, E) float32, H a
    multiple of H_kv (GQA; H_kv = 1 is MQA); ``lengths`` (B,) integers in [1, S]: how many cache
    rows of each sequence are filled (default all S).  Returns out (B, H, E) [and lse (B, H)].

    ``flash_decode_partial``: grid (ceil(S / DECODE_CHUNK), B*H), one thread per cache row of the
    chunk: scores, the chunk's max m_c and sum l_c by block reductions, acc_c = sum_j p_j v_j.
    ``flash_decode_merge``: per (b, h), M = max_c m_c, out = sum_c e^(m_c - M) acc_c / sum_c
    e^(m_c - M) l_c.  Splitting the sequence is the point: one query per head gives only B*H
    blocks otherwise, too few to fill a GPU when B is small and S long.  Cost: 4 B H S E flops;
    the cache (2 B H_kv S E elements) is read once per query head (once per group from cache).
    """
    backend = _resolve(backend)
    _check_tensor("q", q, "(B, H, E)", ndim=3)
    _check_tensor("k_cache", k_cache, "(B, H_kv, S, E)")
    _check_tensor("v_cache", v_cache, "(B, H_kv, S, E)")
    B, H, E = q.shape
    if tuple(k_cache.shape) != tuple(v_cache.shape):
        raise ValueError(f"k_cache {tuple(k_cache.shape)} and v_cache {tuple(v_cache.shape)} must "
                         "have the same shape")
    Bk, H_kv, S, Ek = k_cache.shape
    if Bk != B or Ek != E:
        raise ValueError(f"q {tuple(q.shape)} (B, H, E) and k_cache {tuple(k_cache.shape)} "
                         "(B, H_kv, S, E) must share B and E")
    if H % H_kv:
        raise ValueError(f"the query heads H = {H} must be a multiple of the cache heads "
                         f"H_kv = {H_kv}")
    if E > MAX_HEAD_DIM:
        raise ValueError(f"head dim E = {E} is larger than the kernels take ({MAX_HEAD_DIM})")
    if B * H > 65535:
        raise ValueError(f"B * H = {B * H} blocks along grid y exceed CUDA's 65535; split the batch")
    if lengths is None:
        lens = np.full(B, S, np.int32)
    else:
        lens = np.asarray(lengths.get() if _is_cupy(lengths) else lengths)
        if lens.shape != (B,) or not np.issubdtype(lens.dtype, np.integer):
            raise ValueError(f"lengths must be {B} integers (one per sequence), got "
                             f"{lens.dtype} {lens.shape}")
        if lens.min() < 1 or lens.max() > S:
            raise ValueError(f"lengths must lie in [1, S = {S}], got {lens.min()}..{lens.max()}")
        lens = lens.astype(np.int32)
    scale = _scale(scale, E)
    arr = _Arrays(backend, {"q": q, "k_cache": k_cache, "v_cache": v_cache})
    out, lse = launch_flash_decode(arr.put(q), arr.put(k_cache), arr.put(v_cache), arr.put(lens),
                                   H=H, H_kv=H_kv, S=S, E=E, scale=scale, backend=backend,
                                   schedule=schedule, sanitizer=sanitizer)
    out, lse = out.reshape(B, H, E), lse.reshape(B, H)
    return (arr.out(out), arr.out(lse)) if return_lse else arr.out(out)


def launch_flash_decode(q, k, v, lengths, *, H, H_kv, S, E, scale, backend, schedule=None,
                        sanitizer=None):
    """The two decode kernels on arrays on the backend's side; no checks.
    Returns (out (B*H, E), lse (B*H,))."""
    xp = np if backend == "emulator" else __import__("cupy")
    kern = functools.partial(get_kernel, "decode.cu", emax=head_dim_bucket(E), backend=backend,
                             schedule=schedule, sanitizer=sanitizer)
    BH = q.size // E
    chunks = -(-S // DECODE_CHUNK)
    part_m = xp.empty((BH, chunks), np.float32)
    part_l = xp.empty((BH, chunks), np.float32)
    part_acc = xp.empty((BH, chunks, E), np.float32)
    kern("flash_decode_partial")((chunks, BH), (DECODE_CHUNK,),
                                 (q, k, v, lengths, part_m, part_l, part_acc,
                                  *_i32(H, H_kv, S, E), np.float32(scale)))
    out = xp.empty((BH, E), np.float32)
    lse = xp.empty(BH, np.float32)
    kern("flash_decode_merge")((BH,), (min(128, 32 * -(-E // 32)),),
                               (part_m, part_l, part_acc, out, lse, *_i32(chunks, E)))
    return out, lse

"""Launch wrappers of the convolution kernel ladder (``course_lib/conv/kernels/*.cu``).

Forward, ``y = conv2d(x, w, b)`` with x (B, C_in, H, W), w (C_out, C_in, KH, KW),
b (C_out,) or None -> y (B, C_out, OH, OW), float32:

1. ``"naive"``  -- ``conv2d_naive.cu``: one thread per output element, all reads from global memory.
2. ``"tiled"``  -- ``conv2d_tiled.cu``: a block stages an input tile + halo and a filter slice in
   shared memory and computes a 16x16 pixel tile for 8 output channels.
3. ``"im2col"`` -- ``im2col.cu``: copy every receptive field into a column matrix, then one batched
   matrix product (cuBLAS via ``cupy.matmul`` on a GPU, NumPy on the emulator) and a bias kernel.

Backward (``conv2d_backward.cu`` and ``im2col.cu``): the weight gradient by block reductions
(``"reduce"``) or im2col + GEMM, the bias gradient by block reductions, the input gradient by a
gather (``"gather"``, one thread per input element) or GEMM + ``col2im``.

Every function takes NumPy arrays (any backend; on the CuPy backend they are copied to the device
and the result comes back as NumPy) or CuPy arrays (CuPy backend; the result stays on the device).
``backend=None`` picks CuPy when a GPU is present, else the CPU emulator; ``schedule`` (emulator
only) sets the order in which the threads of a block run, to expose races.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._args import ConvGeometry, check_conv2d, check_conv2d_backward, geometry
from ..cuda.arrays import DeviceArrays as _Arrays, is_cupy as _is_cupy, resolve_backend as _resolve

#: The CUDA C sources of the ladder (found by ``load_module(file, package="course_lib.conv")``).
KERNELS_DIR = Path(__file__).resolve().parent / "kernels"
INT_MAX = 2**31 - 1
#: Threads per block of the 1-D "one thread per element" kernels.
BLOCK_1D = 256
#: Must match TILE_H, TILE_W, CO_TILE in conv2d_tiled.cu.
TILE_H, TILE_W, CO_TILE = 16, 16, 8
#: Default dynamic shared memory limit per block (more needs an opt-in attribute).
SMEM_LIMIT = 48 * 1024


@dataclass(frozen=True)
class KernelInfo:
    """One CUDA kernel of the ladder: where it lives and what it does (for the book and scripts)."""

    file: str
    function: str
    description: str


#: Every kernel launched by this module, by short name.
KERNELS: dict[str, KernelInfo] = {
    "naive": KernelInfo("conv2d_naive.cu", "conv2d_naive",
                        "forward, one thread per output element, operands read from global memory"),
    "tiled": KernelInfo("conv2d_tiled.cu", "conv2d_tiled",
                        "forward, 16x16 output tile x 8 output channels per block; input tile + halo "
                        "and filter slice staged in shared memory"),
    "im2col": KernelInfo("im2col.cu", "im2col",
                         "receptive fields copied into a (B, C_in*KH*KW, OH*OW) column matrix, "
                         "one thread per column element; a GEMM follows"),
    "bias_add": KernelInfo("im2col.cu", "bias_add_nchw",
                           "adds bias[c] to every element of channel c after the im2col GEMM"),
    "col2im": KernelInfo("im2col.cu", "col2im",
                         "adjoint of im2col: each input element gathers the column entries that "
                         "copied it (input gradient after the dcol GEMM)"),
    "backward_weight": KernelInfo("conv2d_backward.cu", "conv2d_backward_weight",
                                  "dW, one block per weight element reducing over (b, oh, ow) with "
                                  "warp shuffles and shared memory"),
    "backward_bias": KernelInfo("conv2d_backward.cu", "conv2d_backward_bias",
                                "db, one block per output channel, same block reduction"),
    "backward_input": KernelInfo("conv2d_backward.cu", "conv2d_backward_input",
                                 "dX gather, one thread per input element summing the outputs that "
                                 "saw it (stride handled by a divisibility test)"),
}

FORWARD_KERNELS = ("naive", "tiled", "im2col")


# --------------------------------------------------------------------------- backends and arrays

@functools.lru_cache(maxsize=None)
def _module(file: str, backend: str, schedule: str | None):
    from ..cuda import load_module
    opts = {} if schedule is None or backend == "cupy" else {"schedule": schedule}
    return load_module(file, package=__package__, backend=backend, **opts)


def get_kernel(name: str, backend: str | None = None, schedule: str | None = None):
    """The compiled kernel ``KERNELS[name]`` for ``backend`` (modules are cached)."""
    from ..cuda import default_backend
    info = KERNELS[name]
    return _module(info.file, backend or default_backend(), schedule).get_function(info.function)


def _check_float32(**arrays: Any) -> None:
    for name, a in arrays.items():
        if a is None:
            continue
        if not (isinstance(a, np.ndarray) or _is_cupy(a)):
            raise TypeError(f"{name} must be a numpy.ndarray or cupy.ndarray, got {type(a).__name__}")
        if a.dtype != np.float32:
            raise TypeError(f"the CUDA kernels are float32 only: {name} has dtype {a.dtype} "
                            f"(shape {tuple(a.shape)}); convert with {name}.astype(np.float32)")


def _check_device(layouts: dict[str, tuple[Any, str]]) -> None:
    """The checks of course_lib._validate.check_array, for CuPy arrays (one sync for NaN/inf)."""
    for name, (a, layout) in layouts.items():
        if a is None or not _is_cupy(a):
            continue
        want = len([d for d in layout.strip("()").split(",") if d.strip()])  # "(C_out,)" is 1-D
        if a.ndim != want:
            raise ValueError(f"{name} must be {want}-D {layout}, got shape {tuple(a.shape)}")
        import cupy
        if a.size and not bool(cupy.isfinite(a).all()):
            raise ValueError(f"{name} (shape {tuple(a.shape)}) contains NaN/inf value(s); "
                             "the implementations assume finite inputs")


def _validate_forward(x, w, b, stride, padding) -> ConvGeometry:
    _check_float32(x=x, w=w, b=b)
    if all(a is None or isinstance(a, np.ndarray) for a in (x, w, b)):
        return check_conv2d(x, w, b, stride, padding)[3]
    _check_device({"x": (x, "(B, C_in, H, W)"), "w": (w, "(C_out, C_in, KH, KW)"), "b": (b, "(C_out,)")})
    g = geometry(x.shape, w.shape, stride, padding)
    if b is not None and tuple(b.shape) != (g.C_out,):
        raise ValueError(f"b has shape {tuple(b.shape)} but w (shape {tuple(w.shape)}) has C_out={g.C_out}")
    return g


def _validate_backward(dy, x, w, stride, padding) -> ConvGeometry:
    _check_float32(dy=dy, x=x, w=w)
    if all(isinstance(a, np.ndarray) for a in (dy, x, w)):
        return check_conv2d_backward(dy, x, w, stride, padding)[3]
    _check_device({"dy": (dy, "(B, C_out, OH, OW)"), "x": (x, "(B, C_in, H, W)"),
                   "w": (w, "(C_out, C_in, KH, KW)")})
    g = geometry(x.shape, w.shape, stride, padding)
    if tuple(dy.shape) != g.y_shape:
        raise ValueError(f"dy has shape {tuple(dy.shape)} but the forward output for x {tuple(x.shape)}, "
                         f"w {tuple(w.shape)}, stride {g.stride}, padding {g.padding} is {g.y_shape}")
    return g


def _check_int_range(what: str, n: int) -> None:
    if n > INT_MAX:
        raise ValueError(f"{what} has {n} elements, more than the kernels' 32-bit int indices "
                         f"allow ({INT_MAX}); split the batch")


def _i32(*values: int) -> tuple:
    return tuple(np.int32(v) for v in values)


def _geometry_args(g: ConvGeometry) -> tuple:
    """The int parameters shared by the kernels, in their C order."""
    (sh, sw), (ph, pw) = g.stride, g.padding
    return _i32(g.B, g.C_in, g.H, g.W, g.C_out, g.KH, g.KW, sh, sw, ph, pw, g.OH, g.OW)


def _grid_1d(n: int, block: int = BLOCK_1D) -> tuple[tuple[int], tuple[int]]:
    return ((n + block - 1) // block,), (block,)


# --------------------------------------------------------------------------- launch configurations

def naive_launch_config(g: ConvGeometry) -> dict:
    """Grid and block of ``conv2d_naive``: one thread per output element.

    Thread ``t = blockIdx.x * 256 + threadIdx.x`` computes ``y.ravel()[t]``, i.e.
    ``(b, co, oh, ow)`` with ``ow`` fastest, so a warp covers 32 neighbouring output pixels of one
    channel: its x reads are neighbours (coalesced for stride 1), its weight reads one broadcast.
    ``grid = (ceil(B*C_out*OH*OW / 256),)``; the last block's surplus threads return at once.
    """
    n = g.B * g.C_out * g.OH * g.OW
    _check_int_range("y", n)
    grid, block = _grid_1d(n)
    return dict(grid=grid, block=block, shared_mem=0)


def tiled_ci_chunk(g: ConvGeometry, limit: int = SMEM_LIMIT, max_chunk: int = 8) -> int:
    """Input channels staged per step of ``conv2d_tiled``: as many as fit ``limit`` bytes, <= 8."""
    (sh, sw) = g.stride
    patch = ((TILE_H - 1) * sh + g.KH) * ((TILE_W - 1) * sw + g.KW)
    per_channel = 4 * (patch + CO_TILE * g.KH * g.KW)
    chunk = min(g.C_in, max_chunk, limit // per_channel)
    if chunk < 1:
        raise ValueError(f"conv2d_tiled cannot stage one input channel for kernel {g.KH}x{g.KW}, "
                         f"stride {g.stride} in {limit} bytes of shared memory ({per_channel} needed); "
                         "use kernel='naive' or 'im2col'")
    return chunk


def tiled_launch_config(g: ConvGeometry) -> dict:
    """Grid, block and dynamic shared memory of ``conv2d_tiled``.

    ``block = (16, 16)``: thread ``(tx, ty)`` of block ``(bx, by, bz)`` computes output pixel
    ``(oh, ow) = (16 * (bx // tiles_w) + ty, 16 * (bx % tiles_w) + tx)`` of image ``b = bz`` for the
    8 output channels ``co = 8 * by + j``, j = 0..7 (its 8 accumulators live in registers).
    ``grid = (tiles_h * tiles_w, ceil(C_out / 8), B)`` with ``tiles_h = ceil(OH / 16)`` and
    ``tiles_w = ceil(OW / 16)``: ragged edge tiles and a partial last channel group are masked
    inside the kernel.  Shared memory holds ``ci_chunk`` input patches of
    ``(15*sh + KH) x (15*sw + KW)`` floats (tile + halo) and the matching ``8 x ci_chunk x KH x KW``
    weights.
    """
    tiles_h, tiles_w = -(-g.OH // TILE_H), -(-g.OW // TILE_W)
    if g.B > 65535:
        raise ValueError(f"conv2d_tiled puts the batch on grid.z (at most 65535), got B={g.B}")
    _check_int_range("x", g.B * g.C_in * g.H * g.W)
    chunk = tiled_ci_chunk(g)
    (sh, sw) = g.stride
    patch = ((TILE_H - 1) * sh + g.KH) * ((TILE_W - 1) * sw + g.KW)
    smem = 4 * chunk * (patch + CO_TILE * g.KH * g.KW)
    return dict(grid=(tiles_h * tiles_w, -(-g.C_out // CO_TILE), g.B), block=(TILE_W, TILE_H),
                shared_mem=smem, ci_chunk=chunk)


def im2col_launch_config(g: ConvGeometry) -> dict:
    """``im2col``: one thread per element of col (B, C_in*KH*KW, OH*OW), in col's memory order.

    Thread t writes ``col.ravel()[t]`` (consecutive threads: consecutive output pixels ``n``, so
    the stores are coalesced).  ``grid = (ceil(col.size / 256),)``.
    """
    n = g.B * g.C_in * g.KH * g.KW * g.OH * g.OW
    grid, block = _grid_1d(n)
    return dict(grid=grid, block=block, shared_mem=0, col_shape=(g.B, g.C_in * g.KH * g.KW, g.OH * g.OW))


def reduce_block_size(n_terms: int) -> int:
    """Threads of a reduction block: whole warps, at most 256, no more warps than terms need."""
    return min(256, 32 * -(-n_terms // 32))


# --------------------------------------------------------------------------- forward

def conv2d_gpu(x, w, b=None, stride=1, padding=0, kernel: str = "naive",
               backend: str | None = None, schedule: str | None = None):
    """2-D convolution by one of the CUDA kernels ``"naive"``, ``"tiled"`` or ``"im2col"``.

    Shapes: x (B, C_in, H, W), w (C_out, C_in, KH, KW), b (C_out,) or None -> y (B, C_out, OH, OW);
    float32 only.  ``stride``/``padding``: int or (h, w) pair.  NumPy in -> NumPy out (any backend);
    CuPy in -> CuPy out (CuPy backend).
    """
    if kernel not in FORWARD_KERNELS:
        raise ValueError(f"kernel must be one of {FORWARD_KERNELS}, got {kernel!r}")
    g = _validate_forward(x, w, b, stride, padding)
    backend = _resolve(backend)
    arr = _Arrays(backend, {"x": x, "w": w, "b": b})
    x, w, b = arr.put(x), arr.put(w), arr.put(b)
    y = arr.xp.empty(g.y_shape, dtype=np.float32)
    launch_forward(kernel, g, x, w, b, y, backend=backend, schedule=schedule)
    return arr.out(y)


def launch_forward(kernel: str, g: ConvGeometry, x, w, b, y, backend: str, schedule: str | None = None):
    """Run forward ``kernel`` into the preallocated ``y``; no argument checks (for benchmarks).

    All arrays must be C-contiguous float32 on the backend's side (NumPy for the emulator,
    CuPy for CuPy); ``b`` may be None.  Returns ``y``.
    """
    xp = np if backend == "emulator" else __import__("cupy")
    if kernel == "im2col":
        cfg = im2col_launch_config(g)
        col = xp.empty(cfg["col_shape"], dtype=np.float32)
        get_kernel("im2col", backend, schedule)(cfg["grid"], cfg["block"], (x, col, *_im2col_args(g)))
        # (C_out, K) @ (B, K, N) -> (B, C_out, N): batched SGEMM, already NCHW
        y3 = y.reshape(g.B, g.C_out, g.OH * g.OW)
        xp.matmul(w.reshape(g.C_out, -1), col, out=y3)
        if b is not None:
            grid, block = _grid_1d(y.size)
            get_kernel("bias_add", backend, schedule)(grid, block, (y, b, *_i32(g.B, g.C_out, g.OH * g.OW)))
        return y
    if b is None:
        b = xp.zeros(g.C_out, dtype=np.float32)
    if kernel == "naive":
        cfg = naive_launch_config(g)
        args = (x, w, b, y, *_geometry_args(g))
    else:
        cfg = tiled_launch_config(g)
        args = (x, w, b, y, *_geometry_args(g), np.int32(cfg["ci_chunk"]))
    get_kernel(kernel, backend, schedule)(cfg["grid"], cfg["block"], args, shared_mem=cfg["shared_mem"])
    return y


def _im2col_args(g: ConvGeometry) -> tuple:
    (sh, sw), (ph, pw) = g.stride, g.padding
    return _i32(g.B, g.C_in, g.H, g.W, g.KH, g.KW, sh, sw, ph, pw, g.OH, g.OW)


# --------------------------------------------------------------------------- backward

def conv2d_backward_weight_gpu(dy, x, w, stride=1, padding=0, kernel: str = "reduce",
                               backend: str | None = None, schedule: str | None = None):
    """dW (C_out, C_in, KH, KW) of the convolution, given dy (B, C_out, OH, OW) and x (B, C_in, H, W).

    ``kernel="reduce"``: ``conv2d_backward_weight``, grid = (C_out*C_in*KH*KW,) -- block i owns
    ``dw.ravel()[i]``; its threads (whole warps, <= 256) stride over the B*OH*OW terms with ``ow``
    fastest, then combine partial sums by warp shuffles and a shared-memory step.
    ``kernel="im2col"``: ``dW = sum_b dy[b] @ col[b].T`` with the im2col kernel and a GEMM.
    ``w`` gives the shapes only.
    """
    if kernel not in ("reduce", "im2col"):
        raise ValueError(f"kernel must be 'reduce' or 'im2col', got {kernel!r}")
    g = _validate_backward(dy, x, w, stride, padding)
    backend = _resolve(backend)
    arr = _Arrays(backend, {"dy": dy, "x": x, "w": w})
    dy, x = arr.put(dy), arr.put(x)
    xp = arr.xp
    if kernel == "im2col":
        cfg = im2col_launch_config(g)
        col = xp.empty(cfg["col_shape"], dtype=np.float32)
        get_kernel("im2col", backend, schedule)(cfg["grid"], cfg["block"], (x, col, *_im2col_args(g)))
        dy3 = dy.reshape(g.B, g.C_out, g.OH * g.OW)
        dw = xp.matmul(dy3, col.transpose(0, 2, 1)).sum(axis=0).reshape(g.w_shape)
        return arr.out(xp.ascontiguousarray(dw, dtype=np.float32))
    _check_int_range("dy", g.B * g.C_out * g.OH * g.OW)
    _check_int_range("x", g.B * g.C_in * g.H * g.W)
    dw = xp.empty(g.w_shape, dtype=np.float32)
    block = (reduce_block_size(g.B * g.OH * g.OW),)
    get_kernel("backward_weight", backend, schedule)((dw.size,), block, (dy, x, dw, *_geometry_args(g)))
    return arr.out(dw)


def conv2d_backward_bias_gpu(dy, backend: str | None = None, schedule: str | None = None):
    """db (C_out,) = dy summed over (b, oh, ow); grid = (C_out,), one reduction block per channel."""
    _check_float32(dy=dy)
    if isinstance(dy, np.ndarray):
        from .._validate import check_array
        check_array("dy", dy, 4, layout="(B, C_out, OH, OW)")
    else:
        _check_device({"dy": (dy, "(B, C_out, OH, OW)")})
    backend = _resolve(backend)
    arr = _Arrays(backend, {"dy": dy})
    dy = arr.put(dy)
    B, C_out, OH, OW = dy.shape
    _check_int_range("dy", dy.size)
    db = arr.xp.empty(C_out, dtype=np.float32)
    get_kernel("backward_bias", backend, schedule)((C_out,), (reduce_block_size(B * OH * OW),),
                                                   (dy, db, *_i32(B, C_out, OH, OW)))
    return arr.out(db)


def conv2d_backward_input_gpu(dy, x_shape, w, stride=1, padding=0, kernel: str = "gather",
                              backend: str | None = None, schedule: str | None = None):
    """dX (B, C_in, H, W) given dy (B, C_out, OH, OW), the input's shape ``x_shape`` and w.

    ``kernel="gather"``: ``conv2d_backward_input``, one thread per dx element in memory order,
    grid = (ceil(B*C_in*H*W / 256),); each sums ``dy * w`` over the (co, kh, kw) whose output
    position (oh, ow) = ((ih + ph - kh) / sh, (iw + pw - kw) / sw) is an integer inside the output.
    ``kernel="col2im"``: ``dcol[b] = w.reshape(C_out, K).T @ dy[b]`` (GEMM), then ``col2im``
    (one thread per dx element gathering its column entries).
    """
    if kernel not in ("gather", "col2im"):
        raise ValueError(f"kernel must be 'gather' or 'col2im', got {kernel!r}")
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (B, C_in, H, W), got {x_shape}")
    _check_float32(dy=dy, w=w)
    if isinstance(dy, np.ndarray) and isinstance(w, np.ndarray):
        # the shared backward check, with a stand-in x of the right shape (no data needed)
        g = check_conv2d_backward(dy, np.broadcast_to(np.float32(0), x_shape), w, stride, padding)[3]
    else:
        _check_device({"dy": (dy, "(B, C_out, OH, OW)"), "w": (w, "(C_out, C_in, KH, KW)")})
        g = geometry(x_shape, w.shape, stride, padding)
        if tuple(dy.shape) != g.y_shape:
            raise ValueError(f"dy has shape {tuple(dy.shape)} but the forward output for x {x_shape}, "
                             f"w {tuple(w.shape)}, stride {g.stride}, padding {g.padding} is {g.y_shape}")
    backend = _resolve(backend)
    arr = _Arrays(backend, {"dy": dy, "w": w})
    dy, w = arr.put(dy), arr.put(w)
    xp = arr.xp
    _check_int_range("dx", g.B * g.C_in * g.H * g.W)
    dx = xp.empty(g.x_shape, dtype=np.float32)
    grid, block = _grid_1d(dx.size)
    if kernel == "gather":
        get_kernel("backward_input", backend, schedule)(grid, block, (dy, w, dx, *_geometry_args(g)))
    else:
        dy3 = dy.reshape(g.B, g.C_out, g.OH * g.OW)
        dcol = xp.ascontiguousarray(xp.matmul(w.reshape(g.C_out, -1).T, dy3), dtype=np.float32)
        get_kernel("col2im", backend, schedule)(grid, block, (dcol, dx, *_im2col_args(g)))
    return arr.out(dx)

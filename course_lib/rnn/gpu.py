"""LSTM and GRU on the GPU: fused pointwise kernels and sequence drivers (``kernels/*.cu``).

A recurrent layer spends each time step on two kinds of work:

* matrix products -- ``x_t W_ih^T`` (for all steps at once, one GEMM of (T*B, I) x (I, 4H)) and
  ``h_{t-1} W_hh^T`` (one (B, H) x (H, 4H) GEMM per step, sequential because h_{t-1} is needed);
* pointwise work on the (B, 4H) gate pre-activations -- three sigmoids, tanhs, products and sums.

Written as one array operation each, the pointwise part is ~9 kernels (LSTM) reading and writing
(B, H) intermediates in global memory; the kernels here do it in *one* pass: each thread reads
the four pre-activations of its hidden unit once and writes h_t and c_t.  Bytes moved per step
by the pointwise part (float32, B sequences, H hidden units; counted op by op in the comments of
``lstm_pointwise.cu`` / ``gru_pointwise.cu``)::

                     fused kernel          one kernel per elementwise op
    LSTM forward     28BH  (1 launch)      88BH  (9 launches)
    LSTM backward    52BH  (1 launch)     244BH  (23 launches)
    GRU forward      32BH  (1 launch)     116BH  (11 launches)
    GRU backward     52BH  (1 launch)     164BH  (15 launches)

(training forwards also save 16BH of activated gates.)  For B = 32, H = 256 an LSTM step's
pointwise part moves 0.23 MB fused against 0.72 MB unfused; the recurrent GEMM reads W_hh
(16H^2 bytes = 1 MiB) besides.

Pointwise launchers (one time step; every array float32, NumPy or CuPy)::

    h, c = lstm_cell_pointwise(gates, c_prev)                     # gates (B, 4H), order i, f, g, o
    h, c, act = lstm_cell_pointwise(gates, c_prev, save_for_backward=True)
    dgates, dc_prev = lstm_cell_pointwise_backward(dh, dc_next, act, c_prev, c)
    h = gru_cell_pointwise(gi, gh, h_prev)                        # gi, gh (B, 3H), order r, z, n
    h, saved = gru_cell_pointwise(gi, gh, h_prev, save_for_backward=True)
    dgi, dgh, dh_prev = gru_cell_pointwise_backward(dh, saved, h_prev)

Sequence drivers (x (T, B, I), torch's weight layout; see :func:`lstm_layer_forward`)::

    y, h_n, c_n = lstm_layer_forward(x, weight_ih, weight_hh, bias_ih, bias_hh, h0, c0)
    y, h_n = gru_layer_forward(x, weight_ih, weight_hh, bias_ih, bias_hh, h0)

``variant="stepwise"`` launches a GEMM and the pointwise kernel per step (2T launches);
``variant="persistent"`` (``kernels/persistent.cu``, small H only) runs the whole recurrence in
one cooperative launch with W_hh held in shared memory and a grid-wide barrier between steps.

``backend=None`` picks CuPy when a GPU is present, else the CPU SIMT emulator; NumPy in -> NumPy
out on either backend, CuPy in -> CuPy out.  ``schedule`` and ``sanitizer`` are emulator options
(thread order ``"forward" | "reverse" | "random"``; ``"address"`` / ``"thread"`` sanitizer builds).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..cuda.arrays import DeviceArrays as _Arrays, is_cupy as _is_cupy, resolve_backend as _resolve


KERNELS_DIR = Path(__file__).resolve().parent / "kernels"
#: Threads per block of the one-thread-per-hidden-unit kernels.
BLOCK = 256
INT_MAX = 2**31 - 1
VARIANTS = ("stepwise", "persistent")
#: The persistent kernels use at most this many blocks (all resident at once: fewer than the
#: SMs of any GPU the course targets, T4's 40 included) ...
PERSISTENT_MAX_BLOCKS = 32
#: ... and at most this much shared memory per block (the default limit, no opt-in needed).
PERSISTENT_SMEM = 48 * 1024


@dataclass(frozen=True)
class KernelInfo:
    """One CUDA kernel of this module: its file (in ``course_lib/rnn/kernels``), function, role."""

    file: str
    function: str
    description: str
    #: launched cooperatively (all blocks resident; ``this_grid().sync()`` allowed)
    cooperative: bool = False

    @property
    def path(self) -> Path:
        return KERNELS_DIR / self.file


#: Every kernel launched by this module, by short name.
KERNELS: dict[str, KernelInfo] = {
    "lstm_forward": KernelInfo("lstm_pointwise.cu", "lstm_pointwise_forward",
                               "LSTM step after the GEMMs: gates (B, 4H) and c_prev -> h, c; one "
                               "thread per hidden unit, 7BH floats moved"),
    "lstm_forward_train": KernelInfo("lstm_pointwise.cu", "lstm_pointwise_forward_train",
                                     "as lstm_forward, also saves the activated gates (B, 4H) "
                                     "for backward"),
    "lstm_backward": KernelInfo("lstm_pointwise.cu", "lstm_pointwise_backward",
                                "dh, dc_next and saved gates -> d pre-activations (B, 4H) and "
                                "dc_prev"),
    "gru_forward": KernelInfo("gru_pointwise.cu", "gru_pointwise_forward",
                              "GRU step (torch form): input part gi and hidden part gh (B, 3H), "
                              "h_prev -> h; one thread per hidden unit"),
    "gru_forward_train": KernelInfo("gru_pointwise.cu", "gru_pointwise_forward_train",
                                    "as gru_forward, also saves r, z, n and W_hn h + b_hn "
                                    "(B, 4H)"),
    "gru_backward": KernelInfo("gru_pointwise.cu", "gru_pointwise_backward",
                               "dh and saved gates -> dgi, dgh (B, 3H) and the direct part "
                               "dh * z of dh_prev"),
    "lstm_persistent": KernelInfo("persistent.cu", "lstm_persistent",
                                  "whole LSTM sequence in one cooperative launch: W_hh slices in "
                                  "shared memory, recurrent dot products + pointwise step, grid "
                                  "barrier between steps", cooperative=True),
    "gru_persistent": KernelInfo("persistent.cu", "gru_persistent",
                                 "whole GRU sequence in one cooperative launch, same scheme",
                                 cooperative=True),
}


# --------------------------------------------------------------------------- kernels and arrays


def _check_float32(**arrays: Any) -> None:
    for name, a in arrays.items():
        if not (isinstance(a, np.ndarray) or _is_cupy(a)):
            raise TypeError(f"{name} must be a numpy.ndarray or cupy.ndarray, got {type(a).__name__}")
        if a.dtype != np.float32:
            raise TypeError(f"the CUDA kernels are float32 only: {name} has dtype {a.dtype} "
                            f"(shape {tuple(a.shape)}); convert with {name}.astype(np.float32)")


@functools.lru_cache(maxsize=None)
def _module(file: str, backend: str, schedule: str | None, sanitizer: str | None,
            cooperative: bool):
    from ..cuda import load_module
    opts: dict[str, Any] = {"enable_cooperative_groups": True} if cooperative else {}
    if backend == "emulator":
        if schedule is not None:
            opts["schedule"] = schedule
        if sanitizer is not None:
            opts["sanitizer"] = sanitizer
    return load_module(KERNELS_DIR / file, backend=backend, **opts)


def get_kernel(name: str, backend: str | None = None, schedule: str | None = None,
               sanitizer: str | None = None):
    """The compiled kernel ``KERNELS[name]`` for ``backend`` (modules are cached)."""
    info = KERNELS[name]
    module = _module(info.file, _resolve(backend), schedule, sanitizer, info.cooperative)
    return module.get_function(info.function)


def _grid(n: int) -> tuple[tuple[int], tuple[int]]:
    return ((n + BLOCK - 1) // BLOCK,), (BLOCK,)


def _check(name: str, a, shape: tuple[int, ...] | None, layout: str, ndim: int) -> tuple[int, ...]:
    """float32 NumPy/CuPy array of ``ndim`` dims (and ``shape`` if given), finite, sizes >= 1."""
    _check_float32(**{name: a})
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {tuple(a.shape)}")
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {layout} = {tuple(shape)}, got {tuple(a.shape)}")
    if min(a.shape) < 1:
        raise ValueError(f"{name} {layout} has an empty dimension: shape {tuple(a.shape)}")
    xp = __import__("cupy") if _is_cupy(a) else np
    if not bool(xp.isfinite(a).all()):
        raise ValueError(f"{name} (shape {tuple(a.shape)}) contains NaN/inf value(s); "
                         "the kernels assume finite inputs")
    return tuple(int(s) for s in a.shape)


def _check_int_range(B: int, width: int) -> None:
    if B * width > INT_MAX:
        raise ValueError(f"B*{width} = {B * width} elements (B={B}) exceed the kernels' 32-bit "
                         f"int indices ({INT_MAX}); split the batch")


def _gate_width(name: str, a, gates: int) -> int:
    """H from an array of shape (B, gates*H)."""
    _check(name, a, None, f"(B, {gates}H)", 2)
    if a.shape[1] % gates:
        raise ValueError(f"{name} must have shape (B, {gates}H), but its second dimension "
                         f"{a.shape[1]} (shape {tuple(a.shape)}) is not a multiple of {gates}")
    return a.shape[1] // gates


# --------------------------------------------------------------------------- LSTM, one step

def lstm_cell_pointwise(gates, c_prev, backend: str | None = None, schedule: str | None = None,
                        sanitizer: str | None = None, save_for_backward: bool = False):
    """h_t, c_t from the gate pre-activations of one step, by the fused kernel.

    gates (B, 4H): ``x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh`` in torch's order i, f, g, o;
    c_prev (B, H) -> h (B, H), c (B, H), float32.  With ``save_for_backward=True`` also returns
    ``act`` (B, 4H), the activated gates (i, f, g, o) that
    :func:`lstm_cell_pointwise_backward` needs.  One launch, one thread per hidden unit; reads
    5BH floats and writes 2BH (+4BH for ``act``).
    """
    H = _gate_width("gates", gates, 4)
    B = gates.shape[0]
    _check("c_prev", c_prev, (B, H), "(B, H)", 2)
    _check_int_range(B, 4 * H)
    backend = _resolve(backend)
    arr = _Arrays(backend, {"gates": gates, "c_prev": c_prev})
    gates, c_prev = arr.put(gates), arr.put(c_prev)
    h = arr.xp.empty((B, H), np.float32)
    c = arr.xp.empty((B, H), np.float32)
    grid, block = _grid(B * H)
    kw = dict(backend=backend, schedule=schedule, sanitizer=sanitizer)
    if save_for_backward:
        act = arr.xp.empty((B, 4 * H), np.float32)
        get_kernel("lstm_forward_train", **kw)(grid, block, (gates, c_prev, h, c, act,
                                                             np.int32(B), np.int32(H)))
        return arr.out(h), arr.out(c), arr.out(act)
    get_kernel("lstm_forward", **kw)(grid, block, (gates, c_prev, h, c, np.int32(B), np.int32(H)))
    return arr.out(h), arr.out(c)


def lstm_cell_pointwise_backward(dh, dc_next, act, c_prev, c, backend: str | None = None,
                                 schedule: str | None = None, sanitizer: str | None = None):
    """Gradients of one LSTM step's pointwise part, by the fused backward kernel.

    dh (B, H): gradient reaching h_t (output gradient plus what step t+1 sends back);
    dc_next (B, H) or None (zeros): gradient reaching c_t from step t+1;
    act (B, 4H): the activated gates saved by the forward pass; c_prev, c (B, H): c_{t-1}, c_t
    -> dgates (B, 4H) (gradient of the pre-activations, i, f, g, o) and dc_prev (B, H).
    ``dgates`` feeds the GEMMs: ``dh_{t-1} = dgates W_hh``, ``dW_hh += dgates^T h_{t-1}``.
    """
    H = _gate_width("act", act, 4)
    B = act.shape[0]
    for name, a in (("dh", dh), ("c_prev", c_prev), ("c", c)):
        _check(name, a, (B, H), "(B, H)", 2)
    if dc_next is None:
        dc_next = (__import__("cupy") if _is_cupy(dh) else np).zeros((B, H), np.float32)
    _check("dc_next", dc_next, (B, H), "(B, H)", 2)
    _check_int_range(B, 4 * H)
    backend = _resolve(backend)
    named = {"dh": dh, "dc_next": dc_next, "act": act, "c_prev": c_prev, "c": c}
    arr = _Arrays(backend, named)
    dh, dc_next, act, c_prev, c = (arr.put(a) for a in named.values())
    dgates = arr.xp.empty((B, 4 * H), np.float32)
    dc_prev = arr.xp.empty((B, H), np.float32)
    grid, block = _grid(B * H)
    get_kernel("lstm_backward", backend, schedule, sanitizer)(
        grid, block, (act, c_prev, c, dh, dc_next, dgates, dc_prev, np.int32(B), np.int32(H)))
    return arr.out(dgates), arr.out(dc_prev)


# --------------------------------------------------------------------------- GRU, one step

def gru_cell_pointwise(gi, gh, h_prev, backend: str | None = None, schedule: str | None = None,
                       sanitizer: str | None = None, save_for_backward: bool = False):
    """h_t of one GRU step (torch's form) from the two GEMM results, by the fused kernel.

    gi (B, 3H) = ``x_t W_ih^T + b_ih``, gh (B, 3H) = ``h_{t-1} W_hh^T + b_hh`` (order r, z, n;
    kept apart because the reset gate multiplies only the hidden part of n:
    ``n = tanh(gi_n + r * gh_n)``), h_prev (B, H) -> h (B, H).  With ``save_for_backward=True``
    returns ``(h, saved)``, saved (B, 4H) = r, z, n, gh_n.  Reads 7BH floats, writes BH.
    """
    H = _gate_width("gi", gi, 3)
    B = gi.shape[0]
    _check("gh", gh, (B, 3 * H), "(B, 3H)", 2)
    _check("h_prev", h_prev, (B, H), "(B, H)", 2)
    _check_int_range(B, 4 * H)
    backend = _resolve(backend)
    arr = _Arrays(backend, {"gi": gi, "gh": gh, "h_prev": h_prev})
    gi, gh, h_prev = arr.put(gi), arr.put(gh), arr.put(h_prev)
    h = arr.xp.empty((B, H), np.float32)
    grid, block = _grid(B * H)
    kw = dict(backend=backend, schedule=schedule, sanitizer=sanitizer)
    if save_for_backward:
        saved = arr.xp.empty((B, 4 * H), np.float32)
        get_kernel("gru_forward_train", **kw)(grid, block, (gi, gh, h_prev, h, saved,
                                                            np.int32(B), np.int32(H)))
        return arr.out(h), arr.out(saved)
    get_kernel("gru_forward", **kw)(grid, block, (gi, gh, h_prev, h, np.int32(B), np.int32(H)))
    return arr.out(h)


def gru_cell_pointwise_backward(dh, saved, h_prev, backend: str | None = None,
                                schedule: str | None = None, sanitizer: str | None = None):
    """Gradients of one GRU step's pointwise part.

    dh (B, H): the whole gradient reaching h_t; saved (B, 4H) from the forward pass; h_prev (B, H)
    -> dgi (B, 3H), dgh (B, 3H) (gradients of the input and hidden GEMM results) and
    dh_prev_direct (B, H) = dh * z.  The full ``dh_{t-1} = dh_prev_direct + dgh W_hh``.
    """
    H = _gate_width("saved", saved, 4)
    B = saved.shape[0]
    _check("dh", dh, (B, H), "(B, H)", 2)
    _check("h_prev", h_prev, (B, H), "(B, H)", 2)
    _check_int_range(B, 4 * H)
    backend = _resolve(backend)
    arr = _Arrays(backend, {"dh": dh, "saved": saved, "h_prev": h_prev})
    dh, saved, h_prev = arr.put(dh), arr.put(saved), arr.put(h_prev)
    dgi = arr.xp.empty((B, 3 * H), np.float32)
    dgh = arr.xp.empty((B, 3 * H), np.float32)
    dhp = arr.xp.empty((B, H), np.float32)
    grid, block = _grid(B * H)
    get_kernel("gru_backward", backend, schedule, sanitizer)(
        grid, block, (saved, h_prev, dh, dgi, dgh, dhp, np.int32(B), np.int32(H)))
    return arr.out(dgi), arr.out(dgh), arr.out(dhp)


# --------------------------------------------------------------------------- sequence drivers

def persistent_launch_config(B: int, H: int, gates: int) -> dict:
    """Grid, block and shared memory of ``lstm_persistent`` (gates=4) / ``gru_persistent`` (3).

    ``U = ceil(H / 32)`` hidden units per block, ``grid = ceil(H / U) <= 32`` blocks (all must be
    resident at once under a cooperative launch), each holding its ``gates * U`` rows of W_hh in
    ``4 * gates * U * H`` bytes of shared memory, at most 48 KiB: so H <= 307 for the LSTM
    (H = 256: U = 8, 32 KiB), H <= 352 for the GRU.  Threads: whole warps covering the block's B*U
    (sequence, unit) pairs, at most 256 (more pairs are strided).  Larger H raises ValueError:
    use ``variant="stepwise"``, which is GEMM-bound there anyway.
    """
    U = -(-H // PERSISTENT_MAX_BLOCKS)
    smem = 4 * gates * U * H
    if smem > PERSISTENT_SMEM:
        raise ValueError(f"variant='persistent' keeps W_hh on chip: H={H} needs {smem} bytes of "
                         f"shared memory per block (limit {PERSISTENT_SMEM}); use "
                         "variant='stepwise' for this hidden size")
    threads = min(BLOCK, 32 * -(-B * U // 32))
    return dict(grid=(-(-H // U),), block=(threads,), shared_mem=smem, units=U)


def _launch_persistent(name: str, cfg: dict, args: tuple, backend: str, schedule, sanitizer):
    # the module was built with enable_cooperative_groups=True (KernelInfo.cooperative)
    kernel = get_kernel(name, backend, schedule, sanitizer)
    kernel(cfg["grid"], cfg["block"], args, shared_mem=cfg["shared_mem"])


def _check_layer(x, weight_ih, weight_hh, bias_ih, bias_hh, gates: int, states: dict):
    """Shapes of a one-layer call; returns (T, B, I, H)."""
    T, B, I = _check("x", x, None, "(T, B, I)", 3)
    GH, I_w = _check("weight_ih", weight_ih, None, f"({gates}H, I)", 2)
    if GH % gates:
        raise ValueError(f"weight_ih must have shape ({gates}H, I); its {GH} rows "
                         f"(shape {tuple(weight_ih.shape)}) are not a multiple of {gates}")
    H = GH // gates
    if I_w != I:
        raise ValueError(f"x has I={I} (shape {tuple(x.shape)}) but weight_ih expects I={I_w} "
                         f"(shape {tuple(weight_ih.shape)})")
    _check("weight_hh", weight_hh, (gates * H, H), f"({gates}H, H)", 2)
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError("give both bias_ih and bias_hh, or neither (a layer without bias)")
    if bias_ih is not None:
        _check("bias_ih", bias_ih, (gates * H,), f"({gates}H,)", 1)
        _check("bias_hh", bias_hh, (gates * H,), f"({gates}H,)", 1)
    for name, a in states.items():
        if a is not None:
            _check(name, a, (B, H), "(B, H)", 2)
    _check_int_range(B, gates * H)
    return T, B, I, H


def lstm_layer_forward(x, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None, c0=None,
                       variant: str = "stepwise", backend: str | None = None,
                       schedule: str | None = None, sanitizer: str | None = None):
    """One LSTM layer over a whole sequence: GEMMs on the device plus the fused pointwise kernel.

    Shapes (torch.nn.LSTM, one layer, ``batch_first=False``): x (T, B, I), weight_ih (4H, I),
    weight_hh (4H, H), bias_ih, bias_hh (4H,) or both None, h0, c0 (B, H) or None (zeros)
    -> y (T, B, H), h_n (B, H), c_n (B, H); float32.

    ``variant="stepwise"``: the input projection of every step in one GEMM
    ((T*B, I) x (I, 4H), biases folded in), then per step one recurrent GEMM
    ``h_{t-1} W_hh^T`` (cuBLAS through ``cupy.matmul`` on a GPU, NumPy on the emulator) and one
    launch of ``lstm_pointwise_forward`` writing h_t straight into ``y[t]``: 2 launches per step.
    Per step the pointwise part moves 7BH floats; the GEMM reads W_hh (16H^2 bytes) again.

    ``variant="persistent"``: the same input GEMM, then ONE cooperative launch of
    ``lstm_persistent`` for all T steps (:func:`persistent_launch_config`; H <= 307): each block
    keeps its rows of W_hh in shared memory for the whole sequence, computes its units' recurrent
    dot products and pointwise step, and waits at a grid-wide barrier for h_t.  W_hh is read from
    global memory once per sequence instead of T times, and T*2 launches become 1.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    T, B, I, H = _check_layer(x, weight_ih, weight_hh, bias_ih, bias_hh, 4, {"h0": h0, "c0": c0})
    backend = _resolve(backend)
    named = {"x": x, "weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih,
             "bias_hh": bias_hh, "h0": h0, "c0": c0}
    arr = _Arrays(backend, named)
    x, w_ih, w_hh, b_ih, b_hh, h0, c0 = (arr.put(a) for a in named.values())
    xp = arr.xp
    h0 = xp.zeros((B, H), np.float32) if h0 is None else h0
    c0 = xp.zeros((B, H), np.float32) if c0 is None else c0
    # all T input projections in one GEMM; both biases folded in once
    xproj = xp.matmul(x.reshape(T * B, I), w_ih.T)
    if b_ih is not None:
        xproj += b_ih + b_hh
    xproj = xproj.reshape(T, B, 4 * H)
    if variant == "persistent":
        cfg = persistent_launch_config(B, H, 4)
        y = xp.empty((T, B, H), np.float32)
        c = xp.array(c0, dtype=np.float32)           # updated in place, c_T at the end
        _launch_persistent("lstm_persistent", cfg,
                           (xproj, w_hh, h0, c0, y, c, *(np.int32(v) for v in (T, B, H, cfg["units"]))),
                           backend, schedule, sanitizer)
        return arr.out(y), arr.out(xp.ascontiguousarray(y[T - 1])), arr.out(c)
    w_hh_t = xp.ascontiguousarray(w_hh.T)                # (H, 4H): one transpose, not T
    y = xp.empty((T, B, H), np.float32)
    c_bufs = (xp.empty((B, H), np.float32), xp.empty((B, H), np.float32))
    gates = xp.empty((B, 4 * H), np.float32)
    kernel = get_kernel("lstm_forward", backend, schedule, sanitizer)
    grid, block = _grid(B * H)
    h_prev, c_prev = h0, c0
    for t in range(T):
        xp.matmul(h_prev, w_hh_t, out=gates)            # recurrent GEMM (B, H) x (H, 4H)
        gates += xproj[t]
        c = c_bufs[t % 2]
        kernel(grid, block, (gates, c_prev, y[t], c, np.int32(B), np.int32(H)))
        h_prev, c_prev = y[t], c
    return arr.out(y), arr.out(xp.ascontiguousarray(y[T - 1])), arr.out(xp.ascontiguousarray(c_prev))


def gru_layer_forward(x, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None,
                      variant: str = "stepwise", backend: str | None = None,
                      schedule: str | None = None, sanitizer: str | None = None):
    """One GRU layer (torch's form) over a sequence: GEMMs plus the fused pointwise kernel.

    Shapes (torch.nn.GRU, one layer): x (T, B, I), weight_ih (3H, I), weight_hh (3H, H),
    bias_ih, bias_hh (3H,) or both None, h0 (B, H) or None -> y (T, B, H), h_n (B, H).
    ``"stepwise"``: input projections ``x W_ih^T + b_ih`` for all steps in one GEMM, then per step
    ``gh = h_{t-1} W_hh^T + b_hh`` (one GEMM) and one ``gru_pointwise_forward`` launch.  The biases
    cannot be folded together as in the LSTM: b_hn sits inside ``r * (W_hn h + b_hn)``.
    ``"persistent"``: one cooperative launch of ``gru_persistent`` for the whole sequence, as for
    the LSTM (H <= 352).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    T, B, I, H = _check_layer(x, weight_ih, weight_hh, bias_ih, bias_hh, 3, {"h0": h0})
    backend = _resolve(backend)
    named = {"x": x, "weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih,
             "bias_hh": bias_hh, "h0": h0}
    arr = _Arrays(backend, named)
    x, w_ih, w_hh, b_ih, b_hh, h0 = (arr.put(a) for a in named.values())
    xp = arr.xp
    h0 = xp.zeros((B, H), np.float32) if h0 is None else h0
    gi_all = xp.matmul(x.reshape(T * B, I), w_ih.T)
    if b_ih is not None:
        gi_all += b_ih
    gi_all = gi_all.reshape(T, B, 3 * H)
    if variant == "persistent":
        cfg = persistent_launch_config(B, H, 3)
        y = xp.empty((T, B, H), np.float32)
        b_hh = xp.zeros(3 * H, np.float32) if b_hh is None else b_hh
        _launch_persistent("gru_persistent", cfg,
                           (gi_all, w_hh, b_hh, h0, y, *(np.int32(v) for v in (T, B, H, cfg["units"]))),
                           backend, schedule, sanitizer)
        return arr.out(y), arr.out(xp.ascontiguousarray(y[T - 1]))
    w_hh_t = xp.ascontiguousarray(w_hh.T)
    y = xp.empty((T, B, H), np.float32)
    gh = xp.empty((B, 3 * H), np.float32)
    kernel = get_kernel("gru_forward", backend, schedule, sanitizer)
    grid, block = _grid(B * H)
    h_prev = h0
    for t in range(T):
        xp.matmul(h_prev, w_hh_t, out=gh)
        if b_hh is not None:
            gh += b_hh
        kernel(grid, block, (gi_all[t], gh, h_prev, y[t], np.int32(B), np.int32(H)))
        h_prev = y[t]
    return arr.out(y), arr.out(xp.ascontiguousarray(y[T - 1]))

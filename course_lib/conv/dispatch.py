"""One entry point, ``conv2d(..., algo=...)``, and how "auto" chooses (like cuDNN).

Two ways to choose, as in cuDNN:

* **heuristic** (``cudnnGetConvolutionForwardAlgorithm``-style): a cost model
  estimates each eligible algorithm's time from its operation counts
  (:mod:`~course_lib.conv.opcount`) and this machine's measured speeds -- matrix
  multiply GFLOP/s times a per-algorithm efficiency, memory-copy GB/s, FFT GFLOP/s --
  and picks the smallest estimate.
* **benchmark** (``cudnnFind`` / ``torch.backends.cudnn.benchmark``): run every
  plausible candidate once on the real inputs, keep the fastest, and cache the
  winner per (x shape, w shape, dtype, stride, padding).  Switch it on per call
  (``benchmark=True``) or for the module (``dispatch.BENCHMARK = True``).

``explain(...)`` / ``conv2d(..., return_info=True)`` tell what was chosen and why.
The decision's own cost is reported apart from the algorithm's: the returned
:class:`Choice` carries ``dispatch_ms`` (time spent choosing inside that call), and
:func:`choose_algorithm` makes the decision alone so a benchmark can time it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from ._args import check_conv2d, geometry, ConvGeometry
from .fft import conv2d_fft, fft_size
from .im2col import CHUNK_BYTES, conv2d_im2col
from .opcount import direct_ops, fft_ops, winograd_ops
from .winograd import conv2d_winograd

ALGOS = ("naive", "direct", "im2col", "winograd", "winograd_f2", "winograd_f4", "fft", "auto")
#: candidates "auto" considers; "naive" is for reading, never a sensible choice
AUTO_CANDIDATES = ("direct", "im2col", "winograd_f2", "winograd_f4", "fft")

BENCHMARK = False
"""Module-wide switch, like ``torch.backends.cudnn.benchmark``."""

_CACHE: dict[tuple, "Choice"] = {}


# ------------------------------------------------------------------------ algorithms

def _naive(x, w, b, stride, padding):
    from .naive import conv2d_naive            # lazy: written in another module
    return conv2d_naive(x, w, b, stride, padding)


def _direct(x, w, b, stride, padding):
    from .direct import conv2d_direct
    return conv2d_direct(x, w, b, stride, padding)


def _winograd(m):
    def run(x, w, b, stride, padding):
        return conv2d_winograd(x, w, b, padding, m=m)
    return run


IMPLEMENTATIONS = {
    "naive": _naive,
    "direct": _direct,
    "im2col": lambda x, w, b, s, p: conv2d_im2col(x, w, b, s, p),
    "winograd": _winograd(2),                   # conv2d_winograd's default tile
    "winograd_f2": _winograd(2),
    "winograd_f4": _winograd(4),
    "fft": lambda x, w, b, s, p: conv2d_fft(x, w, b, s, p),
}


def why_ineligible(algo: str, g: ConvGeometry) -> str | None:
    """None if ``algo`` can compute this convolution, else the reason."""
    if algo.startswith("winograd"):
        if (g.KH, g.KW) != (3, 3):
            return f"Winograd F(m x m, 3x3) needs a 3x3 kernel, got {g.KH}x{g.KW}"
        if g.stride != (1, 1):
            return f"Winograd needs stride 1, got {g.stride}"
    return None


# ------------------------------------------------------------------------ cost model

@dataclass(frozen=True)
class CostModel:
    """Machine speeds and per-algorithm efficiencies used to estimate time.

    ``gemm_gflops``: large float32 matrix multiply; ``copy_gbs``: bytes/s of a
    strided copy; ``fft_gflops``: float32 real FFT under the 2.5 n log2 n model;
    ``efficiency``: fraction of GEMM speed each algorithm's multiply stage reaches
    when its matrices are large; ``call_overhead_s``: fixed cost per Python-level
    BLAS/NumPy call.  The defaults are rough; :func:`calibrate` measures the speeds.
    """

    gemm_gflops: float = 100.0
    copy_gbs: float = 4.0
    fft_gflops: float = 3.0
    call_overhead_s: float = 5e-6
    efficiency: dict = field(default_factory=lambda: {
        "direct": 0.6, "im2col": 0.9, "winograd_f2": 0.8, "winograd_f4": 0.8, "fft": 0.35,
        "naive": 1e-4})
    calibrated: bool = False


def _gemm_eff(*dims: int) -> float:
    """Efficiency loss of a GEMM with a small dimension: prod d / (d + 16)."""
    e = 1.0
    for d in dims:
        e *= d / (d + 16.0)
    return e


def calibrate(repeats: int = 3) -> CostModel:
    """Measure this machine's matmul, copy and FFT speeds (float32, ~0.2 s)."""
    def best(fn):
        fn()
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return min(ts)

    rng = np.random.default_rng(0)
    a = rng.standard_normal((768, 768), dtype=np.float32)
    gemm = 2 * 768 ** 3 / best(lambda: a @ a) / 1e9
    src = rng.standard_normal((16, 64, 40, 40), dtype=np.float32)
    dst = np.empty((16, 64, 36, 36), dtype=np.float32)
    copy = 2 * dst.nbytes / best(lambda: np.copyto(dst, src[:, :, 2:38, 2:38])) / 1e9
    f = rng.standard_normal((32, 128, 128), dtype=np.float32)
    n = 128 * 128
    fft = 2 * 32 * 2.5 * n * np.log2(n) / best(lambda: np.fft.irfft2(np.fft.rfft2(f), s=(128, 128))) / 1e9
    return CostModel(gemm_gflops=gemm, copy_gbs=copy, fft_gflops=fft, calibrated=True)


_MODEL: CostModel | None = None


def get_cost_model() -> CostModel:
    """The module's cost model, calibrated on first use."""
    global _MODEL
    if _MODEL is None:
        _MODEL = calibrate()
    return _MODEL


def set_cost_model(model: CostModel | None) -> None:
    """Replace the cost model (None: recalibrate on next use); clears the choice cache."""
    global _MODEL
    _MODEL = model
    _CACHE.clear()


def estimate_seconds(algo: str, g: ConvGeometry, itemsize: int = 4,
                     model: CostModel | None = None) -> float:
    """Estimated run time of ``algo`` on geometry ``g`` (see :class:`CostModel`)."""
    M = model or get_cost_model()
    G = M.gemm_gflops * 1e9
    bw = M.copy_gbs * 1e9
    ov = M.call_overhead_s
    eff = M.efficiency
    x_bytes = g.B * g.C_in * g.H * g.W * itemsize
    y_bytes = g.B * g.C_out * g.OH * g.OW * itemsize
    L = g.OH * g.OW
    K = g.C_in * g.KH * g.KW
    if algo == "naive":
        return g.B * g.C_out * L * 4e-6 + 2 * g.macs / (G * eff["naive"])
    if algo == "direct":
        ops = direct_ops(g.x_shape, g.w_shape, g.stride, g.padding)
        slices = g.KH * g.KW
        slice_bytes = g.B * g.C_in * L * itemsize
        return (ops.flops / (G * eff["direct"] * _gemm_eff(g.C_out, g.C_in, g.B * L))
                + slices * (2 * slice_bytes + 2 * y_bytes) / bw + slices * ov)
    if algo == "im2col":
        ops = direct_ops(g.x_shape, g.w_shape, g.stride, g.padding)
        per_image = K * L * itemsize
        n = max(1, min(g.B, CHUNK_BYTES // per_image))
        chunks = -(-g.B // n)
        # one GEMM of width n*L per chunk of n images; with n > 1 its result is copied into y
        return (ops.flops / (G * eff["im2col"] * _gemm_eff(g.C_out, K, n * L))
                + 2 * g.B * per_image / bw + (3 if n > 1 else 1) * y_bytes / bw + chunks * ov)
    if algo.startswith("winograd"):
        m = 4 if algo.endswith("f4") else 2
        a = m + 2
        ops = winograd_ops(g.x_shape, g.w_shape, g.padding, m)
        T = g.B * -(-g.OH // m) * -(-g.OW // m)
        gemm = 2 * ops.parts["elementwise"][0]
        # transforms run as dense small-matrix GEMMs: count them as memory traffic
        tile_bytes = a * a * T * itemsize
        traffic = (x_bytes + 5 * tile_bytes * g.C_in      # pad, tile copy, 2-step B^T . B
                   + 4 * tile_bytes * g.C_out + 2 * y_bytes)  # 2-step A^T . A, crop
        return (gemm / (G * eff["winograd_f4" if m == 4 else "winograd_f2"]
                        * _gemm_eff(g.C_out, g.C_in, T))
                + traffic / bw + a * a * ov)
    if algo == "fft":
        ops = fft_ops(g.x_shape, g.w_shape, g.stride, g.padding)
        Nh = fft_size(g.H + 2 * g.padding[0])
        Nw = fft_size(g.W + 2 * g.padding[1])
        F = Nh * (Nw // 2 + 1)
        tf = ops.parts["transforms"]
        prod = ops.parts["frequency_products"]
        planes = (g.B * g.C_in + g.C_out * g.C_in + g.B * g.C_out) * F * 2 * itemsize
        return ((tf[0] + tf[1]) / (M.fft_gflops * 1e9)
                + (prod[0] + prod[1]) / (G * eff["fft"] * _gemm_eff(g.B, g.C_in, g.C_out))
                + 3 * planes / bw + F * ov * 0.2)
    raise ValueError(f"unknown algo {algo!r}")


# ------------------------------------------------------------------------ the choice

@dataclass(frozen=True)
class Candidate:
    """One algorithm as seen by the chooser (times in milliseconds)."""

    algo: str
    eligible: bool
    note: str = ""
    est_ms: float | None = None
    measured_ms: float | None = None


@dataclass(frozen=True)
class Choice:
    """What "auto" chose, how (``"heuristic"``, ``"benchmark"``, ``"cache"``,
    ``"requested"``) and why, with every candidate considered."""

    algo: str
    method: str
    reason: str
    candidates: tuple[Candidate, ...]
    key: tuple
    #: milliseconds ``conv2d`` spent choosing (shape checks excluded, benchmark runs
    #: included when ``method == "benchmark"``); None when not measured
    dispatch_ms: float | None = None

    def table(self) -> str:
        """The candidates as a small text table."""
        lines = [f"chose {self.algo} ({self.method}): {self.reason}",
                 f"{'algo':<12} {'est ms':>9} {'meas ms':>9}  note"]
        for c in self.candidates:
            est = f"{c.est_ms:9.2f}" if c.est_ms is not None else f"{'-':>9}"
            mea = f"{c.measured_ms:9.2f}" if c.measured_ms is not None else f"{'-':>9}"
            lines.append(f"{c.algo:<12} {est} {mea}  {c.note}")
        return "\n".join(lines)


def _key(g: ConvGeometry, dtype) -> tuple:
    return (g.x_shape, g.w_shape, np.dtype(dtype).str, g.stride, g.padding)


def _heuristic(g: ConvGeometry, dtype, model: CostModel | None) -> Choice:
    itemsize = np.dtype(dtype).itemsize
    cands = []
    for algo in AUTO_CANDIDATES:
        why = why_ineligible(algo, g)
        if why:
            cands.append(Candidate(algo, False, why))
        else:
            cands.append(Candidate(algo, True, "", 1e3 * estimate_seconds(algo, g, itemsize, model)))
    ok = [c for c in cands if c.eligible]
    best = min(ok, key=lambda c: c.est_ms)
    runner = sorted(ok, key=lambda c: c.est_ms)[1] if len(ok) > 1 else None
    reason = f"lowest estimated time {best.est_ms:.2f} ms"
    if runner is not None:
        reason += f" (next: {runner.algo} {runner.est_ms:.2f} ms)"
    return Choice(best.algo, "heuristic", reason, tuple(cands), _key(g, dtype))


def explain(x_shape, w_shape, stride=1, padding=0, dtype=np.float32,
            model: CostModel | None = None) -> Choice:
    """What ``conv2d(..., algo="auto")`` would choose for these shapes, without running.

    If a benchmark result is cached for the key it is returned (method ``"cache"``);
    otherwise the cost model's choice.
    """
    g = geometry(tuple(x_shape), tuple(w_shape), stride, padding)
    key = _key(g, dtype)
    if key in _CACHE:
        return replace(_CACHE[key], method="cache")
    return _heuristic(g, dtype, model)


def choose_algorithm(x_shape, w_shape, stride=1, padding=0, dtype=np.float32,
                     model: CostModel | None = None) -> Choice:
    """The decision ``conv2d(..., algo="auto")`` makes before it runs anything
    (cached benchmark winner, else the cost model), without running it.

    Same as :func:`explain`; named for what a benchmark times to report the
    dispatch overhead apart from the chosen algorithm's time.  Cost: a dictionary
    look-up, or five cost estimates (about 0.1 ms; the Winograd transform
    matrices are built once and cached).
    """
    return explain(x_shape, w_shape, stride, padding, dtype, model)


def clear_cache() -> None:
    """Forget every benchmarked choice."""
    _CACHE.clear()


def _benchmark(x, w, b, g: ConvGeometry, model: CostModel | None, prune: float
               ) -> tuple[Choice, np.ndarray]:
    """Time the plausible candidates once each; cache and return the winner and its output."""
    h = _heuristic(g, x.dtype, model)
    best_est = min(c.est_ms for c in h.candidates if c.eligible)
    cands, outputs = [], {}
    for c in h.candidates:
        if not c.eligible:
            cands.append(c)
            continue
        if c.est_ms > prune * best_est:
            cands.append(replace(c, note=f"skipped: estimate > {prune:g}x the best"))
            continue
        t0 = time.perf_counter()
        outputs[c.algo] = IMPLEMENTATIONS[c.algo](x, w, b, g.stride, g.padding)
        cands.append(replace(c, measured_ms=1e3 * (time.perf_counter() - t0)))
    timed = [c for c in cands if c.measured_ms is not None]
    win = min(timed, key=lambda c: c.measured_ms)
    choice = Choice(win.algo, "benchmark",
                    f"fastest of {len(timed)} timed candidates: {win.measured_ms:.2f} ms "
                    f"(cost model preferred {h.algo})", tuple(cands), h.key)
    _CACHE[h.key] = choice
    return choice, outputs[win.algo]


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride=1, padding=0,
           algo: str = "auto", *, benchmark: bool | None = None, return_info: bool = False,
           model: CostModel | None = None, prune: float = 10.0):
    """2-D convolution (cross-correlation, NCHW) by the algorithm ``algo``.

    ``algo``: ``"naive"``, ``"direct"``, ``"im2col"``, ``"winograd"`` (F(2x2,3x3)),
    ``"winograd_f2"``, ``"winograd_f4"``, ``"fft"`` or ``"auto"``.  ``"auto"`` takes a
    cached benchmark winner for this key if there is one; else, with ``benchmark``
    (default: the module switch :data:`BENCHMARK`), times the candidates whose
    estimate is within ``prune`` x the best estimate and caches the fastest; else
    uses the cost model alone.

    Shapes: x (B, C_in, H, W), w (C_out, C_in, KH, KW), b (C_out,) or None ->
    y (B, C_out, OH, OW).  Returns ``y``, or ``(y, Choice)`` with ``return_info=True``.
    Raises ValueError for an unknown algo or one that cannot do this shape.
    """
    if algo not in ALGOS:
        raise ValueError(f"algo must be one of {ALGOS}, got {algo!r}")
    x, w, b, g = check_conv2d(x, w, b, stride, padding)
    if algo != "auto":
        why = why_ineligible(algo, g)
        if why:
            raise ValueError(f"algo={algo!r} cannot compute x {x.shape} * w {w.shape} with "
                             f"stride {g.stride}: {why}")
        y = IMPLEMENTATIONS[algo](x, w, b, g.stride, g.padding)
        info = Choice(algo, "requested", "algo given by the caller",
                      (Candidate(algo, True),), _key(g, x.dtype))
        return (y, info) if return_info else y
    t0 = time.perf_counter()
    key = _key(g, x.dtype)
    bench = BENCHMARK if benchmark is None else benchmark
    if key in _CACHE:
        info = replace(_CACHE[key], method="cache")
    elif bench:
        info, y = _benchmark(x, w, b, g, model, prune)
        info = replace(info, dispatch_ms=1e3 * (time.perf_counter() - t0))
        return (y, info) if return_info else y
    else:
        info = _heuristic(g, x.dtype, model)
    info = replace(info, dispatch_ms=1e3 * (time.perf_counter() - t0))
    y = IMPLEMENTATIONS[info.algo](x, w, b, g.stride, g.padding)
    return (y, info) if return_info else y

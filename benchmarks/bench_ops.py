"""The course's own implementations side by side, one table per operation (section 16.6).

    .venv/bin/python benchmarks/bench_ops.py              # full run, writes benchmarks/results/
    .venv/bin/python benchmarks/bench_ops.py --quick      # tiny sizes, seconds (CI smoke test)
    .venv/bin/python benchmarks/bench_ops.py --dry-run    # the GPU path on the emulator, tiny

Operations and their representative shapes (float32):

* ``conv`` -- x (8, 64, 56, 56), w (64, 64, 3, 3), bias, stride 1, padding 1 (a ResNet stage-2
  layer);
* ``lstm_step`` -- ONE time step, B = 32, I = H = 512: a step is the unit every implementation
  shares (NumPy fused and per-gate steps, ``torch.nn.LSTMCell``, our CUDA pointwise kernel after
  a cuBLAS GEMM, cuDNN with T = 1).  A whole sequence would time the drivers (input GEMM batching,
  the persistent kernel) instead, which ``bench_rnn_cpu.py`` / ``bench_rnn_gpu.py`` do;
* ``softmax`` -- rows of 1024 over 8 * 8 * 1024 rows (the score matrix of 8 sequences x 8 heads
  at L = S = 1024), 256 MiB in;
* ``attention`` -- B = 1, 8 heads, L = S = 1024, E = 64, non-causal and causal (two tables).

Rows of each table:

* CPU, timed round-robin (:func:`course_lib.bench.time_interleaved`): the NumPy implementations of
  the course that are sensible at that size (the naive convolution loop is not: its ratio to
  im2col is measured at a tiny shape and given in its note) and torch on the CPU (each SDPA
  backend the CPU has);
* emulator: the op's CUDA kernel(s) run through the CPU SIMT emulator at a SMALL shape against
  the float64 reference -- correctness only, never a time;
* GPU (CuPy and CUDA torch present): our kernels through the launchers and torch CUDA / cuDNN,
  each checked against the float64 reference before it is timed (CUDA events,
  :mod:`course_lib.bench.cuda_timing`); on a machine without a GPU these rows say "no GPU".
  ``--dry-run`` runs that GPU path at a tiny shape with the emulator and torch on the CPU and a
  wall clock, so its logic is checked without a GPU (record ``ops_dryrun``, written only with
  ``--out``).

Every row is checked: max |out - reference| with the reference in float64 (torch), against
``1e-4 x max(1, max |reference|)`` (float32), ``2e-2 x ...`` for float16 inputs.  FLOPs are the
op's useful work (:mod:`course_lib.bench.counts`; causal attention counts only the L(L+1)/2
visible query-key pairs); bytes are the op's compulsory traffic, except rows that write the
L x S scores to memory (standard attention), which count their own (named in the table).  The
machine's ceilings (:func:`course_lib.bench.measure_ceilings`; on a GPU also the GPU's copy
bandwidth and FP32 matmul rate) are measured in the same run and every timed row is placed on
its device's roofline (:mod:`course_lib.bench.side_by_side`).

Writes the harness record ``<out>/<machine-slug>/ops_cpu[_quick].json`` (``ops_gpu`` with a
GPU) and, on full runs, ``<out>/ops_cpu.md`` and ``ops_cpu.json`` (the tables).  ``--threads``
(default: all cores) sets NumPy's BLAS and torch's threads; the record keeps it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import traceback
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _threads import pin_threads  # noqa: E402  (before NumPy loads its BLAS)

THREADS = pin_threads(default=None)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.bench import (Ceilings, machine_record, measure_ceilings,  # noqa: E402
                              new_record, time_cpu, time_interleaved, write_record)
from course_lib.bench.counts import (attention_bytes, attention_flops, conv2d_bytes,  # noqa: E402
                                     conv2d_flops, lstm_step_flops, softmax_flops)
from course_lib.bench.cuda_timing import cuda_available, time_cuda  # noqa: E402
from course_lib.bench.records import add_result  # noqa: E402
from course_lib.bench.side_by_side import markdown_op_table, op_table, table_key  # noqa: E402

# representative shapes (module doc); "quick" for the smoke test; "small" is the emulator's
# shape in every mode and the whole table's shape in a dry run
SHAPES = {
    "full": {"conv": dict(x=(8, 64, 56, 56), w=(64, 64, 3, 3), stride=1, padding=1),
             "lstm_step": dict(B=32, I=512, H=512),
             "softmax": dict(x=(8, 8, 1024, 1024)),
             "attention": dict(B=1, H=8, L=1024, S=1024, E=64)},
    "quick": {"conv": dict(x=(2, 16, 16, 16), w=(16, 16, 3, 3), stride=1, padding=1),
              "lstm_step": dict(B=8, I=64, H=64),
              "softmax": dict(x=(2, 2, 64, 256)),
              "attention": dict(B=1, H=2, L=128, S=128, E=32)},
    # small: two C_in chunks and two C_out groups of the tiled kernel, ragged tiles, rows that
    # are not a multiple of a warp
    "small": {"conv": dict(x=(2, 10, 12, 12), w=(9, 10, 3, 3), stride=1, padding=1),
              "lstm_step": dict(B=3, I=8, H=16),
              "softmax": dict(x=(2, 3, 5, 100)),
              "attention": dict(B=1, H=2, L=40, S=40, E=16)},
}
NAIVE_NOTE_SHAPE = dict(x=(1, 4, 8, 8), w=(4, 4, 3, 3), stride=1, padding=1)
RTOL = {"float32": 1e-4, "float16": 2e-2}
CUDA_DEVICE_NOTE = "no GPU: CuPy and a CUDA device are needed"


# --------------------------------------------------------------------------- helpers

def max_err(out, ref) -> float:
    """max |out - ref| over one array or a tuple of arrays (NumPy, CuPy or torch)."""
    if isinstance(out, (tuple, list)):
        return max(max_err(o, r) for o, r in zip(out, ref))
    return float(np.max(np.abs(to_numpy(out).astype(np.float64) - ref)))


def to_numpy(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().float().cpu().numpy()
    if type(a).__module__.split(".")[0] == "cupy":
        return a.get()
    return np.asarray(a)


def tolerance(ref, dtype: str = "float32") -> float:
    scale = max(float(np.max(np.abs(r))) for r in (ref if isinstance(ref, tuple) else (ref,)))
    return RTOL[dtype] * max(1.0, scale)


def row(name, op, variant, shape, device, *, timing=None, flops=None, nbytes=None, err=None,
        tol=None, note="", traffic=None, extra=None) -> dict:
    """One implementation's raw row (the harness record's keys, before the table is made)."""
    r = {"name": name, "params": {"op": op, **({"variant": variant} if variant else {}),
                                  "shape": shape, "device": device,
                                  "threads": THREADS if device == "cpu" else None},
         "timing": timing, "flops": flops, "bytes": nbytes, "max_abs_err": err, "tolerance": tol,
         "note": note}
    if traffic:
        r["traffic"] = traffic
    r.update(extra or {})
    return r


def check(fn, ref, dtype="float32"):
    """(max error, tolerance, error text or None): run ``fn`` once against ``ref``."""
    tol = tolerance(ref, dtype)
    try:
        err = max_err(fn(), ref)
    except Exception as exc:  # noqa: BLE001 - reported in the table, not fatal
        return None, tol, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    if not err <= tol:
        return err, tol, f"wrong result (max error {err:.2g} > {tol:.2g}): not timed"
    return err, tol, None


def cpu_rows(op, variant, shape, cands, ref, counts, repeats) -> list[dict]:
    """Check every CPU candidate, then time those that pass round-robin, side by side.

    ``cands``: {name: (fn, note, traffic or None)}; ``counts``: {traffic or None: (flops, bytes)}.
    """
    checked, rows = {}, []
    for name, (fn, note, traffic) in cands.items():
        checked[name] = check(fn, ref)
    ok = {k: cands[k][0] for k, (_, _, bad) in checked.items() if bad is None}
    timings = time_interleaved(ok, repeats, warmup=1) if ok else {}
    for name, (fn, note, traffic) in cands.items():
        err, tol, bad = checked[name]
        flops, nbytes = counts[traffic]
        rows.append(row(name, op, variant, shape, "cpu", timing=timings.get(name), flops=flops,
                        nbytes=nbytes, err=err, tol=tol, traffic=traffic,
                        note="; ".join(x for x in (note, bad) if x)))
    return rows


def emulator_rows(op, variant, shape, cands, ref) -> list[dict]:
    """The op's CUDA kernels through the emulator: correctness only (no timing, no counts)."""
    rows = []
    for name, fn in cands.items():
        err, tol, bad = check(fn, ref)
        rows.append(row(name, op, variant, shape, "emulator", err=err, tol=tol,
                        note=bad or "correctness only, at a small shape; never timed"))
    return rows


class Gpu:
    """Where the GPU rows run: CuPy + CUDA torch (timed with CUDA events), or in a dry run
    NumPy + the emulator + torch on the CPU (wall clock)."""

    def __init__(self, dry: bool, repeats: int):
        self.dry, self.repeats = dry, repeats
        if dry:
            self.xp, self.backend, self.device = np, "emulator", "cpu"
        else:
            import cupy
            self.xp, self.backend, self.device = cupy, "cupy", "cuda"
        self.note = "dry run: emulator / torch CPU, wall clock" if dry else ""

    def put(self, a):
        return self.xp.asarray(a)

    def tensor(self, a):
        return torch.as_tensor(a, device=self.device)

    def time(self, fn, lib: str):
        if self.dry:
            return time_cpu(fn, repeats=2, warmup=1)
        return time_cuda(fn, repeats=self.repeats, warmup=3, backend=lib, target_ms=5.0).timing

    def rows(self, op, variant, shape, cands, ref, counts) -> list[dict]:
        """``cands``: {name: (fn, lib "cupy"|"torch", note, traffic, dtype)}; each is checked
        against ``ref`` first and timed only if right."""
        out = []
        for name, (fn, lib, note, traffic, dtype) in cands.items():
            err, tol, bad = check(fn, ref, dtype)
            timing = None
            if bad is None:
                try:
                    timing = self.time(fn, lib)
                except Exception as exc:  # noqa: BLE001
                    bad = f"timing failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            flops, nbytes = counts[traffic]
            out.append(row(name, op, variant, shape, "cuda", timing=timing, flops=flops,
                           nbytes=nbytes, err=err, tol=tol, traffic=traffic,
                           note="; ".join(x for x in (note, self.note, bad) if x),
                           extra={"dry_run": True} if self.dry else None))
        return out

    def ceilings(self, quick: bool) -> Ceilings:
        """The GPU's FP32 matmul rate (CuPy / cuBLAS, no TF32) and device copy bandwidth."""
        xp = self.xp
        n = 64 if self.dry else (2048 if quick else 8192)
        m = xp.asarray(np.random.default_rng(3).standard_normal((n, n), dtype=np.float32))
        t = self.time(lambda: xp.matmul(m, m), "cupy")
        peak = 2 * n ** 3 / t.min / 1e9
        nel = (1 << 16) if self.dry else ((1 << 24) if quick else (1 << 28))
        a = xp.ones(nel, dtype=np.float32)
        b = xp.empty_like(a)
        tc = self.time(lambda: b.__setitem__(Ellipsis, a), "cupy")
        bw = 2 * a.nbytes / tc.min / 1e9
        how = (f"{'dry run (emulator side, wall clock): ' if self.dry else ''}FP32 matmul "
               f"{n}x{n} (cuBLAS via CuPy, best of {t.repeats}); device copy of "
               f"{a.nbytes >> 20} MiB (read + write, best of {tc.repeats})")
        return Ceilings(peak, bw, how)


def no_gpu_rows(op, variant, shape, names_traffic, counts) -> list[dict]:
    return [row(name, op, variant, shape, "cuda", flops=counts[tr][0], nbytes=counts[tr][1],
                traffic=tr, note=CUDA_DEVICE_NOTE) for name, tr in names_traffic]


def rng_arrays(seed, *shapes, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(scale * rng.standard_normal(s)).astype(np.float32) for s in shapes]


# --------------------------------------------------------------------------- convolution

def conv_inputs(spec, seed=0):
    cin, kh, kw = spec["w"][1:]
    x, w, b = rng_arrays(seed, spec["x"], spec["w"], (spec["w"][0],))
    w /= np.float32(math.sqrt(cin * kh * kw))              # unit-variance outputs
    s, p = spec["stride"], spec["padding"]
    ref = F.conv2d(torch.from_numpy(x).double(), torch.from_numpy(w).double(),
                   torch.from_numpy(b).double(), stride=s, padding=p).numpy()
    return x, w, b, s, p, ref


def naive_note() -> str:
    from course_lib.conv import conv2d_im2col, conv2d_naive
    x, w, b, s, p, _ = conv_inputs(NAIVE_NOTE_SHAPE, seed=5)
    t = time_interleaved({"naive": lambda: conv2d_naive(x, w, b, s, p),
                          "im2col": lambda: conv2d_im2col(x, w, b, s, p)}, 3)
    ratio = t["naive"].median / t["im2col"].median
    return (f"not timed at this shape (a Python loop per output element); at x {NAIVE_NOTE_SHAPE['x']}, "
            f"w {NAIVE_NOTE_SHAPE['w']}: {ratio:.0f}x the time of im2col")


def bench_conv(mode, repeats, gpu):
    from course_lib.conv import (conv2d_direct, conv2d_fft, conv2d_im2col, conv2d_winograd)
    from course_lib.conv import gpu as cg
    spec = SHAPES[mode]["conv"]
    x, w, b, s, p, ref = conv_inputs(spec)
    counts = {None: (conv2d_flops(spec["x"], spec["w"], s, p),
                     conv2d_bytes(spec["x"], spec["w"], s, p))}
    xt, wt, bt = (torch.from_numpy(a) for a in (x, w, b))

    def torch_conv():
        with torch.inference_mode():
            return F.conv2d(xt, wt, bt, stride=s, padding=p)
    cands = {
        "numpy direct": (lambda: conv2d_direct(x, w, b, s, p), "KH*KW shifted GEMMs", None),
        "numpy im2col": (lambda: conv2d_im2col(x, w, b, s, p), "", None),
        "numpy winograd F(2x2)": (lambda: conv2d_winograd(x, w, b, p, m=2), "", None),
        "numpy winograd F(4x4)": (lambda: conv2d_winograd(x, w, b, p, m=4), "", None),
        "numpy fft": (lambda: conv2d_fft(x, w, b, s, p), "", None),
        "torch cpu": (torch_conv, "F.conv2d (oneDNN)", None),
    }
    rows = [row("numpy naive", "conv", None, spec, "cpu", flops=counts[None][0],
                nbytes=counts[None][1], note=naive_note())]
    rows += cpu_rows("conv", None, spec, cands, ref, counts, repeats)
    small = SHAPES["small"]["conv"]
    xs, ws, bs, ss, ps, refs = conv_inputs(small, seed=1)
    rows += emulator_rows("conv", None, small, {
        f"emulator {cg.KERNELS[k].function}": (lambda k=k: cg.conv2d_gpu(
            xs, ws, bs, ss, ps, kernel=k, backend="emulator")) for k in cg.FORWARD_KERNELS}, refs)
    gpu_names = ["cupy naive", "cupy tiled", "cupy im2col + cuBLAS", "cudnn"]
    if gpu is None:
        return rows + no_gpu_rows("conv", None, spec, [(n, None) for n in gpu_names], counts)
    g = cg.geometry(spec["x"], spec["w"], s, p)
    xd, wd, bd = gpu.put(x), gpu.put(w), gpu.put(b)
    yd = gpu.xp.empty(g.y_shape, np.float32)
    xg, wg, bg = gpu.tensor(x), gpu.tensor(w), gpu.tensor(b)

    def cudnn():
        with torch.inference_mode():
            return F.conv2d(xg, wg, bg, stride=s, padding=p)
    cands = {f"cupy {k}" if k != "im2col" else "cupy im2col + cuBLAS":
             (lambda k=k: cg.launch_forward(k, g, xd, wd, bd, yd, gpu.backend), "cupy", "", None,
              "float32") for k in cg.FORWARD_KERNELS}
    cands["cudnn"] = (cudnn, "torch", "F.conv2d on CUDA, TF32 off", None, "float32")
    return rows + gpu.rows("conv", None, spec, cands, ref, counts)


# --------------------------------------------------------------------------- LSTM step

def lstm_step_bytes(B: int, I: int, H: int, itemsize: int = 4) -> int:
    """Compulsory bytes of one LSTM step: read x (B, I), h and c (B, H), w_ih (4H, I),
    w_hh (4H, H), both biases (4H); write h and c (B, H)."""
    return (B * I + 4 * B * H + 4 * H * (I + H) + 8 * H) * itemsize


def bench_lstm(mode, repeats, gpu):
    from course_lib.rnn import gpu as rg
    from course_lib.rnn import lstm_step, lstm_step_per_gate
    spec = SHAPES[mode]["lstm_step"]

    def make(spec, seed):
        B, I, H = spec["B"], spec["I"], spec["H"]
        x, h, c = rng_arrays(seed, (B, I), (B, H), (B, H))
        k = 1 / math.sqrt(H)                               # torch's LSTM initialisation range
        w_ih, w_hh, b_ih, b_hh = (np.random.default_rng(seed + 1).uniform(-k, k, s).astype(np.float32)
                                  for s in ((4 * H, I), (4 * H, H), (4 * H,), (4 * H,)))
        cell = torch.nn.LSTMCell(I, H).double()
        with torch.no_grad():
            for name, a in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                               (w_ih, w_hh, b_ih, b_hh)):
                getattr(cell, name).copy_(torch.from_numpy(a))
            h1, c1 = cell(torch.from_numpy(x).double(),
                          (torch.from_numpy(h).double(), torch.from_numpy(c).double()))
        return (x, h, c, w_ih, w_hh, b_ih, b_hh), (h1.numpy(), c1.numpy())
    args, ref = make(spec, 0)
    B, I, H = spec["B"], spec["I"], spec["H"]
    counts = {None: (lstm_step_flops(B, I, H), lstm_step_bytes(B, I, H))}
    x, h, c, w_ih, w_hh, b_ih, b_hh = args
    cell = torch.nn.LSTMCell(I, H)
    with torch.no_grad():
        for name, a in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), args[3:]):
            getattr(cell, name).copy_(torch.from_numpy(a))
    xt, ht, ct = (torch.from_numpy(a) for a in (x, h, c))

    def torch_cell():
        with torch.inference_mode():
            return cell(xt, (ht, ct))
    cands = {"numpy fused step": (lambda: lstm_step(*args), "two GEMMs on stacked weights", None),
             "numpy per-gate step": (lambda: lstm_step_per_gate(*args), "four GEMMs on [x, h]", None),
             "torch cpu": (torch_cell, "nn.LSTMCell", None)}
    rows = cpu_rows("lstm_step", None, spec, cands, ref, counts, repeats)
    small = SHAPES["small"]["lstm_step"]
    sargs, sref = make(small, 1)

    def emu(variant):
        xs, hs, cs, *ws = sargs
        _, h1, c1 = rg.lstm_layer_forward(xs[None], *ws, hs, cs, variant=variant, backend="emulator")
        return h1, c1
    rows += emulator_rows("lstm_step", None, small, {
        "emulator lstm_pointwise_forward (stepwise)": lambda: emu("stepwise"),
        "emulator lstm_persistent": lambda: emu("persistent")}, sref)
    gpu_names = ["cupy stepwise (cuBLAS + lstm_pointwise_forward)", "cupy persistent",
                 "torch cuda LSTMCell", "cudnn (nn.LSTM, T=1)"]
    if gpu is None:
        return rows + no_gpu_rows("lstm_step", None, spec, [(n, None) for n in gpu_names], counts)
    dev = [gpu.put(a) for a in args]
    cell_g = torch.nn.LSTMCell(I, H).to(gpu.device)
    lstm_g = torch.nn.LSTM(I, H).to(gpu.device)
    with torch.no_grad():
        for name, a in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), args[3:]):
            getattr(cell_g, name).copy_(gpu.tensor(a))
            getattr(lstm_g, name + "_l0").copy_(gpu.tensor(a))
    xg, hg, cg_ = (gpu.tensor(a) for a in (x, h, c))

    def ours(variant):
        xd, hd, cd, *wd = dev
        _, h1, c1 = rg.lstm_layer_forward(xd[None], *wd, hd, cd, variant=variant, backend=gpu.backend)
        return h1, c1

    def cell_run():
        with torch.inference_mode():
            return cell_g(xg, (hg, cg_))

    def lstm_run():
        with torch.inference_mode():
            _, (h1, c1) = lstm_g(xg[None], (hg[None], cg_[None]))
            return h1[0], c1[0]
    cands = {gpu_names[0]: (lambda: ours("stepwise"), "cupy", "lstm_layer_forward, T=1", None, "float32"),
             gpu_names[1]: (lambda: ours("persistent"), "cupy", "lstm_layer_forward, T=1", None,
                            "float32"),
             gpu_names[2]: (cell_run, "torch", "", None, "float32"),
             gpu_names[3]: (lstm_run, "torch", "", None, "float32")}
    return rows + gpu.rows("lstm_step", None, spec, cands, ref, counts)


# --------------------------------------------------------------------------- softmax

def bench_softmax(mode, repeats, gpu):
    from course_lib.attention import gpu as ag
    from course_lib.attention import softmax
    spec = SHAPES[mode]["softmax"]
    (x,) = rng_arrays(0, spec["x"], scale=3.0)
    ref = torch.softmax(torch.from_numpy(x).double(), -1).numpy()
    n = spec["x"][-1]
    rows_n = x.size // n
    counts = {None: (softmax_flops(rows_n, n), 2 * x.size * 4)}
    xt = torch.from_numpy(x)
    cands = {"numpy softmax": (lambda: softmax(x), "course_lib.attention.softmax (checks, a copy)",
                               None),
             "torch cpu": (lambda: torch.softmax(xt, -1), "", None)}
    rows = cpu_rows("softmax", None, spec, cands, ref, counts, repeats)
    small = SHAPES["small"]["softmax"]
    (xs,) = rng_arrays(1, small["x"], scale=3.0)
    refs = torch.softmax(torch.from_numpy(xs).double(), -1).numpy()
    rows += emulator_rows("softmax", None, small, {
        f"emulator softmax_{v}": (lambda v=v: ag.softmax(xs, variant=v, backend="emulator"))
        for v in ag.VARIANTS}, refs)
    gpu_names = [f"cupy softmax_{v}" for v in ag.VARIANTS] + ["torch cuda"]
    if gpu is None:
        return rows + no_gpu_rows("softmax", None, spec, [(n, None) for n in gpu_names], counts)
    xd = gpu.put(x)
    yd = gpu.xp.empty_like(xd)
    L, S = spec["x"][-2], n
    m8 = gpu.xp.zeros(1, dtype=np.uint8)
    xg = gpu.tensor(x)
    cands = {f"cupy softmax_{v}": (lambda v=v: ag.launch_softmax(xd, m8, yd, rows_n, L, S, 0, False, v,
                                                                gpu.backend), "cupy", "", None, "float32")
             for v in ag.VARIANTS}
    cands["torch cuda"] = (lambda: torch.softmax(xg, -1), "torch", "", None, "float32")
    return rows + gpu.rows("softmax", None, spec, cands, ref, counts)


# --------------------------------------------------------------------------- attention

MATERIALISED = "own: L x S scores written, read back"


def attention_counts(spec, causal):
    """(flops, bytes) per traffic model; causal counts the visible pairs only."""
    B, H, L, S, E = (spec[k] for k in ("B", "H", "L", "S", "E"))
    flops = attention_flops(B, H, L, S, E)
    if causal:                                  # visible (i, j): j <= i, top-left aligned
        pairs = sum(min(i + 1, S) for i in range(L))
        flops = flops * pairs // (L * S)
    return {None: (flops, attention_bytes(B, H, L, S, E, materialised=False)),
            MATERIALISED: (flops, attention_bytes(B, H, L, S, E, materialised=True))}


def attention_inputs(spec, seed):
    return rng_arrays(seed, *[(spec["B"], spec["H"], n, spec["E"])
                              for n in (spec["L"], spec["S"], spec["S"])])


def attention_ref(q, k, v, causal):
    return F.scaled_dot_product_attention(*(torch.from_numpy(a).double() for a in (q, k, v)),
                                          is_causal=causal).numpy()


def torch_sdpa(q, k, v, causal, backend):
    from torch.nn.attention import sdpa_kernel

    def run():
        with torch.inference_mode(), sdpa_kernel([backend]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    return run


def bench_attention(mode, repeats, gpu, causal):
    from torch.nn.attention import SDPBackend

    from course_lib.attention import flash_attention, scaled_dot_product_attention
    from course_lib.attention import flash_gpu as fg
    from course_lib.attention import gpu as ag
    variant = "causal" if causal else "non-causal"
    spec = SHAPES[mode]["attention"]
    q, k, v = attention_inputs(spec, 0)
    ref = attention_ref(q, k, v, causal)
    counts = attention_counts(spec, causal)
    qt, kt, vt = (torch.from_numpy(a) for a in (q, k, v))
    cands = {
        "numpy sdpa": (lambda: scaled_dot_product_attention(q, k, v, is_causal=causal),
                       "standard: scores, softmax, P V", MATERIALISED),
        "numpy flash": (lambda: flash_attention(q, k, v, is_causal=causal),
                        "64x64 tiles; its tile GEMMs run on 1 BLAS thread (flash.TILE_GEMM_THREADS)",
                        None),
        "torch cpu sdpa (math)": (torch_sdpa(qt, kt, vt, causal, SDPBackend.MATH), "", MATERIALISED),
        "torch cpu sdpa (flash)": (torch_sdpa(qt, kt, vt, causal, SDPBackend.FLASH_ATTENTION), "",
                                   None),
    }
    rows = cpu_rows("attention", variant, spec, cands, ref, counts, repeats)
    small = SHAPES["small"]["attention"]
    qs, ks, vs = attention_inputs(small, 1)
    refs = attention_ref(qs, ks, vs, causal)
    rows += emulator_rows("attention", variant, small, {
        "emulator attention (GEMM + softmax_warp + GEMM)":
            lambda: ag.attention(qs, ks, vs, is_causal=causal, backend="emulator"),
        "emulator flash_fwd_f32":
            lambda: fg.flash_attention_gpu(qs, ks, vs, is_causal=causal, backend="emulator")}, refs)
    gpu_names = [("cupy unfused (cuBLAS + softmax_warp + cuBLAS)", MATERIALISED),
                 ("cupy flash_fwd_f32", None), ("cupy flash_fwd_wmma_f16 (fp16 inputs)", None),
                 ("torch cuda sdpa (math)", MATERIALISED), ("torch cuda sdpa (efficient)", None),
                 ("torch cuda sdpa (flash, fp16 inputs)", None)]
    if gpu is None:
        return rows + no_gpu_rows("attention", variant, spec, gpu_names, counts)
    B, H, L, S, E = (spec[k2] for k2 in ("B", "H", "L", "S", "E"))
    qd, kd, vd = (gpu.put(a) for a in (q, k, v))
    qh, kh, vh = (gpu.put(a.astype(np.float16)) for a in (q, k, v))
    scale = 1.0 / math.sqrt(E)
    dims = dict(H=H, H_kv=H, L=L, S=S, E=E, causal=causal, scale=scale, backend=gpu.backend)
    qg, kg, vg = (gpu.tensor(a) for a in (q, k, v))
    qg16, kg16, vg16 = (t.half() for t in (qg, kg, vg))
    cands = {
        gpu_names[0][0]: (lambda: ag.launch_attention(qd, kd, vd, causal, scale, "warp", gpu.backend),
                          "cupy", "", MATERIALISED, "float32"),
        gpu_names[1][0]: (lambda: fg.launch_flash_fwd_f32(qd, kd, vd, **dims)[0].reshape(B, H, L, E),
                          "cupy", "", None, "float32"),
        gpu_names[2][0]: (lambda: fg.launch_flash_fwd_wmma(qh, kh, vh, dtype="float16", **dims)[0]
                          .reshape(B, H, L, E), "cupy", "tensor cores, fp32 accumulators", None,
                          "float16"),
        gpu_names[3][0]: (torch_sdpa(qg, kg, vg, causal, SDPBackend.MATH), "torch", "", MATERIALISED,
                          "float32"),
        gpu_names[4][0]: (torch_sdpa(qg, kg, vg, causal, SDPBackend.EFFICIENT_ATTENTION), "torch", "",
                          None, "float32"),
        gpu_names[5][0]: (torch_sdpa(qg16, kg16, vg16, causal, SDPBackend.FLASH_ATTENTION), "torch",
                          "", None, "float16"),
    }
    return rows + gpu.rows("attention", variant, spec, cands, ref, counts)


# --------------------------------------------------------------------------- main

OPS = [("conv", lambda m, r, g: bench_conv(m, r, g)),
       ("lstm_step", lambda m, r, g: bench_lstm(m, r, g)),
       ("softmax", lambda m, r, g: bench_softmax(m, r, g)),
       ("attention, non-causal", lambda m, r, g: bench_attention(m, r, g, False)),
       ("attention, causal", lambda m, r, g: bench_attention(m, r, g, True))]

TITLES = {"conv": "Convolution", "lstm_step": "LSTM, one time step", "softmax": "Softmax",
          "attention, non-causal": "Attention", "attention, causal": "Attention, causal"}


def shape_text(shape: dict) -> str:
    return ", ".join(f"{k} {v}" if isinstance(v, tuple) else f"{k}={v}" for k, v in shape.items())


RECORD_KEYS = ("max_abs_err", "tolerance", "passed", "ratio_to_best", "intensity", "traffic",
               "attainable_gflops", "roofline_fraction", "bound", "note")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, few repeats (smoke test)")
    ap.add_argument("--dry-run", action="store_true",
                    help="run the GPU rows' code on the emulator and torch CPU at a tiny shape")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="BLAS and torch threads (default: all cores)")
    ap.add_argument("--out", type=Path, default=None,
                    help="results folder (default benchmarks/results on a full run; --quick and "
                         "--dry-run write nothing unless --out is given)")
    args = ap.parse_args(argv)
    dry, q = args.dry_run, args.quick
    mode = "small" if dry else "quick" if q else "full"
    out_dir = args.out if args.out is not None else (None if (q or dry) else ROOT / "benchmarks/results")
    repeats = 3 if (q or dry) else 9
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    has_gpu = (not dry) and cuda_available("cupy") and cuda_available("torch")
    if has_gpu:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    gpu = Gpu(dry, repeats=20 if not q else 5) if (dry or has_gpu) else None
    cpu_ceil = measure_ceilings(quick=q or dry)
    gpu_ceil = gpu.ceilings(q) if gpu is not None else None
    bench = "ops_dryrun" if dry else "ops_gpu" if has_gpu else "ops_cpu"
    by_device = {"cpu": cpu_ceil.to_dict(), "cuda": None if gpu_ceil is None else gpu_ceil.to_dict()}
    rec = new_record(bench, quick=q, ceilings=cpu_ceil, machine=machine_record(), config={
        "threads": THREADS, "repeats": repeats, "dtype": "float32", "mode": mode,
        "shapes": {k: v for k, v in SHAPES[mode].items()}, "emulator_shapes": SHAPES["small"],
        "statistic": "median (IQR) of round-robin repeats (CPU), of CUDA-event samples (GPU)",
        "ceilings_by_device": by_device, "gpu": has_gpu, "dry_run": dry,
        "flops": "useful work (course_lib.bench.counts); causal attention: visible pairs only",
        "bytes": "compulsory traffic unless a row's traffic names its own"})
    md = []
    failures = []
    for key, fn in OPS:
        try:
            rows = fn(mode, repeats, gpu)
        except Exception:  # noqa: BLE001 - one op failing must not lose the others
            failures.append(f"{key}: {traceback.format_exc()}")
            continue
        assert all(table_key(r) == key for r in rows), key
        table = op_table(rows, by_device)
        for raw, t in zip(rows, table):
            add_result(rec, raw["name"], timing=raw["timing"], flops=raw["flops"],
                       nbytes=raw["bytes"], params=raw["params"],
                       **{k: t[k] for k in RECORD_KEYS}, **({"dry_run": True} if raw.get("dry_run") else {}))
        shape = SHAPES[mode][key.split(",")[0]]
        md += markdown_op_table(table, f"{TITLES[key]}: {shape_text(shape)}")
        print(f"{key}: done at {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t0
    load1 = os.getloadavg()[0]
    m = rec["machine"]
    head = [f"# The course's implementations side by side ({'dry run' if dry else 'quick' if q else 'full'} run)",
            "", f"Machine: {m['cpu']}, {m['cores']} cores"
            + (f"; GPU {m['gpus'][0]['name']}" if m.get("gpus") else "; no GPU")
            + f". Threads: {THREADS} (NumPy's BLAS and torch, `--threads`). float32.", "",
            f"CPU ceilings: {cpu_ceil.peak_gflops:.0f} GFLOP/s (NumPy float32 matmul), "
            f"{cpu_ceil.bandwidth_gbs:.1f} GB/s (copy), ridge {cpu_ceil.ridge:.1f} FLOP/B; {cpu_ceil.how}."]
    if gpu_ceil is not None:
        head += ["", f"GPU ceilings: {gpu_ceil.peak_gflops:.0f} GFLOP/s, {gpu_ceil.bandwidth_gbs:.0f} GB/s, "
                 f"ridge {gpu_ceil.ridge:.1f} FLOP/B; {gpu_ceil.how}."]
    head += ["", "Time: median (first-third quartile) in ms; x best: median over the fastest row's; "
             "FLOP/B: FLOPs of the op's useful work over its compulsory bytes, unless the cell names "
             "the row's own traffic; attainable = min(peak, FLOP/B x bandwidth) of the row's device; "
             "% of roof above 100 means faster than the measured ceiling (NumPy's BLAS matmul, not "
             "the hardware's peak). Error: max |out - float64 reference|, ok if within "
             "1e-4 x max(1, max |ref|) (float16 inputs: 2e-2). Emulator rows run the CUDA kernels "
             "on the CPU at a small shape: correctness only, never timed.", ""]
    busy = (f"Load average (1 min) at start/end: {load0:.1f} / {load1:.1f} on {m['cores']} cores"
            + (" -- above the core count: times are noisy." if max(load0, load1) > m["cores"]
               else "."))
    tail = [f"Run time: {elapsed:.0f} s. {busy}", ""]
    if failures:
        tail += ["## Failed", ""] + [f"```\n{f}\n```" for f in failures]
    text = "\n".join(head + md + tail)
    print(text)
    if out_dir is not None:
        rec["config"].update(run_time_s=elapsed, load_average_1min_start_end=[load0, load1])
        path = write_record(rec, out_dir)
        written = [str(path)]
        if not (q or dry):
            (out_dir / f"{bench}.md").write_text(text)
            from course_lib.bench.side_by_side import tables_from_record
            summary = {"machine": m, "ceilings_by_device": by_device, "config": rec["config"],
                       "tables": tables_from_record(json.loads(path.read_text()))}
            (out_dir / f"{bench}.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
            written += [str(out_dir / f"{bench}.md"), str(out_dir / f"{bench}.json")]
        print("wrote " + ", ".join(written))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

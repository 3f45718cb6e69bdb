"""CPU ladder of 2-D convolution algorithms (section 16.2): naive -> direct -> im2col ->
Winograd F(2x2)/F(4x4) -> FFT -> torch, plus what ``conv2d(algo="auto")`` picks.

    .venv/bin/python benchmarks/bench_conv_cpu.py            # full run, writes benchmarks/results/
    .venv/bin/python benchmarks/bench_conv_cpu.py --quick    # tiny layers, a few seconds

Columns: median ms; GFLOP/s = 2 * direct MACs / time (the same useful work for every
algorithm, so Winograd/FFT can exceed the machine's matmul speed); % of this
machine's NumPy float32 matmul GFLOP/s measured in the same run; time / torch;
time / best; max relative error = max|y - ref| / max|ref| of float32 inputs against a
float64 direct convolution; peak extra memory (tracemalloc: temporaries, output
excluded; not measurable for torch).  The naive loop is timed on a sub-problem with
the same receptive field and extrapolated per MAC (marked "extrap.").  The "auto" line
reports the cost model's decision time (``dispatch.choose_algorithm``) apart from the
chosen algorithm's.

Timing, memory, the machine record and the roofline ceilings come from
:mod:`course_lib.bench`; besides ``conv_cpu.json``/``.md`` (read by chapter 16.2) each
run writes a harness record ``<out>/<machine-slug>/conv_cpu[_quick].json``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.conv import dispatch  # noqa: E402
from course_lib.conv.direct import conv2d_direct  # noqa: E402
from course_lib.conv.fft import conv2d_fft  # noqa: E402
from course_lib.conv.im2col import conv2d_im2col  # noqa: E402
from course_lib.conv.naive import conv2d_naive  # noqa: E402
from course_lib.conv.opcount import source_fft_table, winograd_table  # noqa: E402
from course_lib.conv.winograd import conv2d_winograd, winograd_error_study  # noqa: E402
from course_lib.bench import (Progress, conv2d_bytes, legacy_machine_dict,  # noqa: E402
                              machine_record, measure_ceilings, measure_memory, new_record,
                              time_cpu, write_record)
from course_lib.bench.records import add_result  # noqa: E402
from course_lib.bench.roofline import place  # noqa: E402
from course_lib.bench.timing import auto_repeats  # noqa: E402

FULL_LAYERS = [  # name, x shape, w shape, stride, padding
    ("3x3 56px c64", (8, 64, 56, 56), (64, 64, 3, 3), 1, 1),
    ("3x3 28px c128", (8, 128, 28, 28), (128, 128, 3, 3), 1, 1),
    ("3x3 14px c256", (8, 256, 14, 14), (256, 256, 3, 3), 1, 1),
    ("stem 7x7 s2", (8, 3, 224, 224), (64, 3, 7, 7), 2, 3),
    ("K11 64px c16", (8, 16, 64, 64), (16, 16, 11, 11), 1, 0),
    ("K11 128px c16", (8, 16, 128, 128), (16, 16, 11, 11), 1, 0),
    ("K15 64px c16", (8, 16, 64, 64), (16, 16, 15, 15), 1, 0),
    ("K15 128px c16", (8, 16, 128, 128), (16, 16, 15, 15), 1, 0),
]
QUICK_LAYERS = [
    ("3x3 tiny", (2, 8, 12, 12), (8, 8, 3, 3), 1, 1),
    ("5x5 s2 tiny", (2, 3, 16, 16), (4, 3, 5, 5), 2, 2),
]

ALGOS = {
    "direct": lambda x, w, s, p: conv2d_direct(x, w, None, s, p),
    "im2col": lambda x, w, s, p: conv2d_im2col(x, w, None, s, p),
    "winograd F2": lambda x, w, s, p: conv2d_winograd(x, w, None, p, m=2),
    "winograd F4": lambda x, w, s, p: conv2d_winograd(x, w, None, p, m=4),
    "fft": lambda x, w, s, p: conv2d_fft(x, w, None, s, p),
}
AUTO_NAME = {"direct": "direct", "im2col": "im2col", "winograd_f2": "winograd F2",
             "winograd_f4": "winograd F4", "fft": "fft"}


def machine() -> dict:
    """The machine entry of ``conv_cpu.json`` (the pre-harness keys chapter 16.2 reads)."""
    return legacy_machine_dict(machine_record())


def timeit(fn, repeats: int) -> float:
    """Median seconds over ``repeats`` runs (after the caller's warm-up run)."""
    return time_cpu(fn, repeats=repeats, warmup=0).median


def reps_for(first_s: float, quick: bool) -> int:
    return auto_repeats(first_s, quick)


def naive_extrapolated(x, w, s, p, macs_full: int) -> tuple[float, int]:
    """Seconds per MAC of the naive loop on a sub-problem with the same C_in and kernel."""
    B, C, H, W = x.shape
    KH, KW = w.shape[2:]
    sh = sw = s
    h = min(H, max(KH - 2 * p, 1) + 5 * sh)
    wd = min(W, max(KW - 2 * p, 1) + 5 * sw)
    xs, ws = np.ascontiguousarray(x[:1, :, :h, :wd]), np.ascontiguousarray(w[:2])
    conv2d_naive(xs, ws, None, s, p)
    t = timeit(lambda: conv2d_naive(xs, ws, None, s, p), 3)
    oh, ow = (h + 2 * p - KH) // sh + 1, (wd + 2 * p - KW) // sw + 1
    sub_macs = 1 * ws.shape[0] * oh * ow * C * KH * KW
    return t / sub_macs * macs_full, sub_macs


def run_layer(name, xs, ws, s, p, gemm_gflops, quick, model, record=None, ceilings=None):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs, dtype=np.float32)
    w = (rng.standard_normal(ws, dtype=np.float32) / np.sqrt(ws[1] * ws[2] * ws[3])).astype(np.float32)
    geo = dispatch.geometry(xs, ws, s, p)
    flops = 2 * geo.macs
    ref = conv2d_direct(x.astype(np.float64), w.astype(np.float64), None, s, p)
    ref_scale = float(np.abs(ref).max())
    rows = {}

    t_naive, sub = naive_extrapolated(x, w, s, p, geo.macs)
    rows["naive"] = {"ms": 1e3 * t_naive, "extrapolated": True, "note": f"extrap. from {sub} MACs"}

    eligible = {k: f for k, f in ALGOS.items()
                if not (k.startswith("winograd") and (ws[2:] != (3, 3) or s != 1))}
    timings, mems = {}, {}
    for algo, fn in eligible.items():
        t0 = time.perf_counter()
        mem = measure_memory(fn, x, w, s, p)            # warm-up run, memory measured
        first = time.perf_counter() - t0
        y = mem.result
        timings[algo] = time_cpu(lambda: fn(x, w, s, p), repeats=reps_for(first, quick),
                                 warmup=0)
        mems[algo] = mem
        rows[algo] = {"ms": timings[algo].ms, "extrapolated": False,
                      "max_rel_err": float(np.abs(y - ref).max()) / ref_scale,
                      "workspace_MB": mem.traced_workspace / 2**20}
    try:
        import torch
        import torch.nn.functional as F
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        with torch.no_grad():
            t0 = time.perf_counter()
            yt = F.conv2d(xt, wt, stride=s, padding=p).numpy()
            first = time.perf_counter() - t0
            timings["torch"] = time_cpu(lambda: F.conv2d(xt, wt, stride=s, padding=p),
                                        repeats=reps_for(first, quick) + 2, warmup=0)
        rows["torch"] = {"ms": timings["torch"].ms, "extrapolated": False,
                         "max_rel_err": float(np.abs(yt - ref).max()) / ref_scale,
                         "workspace_MB": None}
    except ImportError:
        pass

    measured = {k: r["ms"] for k, r in rows.items() if not r["extrapolated"]}
    best = min(measured.values())
    ours_best_name = min((k for k in measured if k != "torch"), key=measured.get)
    for k, r in rows.items():
        r["gflops"] = flops / (r["ms"] * 1e-3) / 1e9
        r["pct_matmul"] = 100 * r["gflops"] / gemm_gflops
        r["x_torch"] = r["ms"] / rows["torch"]["ms"] if "torch" in rows else None
        r["x_best"] = r["ms"] / best

    choice = dispatch.choose_algorithm(xs, ws, s, p, np.float32, model=model)
    # the decision alone (what auto adds to the chosen algorithm), then the whole call
    t_choose = time_cpu(lambda: dispatch.choose_algorithm(xs, ws, s, p, np.float32, model=model),
                        repeats=5 if quick else 21)
    auto_fn = lambda: dispatch.conv2d(x, w, None, s, p, algo="auto", model=model)  # noqa: E731
    t_auto = time_cpu(auto_fn, repeats=1 if quick else 3, warmup=1)
    auto = {"choice": choice.algo, "ms": t_auto.ms, "dispatch_ms": t_choose.ms,
            "chosen_algo_ms": measured[AUTO_NAME[choice.algo]],
            "best_numpy_algo": ours_best_name, "best_numpy_ms": measured[ours_best_name],
            "x_best_numpy": measured[AUTO_NAME[choice.algo]] / measured[ours_best_name],
            "estimates_ms": {c.algo: c.est_ms for c in choice.candidates if c.eligible}}
    if record is not None:
        nbytes = conv2d_bytes(xs, ws, s, p, itemsize=4)
        params = {"layer": name, "x": xs, "w": ws, "stride": s, "padding": p}
        for algo, t in timings.items():
            extra = ({"roofline": place(algo, flops, nbytes, t.median, ceilings)}
                     if ceilings else {})
            add_result(record, algo, timing=t, memory=mems.get(algo), flops=flops, nbytes=nbytes,
                       params=params, max_rel_err=rows[algo]["max_rel_err"], **extra)
        add_result(record, "naive (extrapolated)", flops=flops, nbytes=nbytes, params=params,
                   extrapolated_ms=rows["naive"]["ms"])
        add_result(record, "auto: decision only", timing=t_choose, params=params,
                   choice=choice.algo)
        add_result(record, "auto: whole call", timing=t_auto, flops=flops, nbytes=nbytes,
                   params=params, choice=choice.algo)
    return {"name": name, "x": xs, "w": ws, "stride": s, "padding": p, "macs": geo.macs,
            "rows": rows, "auto": auto}


def source_claims(quick: bool) -> dict:
    """Re-measure the two speed-ups the source chapter prints."""
    out = {"winograd_table": [{k: (str(v) if not isinstance(v, (int, str)) else v)
                               for k, v in r.items()} for r in winograd_table()],
           "fft_table": source_fft_table(1024, 11)}
    if quick:
        return out
    import scipy.signal
    rng = np.random.default_rng(1)
    img, ker = rng.standard_normal((1024, 1024)), rng.standard_normal((11, 11))
    t0 = time.perf_counter()
    scipy.signal.convolve2d(img, ker, mode="valid")
    t_sc = time.perf_counter() - t0

    def source_style_fft():   # the chapter's approach: full linear size N+K-1, complex fft2
        s = (1024 + 10, 1024 + 10)
        return np.real(np.fft.ifft2(np.fft.fft2(img, s=s) * np.fft.fft2(ker, s=s)))

    source_style_fft()
    t_src = timeit(source_style_fft, 3)
    x4, k4 = img[None, None], ker[None, None]
    conv2d_fft(x4, k4)
    t_ours = timeit(lambda: conv2d_fft(x4, k4), 3)
    out["fft_measured_1024_k11_float64"] = {
        "scipy_convolve2d_valid_ms": 1e3 * t_sc, "source_style_fft_ms": 1e3 * t_src,
        "conv2d_fft_ms": 1e3 * t_ours, "speedup_vs_scipy_source_style": t_sc / t_src,
        "speedup_vs_scipy_conv2d_fft": t_sc / t_ours}
    # the stem at batch 32 (the source's 54.5x claim): naive extrapolated, im2col measured
    x = rng.standard_normal((32, 3, 224, 224), dtype=np.float32)
    w = rng.standard_normal((64, 3, 7, 7), dtype=np.float32)
    macs = 32 * 64 * 112 * 112 * 3 * 49
    t_naive, _ = naive_extrapolated(x, w, 2, 3, macs)
    conv2d_im2col(x, w, None, 2, 3)
    t_i = timeit(lambda: conv2d_im2col(x, w, None, 2, 3), 3)
    out["stem_b32"] = {"naive_ms_extrapolated": 1e3 * t_naive, "im2col_ms": 1e3 * t_i,
                       "speedup": t_naive / t_i}
    out["winograd_error"] = winograd_error_study()
    return out


ORDER = ["naive", "direct", "im2col", "winograd F2", "winograd F4", "fft", "torch"]


def fmt_table(layer: dict) -> list[str]:
    lines = [f"### {layer['name']}: x{tuple(layer['x'])} w{tuple(layer['w'])} "
             f"stride {layer['stride']} pad {layer['padding']}  ({layer['macs'] / 1e9:.2f} GMAC)",
             "", "| algorithm | ms | GFLOP/s | % matmul | x torch | x best | max rel err | extra MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for k in ORDER:
        r = layer["rows"].get(k)
        if r is None:
            continue
        ms = f"{r['ms']:.1f}" + (" (extrap.)" if r["extrapolated"] else "")
        err = f"{r['max_rel_err']:.1e}" if "max_rel_err" in r else "-"
        mem = f"{r['workspace_MB']:.1f}" if r.get("workspace_MB") is not None else "n/a"
        xt = f"{r['x_torch']:.2f}" if r["x_torch"] is not None else "-"
        lines.append(f"| {k} | {ms} | {r['gflops']:.1f} | {r['pct_matmul']:.0f}% | {xt} | "
                     f"{r['x_best']:.2f} | {err} | {mem} |")
    a = layer["auto"]
    disp = f", of which choosing {a['dispatch_ms']:.2f} ms" if "dispatch_ms" in a else ""
    lines += ["", f"auto (cost model) chose **{a['choice']}**: {a['chosen_algo_ms']:.1f} ms; best "
              f"NumPy algorithm {a['best_numpy_algo']} {a['best_numpy_ms']:.1f} ms -> "
              f"{a['x_best_numpy']:.2f}x the best (auto call incl. dispatch: {a['ms']:.1f} ms"
              f"{disp})", ""]
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny layers, few repeats (smoke test)")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for conv_cpu.json/.md (default benchmarks/results; "
                         "--quick writes nothing unless --out is given)")
    args = ap.parse_args(argv)
    out_dir = args.out if args.out is not None else (None if args.quick else ROOT / "benchmarks/results")
    t_start = time.perf_counter()

    rec_machine = machine_record()
    info = legacy_machine_dict(rec_machine)
    load0 = os.getloadavg()
    ceilings = measure_ceilings(quick=args.quick)
    gemm = ceilings.peak_gflops
    model = dispatch.calibrate()
    dispatch.set_cost_model(model)
    layers = QUICK_LAYERS if args.quick else FULL_LAYERS
    record = new_record("conv_cpu", quick=args.quick, machine=rec_machine, ceilings=ceilings,
                        config={"layers": [list(spec) for spec in layers], "dtype": "float32"})
    results = []
    with Progress(len(layers), "conv layers", enabled=not args.quick) as bar:
        for spec in layers:
            results.append(run_layer(*spec, gemm, args.quick, model, record, ceilings))
            print("\n".join(fmt_table(results[-1])), flush=True)
            bar.update(note=spec[0])
    claims = source_claims(args.quick)

    head = [f"# Convolution algorithms on the CPU ({'quick' if args.quick else 'full'} run)", "",
            f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, NumPy "
            f"{info['numpy']}, SciPy {info['scipy']}, PyTorch {info.get('torch')} "
            f"({info.get('torch_threads')} threads); BLAS: {info['blas']}", "",
            f"NumPy float32 matmul in this run: {gemm:.1f} GFLOP/s (copy bandwidth "
            f"{ceilings.bandwidth_gbs:.1f} GB/s). Cost model calibration: "
            f"GEMM {model.gemm_gflops:.1f} GFLOP/s, copy {model.copy_gbs:.1f} GB/s, FFT "
            f"{model.fft_gflops:.2f} GFLOP/s.", "", "Inputs float32; error reference: float64 direct "
            "convolution of the same values. GFLOP/s = 2 x direct MACs / time.", ""]
    body = [line for r in results for line in fmt_table(r)]
    tail = []
    if "stem_b32" in claims:
        c, f = claims["stem_b32"], claims["fft_measured_1024_k11_float64"]
        tail = ["## The source's printed speed-ups, re-measured", "",
                f"* stem (32,3,224,224)x(64,3,7,7) s2 p3: naive {c['naive_ms_extrapolated'] / 1e3:.0f} s "
                f"(extrapolated), im2col {c['im2col_ms']:.0f} ms -> {c['speedup']:.0f}x",
                f"* 1024x1024 image, 11x11 kernel, float64: scipy.signal.convolve2d(valid) "
                f"{f['scipy_convolve2d_valid_ms']:.0f} ms, chapter-style complex FFT "
                f"{f['source_style_fft_ms']:.0f} ms ({f['speedup_vs_scipy_source_style']:.1f}x), "
                f"conv2d_fft {f['conv2d_fft_ms']:.0f} ms ({f['speedup_vs_scipy_conv2d_fft']:.1f}x)", ""]
    elapsed = time.perf_counter() - t_start
    load1 = os.getloadavg()
    info["loadavg_1min_start_end"] = (load0[0], load1[0])
    # the 1-min load average counts this benchmark's own threads: judge "busy" against the core count
    noisy = max(load0[0], load1[0]) > info["cores"]
    busy = (f"Load average (1 min) at start/end: {load0[0]:.1f} / {load1[0]:.1f} on {info['cores']} cores"
            + (" -- above the core count: other processes shared the CPU and times are noisy."
               if noisy else " -- the machine was otherwise quiet."))
    md = "\n".join(head + body + tail + [f"Run time: {elapsed:.0f} s. {busy}", ""])
    print(md if args.quick else "\n".join(tail) + f"\nRun time: {elapsed:.0f} s.")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "conv_cpu.md").write_text(md)
        payload = {"machine": info, "matmul_gflops": gemm,
                   "cost_model": {"gemm_gflops": model.gemm_gflops, "copy_gbs": model.copy_gbs,
                                  "fft_gflops": float(model.fft_gflops)},
                   "layers": results, "source_claims": claims, "run_time_s": elapsed}
        (out_dir / "conv_cpu.json").write_text(json.dumps(payload, indent=1, default=str))
        record["config"]["run_time_s"] = elapsed
        record["config"]["load_average_1min_start_end"] = [load0[0], load1[0]]
        record["source_claims"] = claims
        path = write_record(record, out_dir)
        print(f"wrote {out_dir / 'conv_cpu.md'}, conv_cpu.json and {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

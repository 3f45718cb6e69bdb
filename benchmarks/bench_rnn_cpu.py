"""CPU benchmark of the 16.3 recurrent layers: NumPy LSTM/GRU formulations against torch.

    .venv/bin/python benchmarks/bench_rnn_cpu.py            # full run, writes benchmarks/results/
    .venv/bin/python benchmarks/bench_rnn_cpu.py --quick    # tiny sizes, a few seconds

Tables (float32, I = H unless named; fastest of round-robin repeats, so the numbers in
one row were measured side by side):

1. LSTM formulations: per-gate (4 GEMMs per step on [x, h]) vs fused (one input
   projection GEMM + one recurrent GEMM per step), forward and forward+backward.
2. NumPy fused LSTM vs torch.nn.LSTM on the CPU at a small, the main
   (T=100, B=32, I=H=256) and a large size: forward (torch under no_grad) and a
   training step (forward + backward); ratio NumPy / torch.
3. Time per step against T and against B (fused forward, and torch).
4. Layout (T, B, I) vs (B, T, I) (``batch_first``).
5. LSTM vs GRU: parameters and forward time.

Timing (round-robin, :func:`course_lib.bench.time_interleaved`) and the machine record
come from :mod:`course_lib.bench`; besides ``rnn_cpu.json``/``.md`` (read by chapter
16.3) each run writes a harness record ``<out>/<machine-slug>/rnn_cpu[_quick].json``
with every sample.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _threads import pin_threads  # noqa: E402  (before NumPy loads its BLAS)

THREADS = pin_threads(default=1)

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(THREADS)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.bench import (Progress, legacy_machine_dict, machine_record,  # noqa: E402
                              new_record, time_interleaved, write_record)
from course_lib.bench.counts import lstm_step_flops  # noqa: E402
from course_lib.bench.records import add_result  # noqa: E402
from course_lib.rnn import GRU, LSTM  # noqa: E402
from course_lib.rnn.counts import lstm_traffic, rnn_param_count  # noqa: E402


RECORD: dict | None = None      # the harness record of this run (set in main)


def paired(fns: dict, repeats: int, section: str = "", flops: dict | None = None,
           **params) -> dict[str, float]:
    """Fastest ms of each callable, run round-robin after one warm-up each.

    The minimum, not the median: on a shared machine other processes only ever add
    time, so the fastest of several interleaved runs is the least disturbed one.
    Every sample goes to the harness record under ``section`` with ``params`` (and
    ``flops[name]`` where given, for GFLOP/s).
    """
    ts = time_interleaved(fns, repeats, warmup=1)
    if RECORD is not None:
        for k, t in ts.items():
            add_result(RECORD, k, timing=t, flops=(flops or {}).get(k),
                       params={"section": section, **params})
    return {k: 1e3 * t.min for k, t in ts.items()}


def lstm_pair(T, B, I, H, seed=0, dtype=np.float32, batch_first=False, **kw):
    """A NumPy LSTM, the torch module with the same weights, and an input."""
    ours = LSTM(I, H, batch_first=batch_first, dtype=dtype, seed=seed, **kw)
    ref = ours.to_torch()
    shape = (B, T, I) if batch_first else (T, B, I)
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ours, ref, x


def fwd(layer, x):
    return lambda: layer(x)


def fwd_bwd(layer, x):
    def run():
        y = layer(x)[0]
        layer.backward(np.ones_like(y))
    return run


def torch_fwd(mod, x):
    xt = torch.from_numpy(x)

    def run():
        with torch.no_grad():
            mod(xt)
    return run


def torch_fwd_bwd(mod, x):
    xt = torch.from_numpy(x).requires_grad_(True)

    def run():
        mod.zero_grad(set_to_none=True)
        y = mod(xt)[0]
        y.backward(torch.ones_like(y))
    return run


def table(title, cols, rows):
    lines = [f"### {title}", "", "| " + " | ".join(cols) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(cols))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines + [""]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, few repeats (smoke test)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS and torch threads for both sides (default 1: one core each, the "
                         "steadiest numbers on a shared machine)")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for rnn_cpu.json/.md (default benchmarks/results; --quick "
                         "writes nothing unless --out is given)")
    args = ap.parse_args(argv)
    q = args.quick
    out_dir = args.out if args.out is not None else (None if q else ROOT / "benchmarks/results")
    reps = 2 if q else 9
    t_start = time.perf_counter()
    load0 = os.getloadavg()
    global RECORD
    rec_machine = machine_record()
    info = legacy_machine_dict(rec_machine)
    RECORD = new_record("rnn_cpu", quick=q, machine=rec_machine,
                        config={"threads": THREADS, "repeats": reps, "dtype": "float32",
                                "statistic": "min of round-robin repeats"})
    bar = Progress(5, "rnn tables", enabled=not q)
    res: dict = {"machine": info}
    md: list[str] = []

    # 1. formulations
    main_size = (6, 4, 16, 16) if q else (100, 32, 256, 256)
    T, B, I, H = main_size
    fused, ref, x = lstm_pair(T, B, I, H)
    per_gate = LSTM(I, H, seed=0, formulation="per_gate")
    x64 = x.astype(np.float64)
    per_gate64 = LSTM(I, H, seed=0, formulation="per_gate", dtype=np.float64)
    f = paired({"fused fwd": fwd(fused, x), "per-gate fwd": fwd(per_gate, x),
                "per-gate fwd f64": fwd(per_gate64, x64),
                "fused fwd+bwd": fwd_bwd(fused, x), "per-gate fwd+bwd": fwd_bwd(per_gate, x)},
               reps, "1. formulations", T=T, B=B, I=I, H=H)
    trf = {k: lstm_traffic(T, B, I, H, k) for k in ("per_gate", "fused", "kernel")}
    res["formulations"] = {"size": dict(T=T, B=B, I=I, H=H), "ms": f,
                           "traffic": {k: vars(v) | {"total": v.total} for k, v in trf.items()}}
    rows = [["per-gate (4 GEMMs/step)", f"{f['per-gate fwd']:.1f}", f"{f['per-gate fwd+bwd']:.1f}",
             f"{f['per-gate fwd'] / f['fused fwd']:.2f}", trf["per_gate"].gemm_calls,
             f"{trf['per_gate'].total * 4 / 1e6:.0f}"],
            ["fused (1 input GEMM + 1/step)", f"{f['fused fwd']:.1f}", f"{f['fused fwd+bwd']:.1f}",
             "1.00", trf["fused"].gemm_calls, f"{trf['fused'].total * 4 / 1e6:.0f}"],
            ["per-gate, float64 (the source's dtype)", f"{f['per-gate fwd f64']:.1f}", "-",
             f"{f['per-gate fwd f64'] / f['fused fwd']:.2f}", trf["per_gate"].gemm_calls, "-"]]
    md += table(f"1. LSTM formulations, NumPy float32, T={T} B={B} I={I} H={H}",
                ["formulation", "fwd ms", "fwd+bwd ms", "fwd x fused", "GEMM calls",
                 "modelled fwd MB moved"], rows)
    bar.update(note="formulations")

    # 2. NumPy vs torch at three sizes
    sizes = ([(4, 2, 8, 8), main_size] if q else
             [(50, 8, 64, 64), main_size, (100, 64, 512, 512)])
    rows, res["vs_torch"] = [], []
    for (T, B, I, H) in sizes:
        ours, ref, x = lstm_pair(T, B, I, H)
        m = paired({"numpy fwd": fwd(ours, x), "torch fwd": torch_fwd(ref, x),
                    "numpy train": fwd_bwd(ours, x), "torch train": torch_fwd_bwd(ref, x)}, reps,
                   "2. vs torch", {k: T * lstm_step_flops(B, I, H) for k in ("numpy fwd",
                                                                            "torch fwd")},
                   T=T, B=B, I=I, H=H)
        res["vs_torch"].append({"size": dict(T=T, B=B, I=I, H=H), "ms": m})
        rows.append([f"T={T} B={B} I=H={H}", f"{m['numpy fwd']:.1f}", f"{m['torch fwd']:.1f}",
                     f"{m['numpy fwd'] / m['torch fwd']:.2f}", f"{m['numpy train']:.1f}",
                     f"{m['torch train']:.1f}", f"{m['numpy train'] / m['torch train']:.2f}"])
    md += table("2. NumPy fused LSTM vs torch.nn.LSTM (CPU, float32)",
                ["size", "NumPy fwd ms", "torch fwd ms", "NumPy / torch", "NumPy fwd+bwd ms",
                 "torch fwd+bwd ms", "NumPy / torch (train)"], rows)
    bar.update(note="vs torch")

    # 3. per-step time vs T and B
    T0, B0, I0, H0 = main_size
    Ts = [2, 4, 8] if q else [10, 50, 100, 200]
    Bs = [1, 2, 4] if q else [1, 8, 32, 128]
    rows, res["per_step"] = [], []
    for T, B in [(t, B0) for t in Ts] + [(T0, b) for b in Bs]:
        ours, ref, x = lstm_pair(T, B, I0, H0)
        m = paired({"numpy": fwd(ours, x), "torch": torch_fwd(ref, x)}, reps, "3. per step",
                   T=T, B=B, I=I0, H=H0)
        res["per_step"].append({"T": T, "B": B, "ms": m})
        rows.append([f"T={T} B={B}", f"{1e3 * m['numpy'] / T:.0f}", f"{1e3 * m['torch'] / T:.0f}",
                     f"{1e3 * m['numpy'] / T / B:.1f}", f"{m['numpy'] / m['torch']:.2f}"])
    md += table(f"3. Time per step (forward, I=H={H0})",
                ["T, B", "NumPy us/step", "torch us/step", "NumPy us/step/sequence",
                 "NumPy / torch"], rows)
    bar.update(note="per step")

    # 4. layouts
    T, B, I, H = main_size
    rows, res["layout"] = [], {}
    a, ra, xa = lstm_pair(T, B, I, H)
    b, rb, xb = lstm_pair(T, B, I, H, batch_first=True)
    m = paired({"numpy TBI": fwd(a, xa), "numpy BTI": fwd(b, xb), "torch TBI": torch_fwd(ra, xa),
                "torch BTI": torch_fwd(rb, xb)}, reps, "4. layout", T=T, B=B, I=I, H=H)
    res["layout"] = m
    rows = [["NumPy", f"{m['numpy TBI']:.1f}", f"{m['numpy BTI']:.1f}",
             f"{m['numpy BTI'] / m['numpy TBI']:.2f}"],
            ["torch", f"{m['torch TBI']:.1f}", f"{m['torch BTI']:.1f}",
             f"{m['torch BTI'] / m['torch TBI']:.2f}"]]
    md += table(f"4. Layout, forward, T={T} B={B} I=H={H}",
                ["implementation", "(T, B, I) ms", "(B, T, I) ms", "(B,T,I) / (T,B,I)"], rows)
    bar.update(note="layout")

    # 5. LSTM vs GRU
    g = GRU(I, H, seed=0)
    gref = g.to_torch()
    lstm, lref, x = lstm_pair(T, B, I, H)
    m = paired({"lstm numpy": fwd(lstm, x), "gru numpy": fwd(g, x),
                "lstm torch": torch_fwd(lref, x), "gru torch": torch_fwd(gref, x),
                "lstm numpy train": fwd_bwd(lstm, x), "gru numpy train": fwd_bwd(g, x),
                "lstm torch train": torch_fwd_bwd(lref, x),
                "gru torch train": torch_fwd_bwd(gref, x)}, reps, "5. lstm vs gru",
               T=T, B=B, I=I, H=H)
    pl, pg = rnn_param_count("lstm", I, H), rnn_param_count("gru", I, H)
    res["lstm_vs_gru"] = {"params": {"lstm": pl, "gru": pg}, "ms": m}
    rows = [["parameters", f"{pl:,}", f"{pg:,}", f"{pg / pl:.2f}"]]
    for k, label in (("numpy", "NumPy fwd ms"), ("torch", "torch fwd ms"),
                     ("numpy train", "NumPy fwd+bwd ms"), ("torch train", "torch fwd+bwd ms")):
        lk, gk = f"lstm {k}", f"gru {k}"
        rows.append([label, f"{m[lk]:.1f}", f"{m[gk]:.1f}", f"{m[gk] / m[lk]:.2f}"])
    md += table(f"5. LSTM vs GRU, T={T} B={B} I=H={H}", ["", "LSTM", "GRU", "GRU / LSTM"], rows)
    bar.update(note="LSTM vs GRU")

    elapsed = time.perf_counter() - t_start
    load1 = os.getloadavg()
    info["loadavg_1min_start_end"] = (load0[0], load1[0])
    noisy = max(load0[0], load1[0]) > info["cores"]
    head = [f"# Recurrent layers on the CPU ({'quick' if q else 'full'} run)", "",
            f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, NumPy "
            f"{info['numpy']}, PyTorch {info.get('torch')} ({info.get('torch_threads')} threads); "
            f"BLAS: {info['blas']}", "",
            f"Threads: {THREADS} for NumPy's BLAS and for torch (`--threads`).", "",
            "float32 unless named; ms = fastest of round-robin repeats (each row measured "
            "side by side). Modelled traffic: see `course_lib/rnn/counts.py`.", ""]
    busy = (f"Load average (1 min) at start/end: {load0[0]:.1f} / {load1[0]:.1f} on "
            f"{info['cores']} cores" + (" -- above the core count: other processes shared the "
                                        "CPU and times are noisy." if noisy else
                                        " -- the machine was otherwise quiet."))
    text = "\n".join(head + md + [f"Run time: {elapsed:.0f} s. {busy}", ""])
    print(text)
    res["run_time_s"] = elapsed
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "rnn_cpu.md").write_text(text)
        (out_dir / "rnn_cpu.json").write_text(json.dumps(res, indent=1, default=str))
        RECORD["config"].update(run_time_s=elapsed,
                                load_average_1min_start_end=[load0[0], load1[0]])
        path = write_record(RECORD, out_dir)
        print(f"wrote {out_dir / 'rnn_cpu.md'}, rnn_cpu.json and {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

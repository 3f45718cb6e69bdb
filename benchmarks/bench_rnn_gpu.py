"""Time the fused LSTM/GRU sequence drivers against cuDNN (torch.nn.LSTM / GRU) on a GPU.

    PYTHONPATH=$PWD python3 benchmarks/bench_rnn_gpu.py [--out benchmarks/results/gpu] [--quick]
    PYTHONPATH=$PWD python3 benchmarks/bench_rnn_gpu.py --dry-run     # the logic, on the CPU

For each (T, B, H) (input size I = H, one layer, float32, TF32 off): our ``variant="stepwise"``
driver (one input GEMM, then per step a cuBLAS GEMM and one fused pointwise launch), our
``variant="persistent"`` driver (one cooperative launch for the whole sequence, where it is
available and H is small enough), and cuDNN through torch.  Every driver's output is first
compared with torch's; one that disagrees is reported and not timed.  Times: CUDA-event medians
of one whole sequence (T steps, argument checks included), written as a Markdown table with the
ratio ours / cuDNN side by side, and as JSON.  Without a GPU it says so and exits 0;
``--dry-run`` runs the same code path on one tiny size with the CPU emulator, torch on the CPU
and a wall-clock timer (nothing written), so the script's logic is checked without a GPU.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# (T, B, H): launch-bound (small H, long T) to GEMM-bound (large H and B)
SIZES = [(100, 1, 64), (100, 16, 64), (100, 64, 128), (100, 32, 256), (100, 64, 512),
         (100, 64, 1024), (500, 8, 128), (20, 256, 256)]
QUICK_SIZES = [(50, 1, 64), (50, 32, 256)]
DRY_SIZES = [(3, 2, 8)]
KINDS = ("lstm", "gru")


def log(msg: str) -> None:
    print(msg, flush=True)


def time_cpu(fn, *, trials: int = 3) -> float:
    """Median wall-clock milliseconds of one ``fn()`` call (dry runs only)."""
    from course_lib.bench import time_cpu as harness_time_cpu
    return harness_time_cpu(fn, repeats=trials, warmup=1).ms


def time_gpu(fn, *, trials: int = 7) -> float:
    """Median milliseconds of one ``fn()`` call (CUDA events, after a warm-up call;
    :func:`course_lib.bench.cuda_timing.time_cuda`)."""
    from course_lib.bench.cuda_timing import time_cuda
    return time_cuda(fn, repeats=trials, warmup=1, backend="cupy").timing.ms


def bench_size(kind: str, T: int, B: int, H: int, dry_run: bool = False) -> dict:
    """One row: our two variants and cuDNN on the same weights and input.

    ``dry_run``: NumPy arrays, the emulator backend, torch on the CPU, a wall-clock timer."""
    import torch

    from course_lib.rnn import gpu as rg

    if dry_run:
        xp, device, backend, timer = np, "cpu", "emulator", time_cpu
        to_xp = lambda t: t.detach().numpy()  # noqa: E731
    else:
        import cupy
        xp, device, backend, timer = cupy, "cuda", "cupy", time_gpu
        to_xp = lambda t: cupy.asarray(t.detach())  # noqa: E731
    I = H
    torch.manual_seed(0)
    mod = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(I, H).to(device).float()
    x_t = torch.randn(T, B, I, device=device)
    h0_t = torch.randn(1, B, H, device=device)
    c0_t = torch.randn(1, B, H, device=device)
    weights = [to_xp(p) for p in (mod.weight_ih_l0, mod.weight_hh_l0, mod.bias_ih_l0, mod.bias_hh_l0)]
    x, h0, c0 = to_xp(x_t), to_xp(h0_t[0]), to_xp(c0_t[0])
    row = {"kind": kind, "T": T, "B": B, "H": H, "ms": {}, "max_abs_err": {}, "errors": {}}

    def torch_run():
        with torch.no_grad():
            return mod(x_t, (h0_t, c0_t))[0] if kind == "lstm" else mod(x_t, h0_t)[0]

    ref = to_xp(torch_run())
    for variant in rg.VARIANTS:
        if kind == "lstm":
            run = lambda v=variant: rg.lstm_layer_forward(x, *weights, h0, c0, variant=v,  # noqa: E731
                                                          backend=backend)[0]
        else:
            run = lambda v=variant: rg.gru_layer_forward(x, *weights, h0, variant=v,  # noqa: E731
                                                         backend=backend)[0]
        try:
            err = float(xp.abs(run() - ref).max())
            row["max_abs_err"][variant] = err
            if not err <= 1e-4:
                row["errors"][variant] = f"wrong result: max |y - torch| = {err:.3g}"
                continue
            row["ms"][variant] = timer(run)
        except Exception as exc:                     # e.g. persistent refuses a large H
            row["errors"][variant] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    row["ms"]["cudnn"] = timer(torch_run)
    row["ratio"] = {k: v / row["ms"]["cudnn"] for k, v in row["ms"].items() if k != "cudnn"}
    return row


def to_markdown(result: dict) -> str:
    env = result["env"]
    lines = ["# LSTM / GRU sequence drivers vs cuDNN", "",
             f"Machine: **{env.get('gpu', '?')}**, CuPy {env.get('cupy', '?')}, torch "
             f"{env.get('torch', '?')} (cuDNN {env.get('cudnn', '?')}), host {env.get('host', '?')}. "
             "One layer, I = H, float32, TF32 off. Time of one whole sequence (median of 7 CUDA-event "
             "trials); ratio = ours / cuDNN (below 1: faster than cuDNN).", "",
             "| layer | T | B | H | cuDNN ms | stepwise ms | stepwise / cuDNN | persistent ms "
             "| persistent / cuDNN |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result.get("rows", []):
        cells = []
        for v in ("stepwise", "persistent"):
            if v in r["ms"]:
                cells += [f"{r['ms'][v]:.3f}", f"{r['ratio'][v]:.2f}"]
            else:
                cells += ["error" if v in r["errors"] else "-", "-"]
        lines.append(f"| {r['kind']} | {r['T']} | {r['B']} | {r['H']} | {r['ms']['cudnn']:.3f} | "
                     + " | ".join(cells) + " |")
    errs = [(r["kind"], r["T"], r["B"], r["H"], k, v) for r in result.get("rows", [])
            for k, v in r["errors"].items()]
    if errs:
        lines += ["", "## Not timed", ""] + [f"- {k} T={t} B={b} H={h} {v}: {e}"
                                             for k, t, b, h, v, e in errs]
    return "\n".join(lines) + "\n"


def environment() -> dict:
    from course_lib.bench.gpu_env import gpu_environment
    return gpu_environment()


def write_harness_record(result: dict, quick: bool, out: Path) -> Path:
    """The run as a ``course_lib.bench`` record under ``<out>/<machine-slug>/``."""
    from course_lib.bench import new_record, write_record
    from course_lib.bench.records import add_rows
    rec = new_record("rnn_gpu", quick=quick, machine=result["env"]["machine"],
                     config={"timing": "median of 7 CUDA-event samples after a warm-up"})
    add_rows(rec, "rows", result.get("rows", []))
    return write_record(rec, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu"))
    ap.add_argument("--quick", action="store_true", help="two sizes only")
    ap.add_argument("--dry-run", action="store_true",
                    help="check the logic on the CPU (emulator, torch CPU, tiny size); writes nothing")
    ap.add_argument("--budget-s", type=float, default=240.0,
                    help="start no further size after this many seconds")
    args = ap.parse_args(argv)
    from course_lib.cuda import gpu_available
    import torch
    if not args.dry_run:
        if not gpu_available():
            log("no CUDA GPU visible to CuPy: nothing to benchmark (run this on a GPU machine)")
            return 0
        if not torch.cuda.is_available():
            log("CuPy sees a GPU but torch has no CUDA: cuDNN cannot be timed, nothing to compare")
            return 0
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    result = {"env": environment() if not args.dry_run else {"gpu": "none (dry run on the CPU)"},
              "rows": []}
    log(f"environment: {result['env']}")
    sizes = DRY_SIZES if args.dry_run else QUICK_SIZES if args.quick else SIZES
    from course_lib.bench.budget import run_within_budget

    def save(name, row):
        result["rows"].append(row)
        log(f"  {name} " + "  ".join(f"{k}={v:.3f}ms" for k, v in row["ms"].items())
            + ("  " + "; ".join(f"{k}: {v}" for k, v in row["errors"].items()) if row["errors"] else ""))
        if not args.dry_run:     # written after every size: a run cut short keeps its rows
            (out / "bench_rnn_gpu.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
            (out / "bench_rnn_gpu.md").write_text(to_markdown(result))
            write_harness_record(result, args.quick, out)

    parts = [(f"{kind} T={T} B={B} H={H}",
              lambda k=kind, T=T, B=B, H=H: bench_size(k, T, B, H, dry_run=args.dry_run))
             for kind in KINDS for T, B, H in sizes]
    failed = run_within_budget(parts, budget_s=args.budget_s, log=log, on_done=save).failed
    log(to_markdown(result))
    if args.dry_run:   # every variant must have run and agreed with torch
        return 1 if failed or any(r["errors"] for r in result["rows"]) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

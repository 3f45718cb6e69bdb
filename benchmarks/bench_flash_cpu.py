"""CPU benchmark of section 16.5: standard attention against the tiled FlashAttention in NumPy.

    .venv/bin/python benchmarks/bench_flash_cpu.py            # full run, writes benchmarks/results/
    .venv/bin/python benchmarks/bench_flash_cpu.py --quick    # tiny sizes, a few seconds

One head of width 64, float32, L = S = 1k, 2k, 4k, 8k (quick: 128, 256).  For each
length: the median ms of ``scaled_dot_product_attention`` (16.4, builds the L x S
scores) and of ``flash_attention`` with the default 64 x 64 tiles and with larger
tiles (``--block``, default 512 x 512), called alternately in one run; the peak extra
memory of each call measured with tracemalloc (it sees every NumPy buffer); the
ratios flash / standard side by side; and the same for causal attention, where the
tiled version skips the tiles above the diagonal.  Goals (benchmarks/README.md): at
4k, memory at most 1/10 and time at most 1.5x the standard's.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.attention import flash_attention, scaled_dot_product_attention  # noqa: E402
from course_lib.memory import peak_memory  # noqa: E402

FULL = dict(lengths=[1024, 2048, 4096, 8192], E=64, reps=3)
QUICK = dict(lengths=[128, 256], E=16, reps=1)


def machine() -> dict:
    """CPU model, cores, library versions and load: the context of the numbers."""
    info = {"cpu": platform.processor() or "unknown", "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{cfg.get('name')} {cfg.get('version')}"
    except Exception:  # noqa: BLE001 - informational only
        info["blas"] = "unknown"
    try:
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def time_alternating(fns: dict, reps: int) -> dict:
    """Median ms of each function, calls interleaved so machine load hits all alike."""
    for fn in fns.values():
        fn()                                   # warm-up (page faults, BLAS threads)
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return {name: statistics.median(ts) for name, ts in times.items()}


def run(cfg: dict, block: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for L in cfg["lengths"]:
        q, k, v = (rng.standard_normal((L, cfg["E"])).astype(np.float32) for _ in range(3))
        for causal in (False, True):
            calls = {
                "standard": lambda: scaled_dot_product_attention(q, k, v, is_causal=causal),
                "flash_64": lambda: flash_attention(q, k, v, is_causal=causal),
                "flash_big": lambda: flash_attention(q, k, v, is_causal=causal,
                                                     block_q=block, block_k=block)}
            ms = time_alternating(calls, cfg["reps"])
            mem = {name: peak_memory(fn).peak_bytes for name, fn in calls.items()}
            ref = calls["standard"]()
            err = max(float(np.abs(calls[n]() - ref).max()) for n in ("flash_64", "flash_big"))
            rows.append(dict(L=L, causal=causal, block=block, ms=ms, peak_bytes=mem,
                             time_ratio_big=ms["flash_big"] / ms["standard"],
                             time_ratio_64=ms["flash_64"] / ms["standard"],
                             memory_ratio_big=mem["flash_big"] / mem["standard"],
                             memory_ratio_64=mem["flash_64"] / mem["standard"],
                             max_abs_diff=err))
            print(f"  L={L} causal={causal}: {ms}", file=sys.stderr, flush=True)
    return rows


def fmt(rows, info, block, quick, E) -> str:
    mb = 1 / 2 ** 20
    out = [f"# FlashAttention (NumPy) vs standard attention, CPU{' (quick)' if quick else ''}",
           "", f"Machine: {info['cpu']}, {info['cores']} cores, NumPy {info['numpy']} "
           f"({info['blas']}), torch {info['torch']}, load average at start "
           f"{info.get('load_average_at_start')}.", "",
           f"One head, E = {E}, float32; flash tiles 64 x 64 (default) and "
           f"{block} x {block}; median ms, peak extra MiB (tracemalloc).", "",
           "| L = S | causal | standard ms | flash 64 ms | flash big ms | big / std time "
           "| standard MiB | flash 64 MiB | flash big MiB | big / std memory | 64 / std memory |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ms, pb = r["ms"], r["peak_bytes"]
        out.append(f"| {r['L']} | {'yes' if r['causal'] else 'no'} | {ms['standard']:.1f} | "
                   f"{ms['flash_64']:.1f} | {ms['flash_big']:.1f} | {r['time_ratio_big']:.2f} | "
                   f"{pb['standard'] * mb:.1f} | {pb['flash_64'] * mb:.2f} | "
                   f"{pb['flash_big'] * mb:.2f} | {r['memory_ratio_big']:.3f} | "
                   f"{r['memory_ratio_64']:.3f} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    ap.add_argument("--reps", type=int, default=None, help="timed calls per function")
    ap.add_argument("--block", type=int, default=None, help="the larger tile size (square)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.reps:
        cfg["reps"] = args.reps
    block = args.block or (64 if args.quick else 512)
    info = machine()
    rows = run(cfg, block)
    text = fmt(rows, info, block, args.quick, cfg["E"])
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "flash_cpu.json").write_text(json.dumps(
        {"machine": info, "config": cfg, "block": block, "quick": args.quick, "rows": rows},
        indent=1))
    (args.out / "flash_cpu.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

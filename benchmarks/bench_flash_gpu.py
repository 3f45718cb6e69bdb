"""Time our FlashAttention kernels against torch's scaled_dot_product_attention backends on a GPU.

    PYTHONPATH=$PWD python3 benchmarks/bench_flash_gpu.py [--out benchmarks/results/gpu] [--quick]
    PYTHONPATH=$PWD python3 benchmarks/bench_flash_gpu.py --dry-run     # the logic, on the CPU

Three tables, each with the ratios side by side from one run:

* forward, B = 4, H = 16, E = 64, L = S in 1k, 2k, 4k, causal and not: ours (``f32``, ``half``,
  ``wmma``; float32 / float16 / bfloat16 as each takes) and ``F.scaled_dot_product_attention``
  with each backend selected explicitly by ``torch.nn.attention.sdpa_kernel``: MATH (every
  dtype), EFFICIENT_ATTENTION (every dtype), FLASH_ATTENTION (float16 / bfloat16 only);
* backward (float32 for ours; torch's backends in the dtypes they take);
* decode: one query per sequence, B = 8, H = 32, H_kv = 8 (GQA), E = 128, cache S = 4k..32k.

Timing: every candidate is first compared with torch's MATH result (one that disagrees is
reported and not timed), then warmed up, then timed with CUDA events around ``reps`` calls after
a synchronisation, median of 7; ``torch.cuda.reset_peak_memory_stats`` before each torch
candidate gives its peak extra memory (torch's allocator; ours allocate only out and lse
through CuPy's pool, B H L (E + 1) values, and show "-").  TFLOP/s from 4 B H L S E flops (forward; causal counts
the visible half), 2.5x that for the backward, 4 B H S E for decode; "% mm" is the fraction of
the rate this GPU reaches on an 8192^3 matmul in the same dtype (TF32 off), measured in the
same run.  Goal for the wmma kernel: >= 0.3x torch's FLASH_ATTENTION at L = 4k, E = 64, bf16.
Without a GPU it says so and exits 0; ``--dry-run`` runs the same code path on a tiny size with
the CPU emulator, torch on the CPU and a wall-clock timer (nothing written).
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FWD_SIZES = [(4, 16, 1024, 64), (4, 16, 2048, 64), (4, 16, 4096, 64)]     # (B, H, L = S, E)
QUICK_FWD = [(4, 16, 4096, 64)]
DRY_FWD = [(1, 2, 40, 16)]
DEC_SIZES = [(8, 32, 8, 4096, 128), (8, 32, 8, 16384, 128), (8, 32, 8, 32768, 128)]
QUICK_DEC = [(8, 32, 8, 16384, 128)]
DRY_DEC = [(1, 4, 2, 300, 16)]
TORCH_BACKENDS = ("MATH", "EFFICIENT_ATTENTION", "FLASH_ATTENTION")


def log(msg: str) -> None:
    print(msg, flush=True)


class Timer:
    """CUDA-event timing (GPU) or wall clock (dry run) of ``fn``: median ms of one call."""

    def __init__(self, gpu: bool, reps: int = 5, trials: int = 7):
        self.gpu, self.reps, self.trials = gpu, reps, trials

    def sync(self):
        if self.gpu:
            import cupy
            import torch
            torch.cuda.synchronize()
            cupy.cuda.Device().synchronize()

    def __call__(self, fn) -> float:
        import torch
        fn()                                  # warm-up: builds, autotuning, allocator
        self.sync()
        samples = []
        for _ in range(self.trials if self.gpu else 2):
            if self.gpu:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(self.reps):
                    fn()
                end.record()
                end.synchronize()
                self.sync()
                samples.append(start.elapsed_time(end) / self.reps)
            else:
                t0 = time.perf_counter()
                fn()
                samples.append(1e3 * (time.perf_counter() - t0))
        return statistics.median(samples)


def matmul_tflops(dtype, timer: Timer, device: str) -> float:
    """TFLOP/s of an n^3 matmul in ``dtype`` (n = 8192 on a GPU, 256 on the CPU)."""
    import torch
    n = 8192 if device == "cuda" else 256
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    ms = timer(lambda: a @ b)
    return 2 * n**3 / (ms * 1e-3) / 1e12


def attn_flops(B, H, L, S, E, causal) -> float:
    visible = L * S if not causal else sum(min(i + 1, S) for i in range(L))
    return 4.0 * B * H * visible * E


def torch_sdpa(name, q, k, v, causal, gqa=False):
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def run():
        with sdpa_kernel(getattr(SDPBackend, name)):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=gqa)
    return run


def _storage(t, dtn: str, dry: bool):
    """A torch tensor as the half kernels take it: float16, or bfloat16 bits as uint16."""
    import torch
    t = t.to(torch.float16 if dtn == "float16" else torch.bfloat16).contiguous()
    if dtn == "bfloat16":
        t = t.view(torch.int16)
    if dry:
        a = t.numpy()
    else:
        import cupy
        a = cupy.asarray(t)
    return a.view(np.uint16) if dtn == "bfloat16" else a


def candidates_forward(dry: bool):
    """(label, dtype name) of ours, then torch's, for the forward table."""
    ours = [("ours f32", "float32"), ("ours half", "float16"), ("ours half", "bfloat16"),
            ("ours wmma", "float16"), ("ours wmma", "bfloat16")]
    torch_ = [(f"torch {b}", dt) for b in TORCH_BACKENDS
              for dt in ("float32", "float16", "bfloat16")
              if not (b == "FLASH_ATTENTION" and dt == "float32")]
    return ours + torch_


def bench_forward(B, H, L, E, causal, timer, mm, dry: bool, backward: bool = False) -> list[dict]:
    import torch
    from course_lib.attention import flash_gpu as fg
    device = "cpu" if dry else "cuda"
    backend = "emulator" if dry else "cupy"
    g = torch.Generator(device="cpu").manual_seed(0)
    base = [torch.randn(B, H, L, E, generator=g) for _ in range(3)]
    rows = []
    flops = attn_flops(B, H, L, L, E, causal) * (2.5 if backward else 1.0)
    ref32 = torch_sdpa("MATH", *(t.to(device) for t in base), causal)()
    for label, dtn in candidates_forward(dry):
        dt = getattr(torch, dtn)
        if backward and label.startswith("ours") and label != "ours f32":
            continue                                   # our backward is float32
        row = {"pass": "backward" if backward else "forward", "B": B, "H": H, "L": L, "E": E,
               "causal": causal, "impl": label, "dtype": dtn}
        try:
            q, k, v = (t.to(device=device, dtype=dt) for t in base)
            if label.startswith("torch"):
                if backward:
                    q, k, v = (t.requires_grad_() for t in (q, k, v))
                    out = torch_sdpa(label.split()[1], q, k, v, causal)()
                    dout = torch.ones_like(out)
                    fn = lambda: torch.autograd.grad(out, (q, k, v), dout, retain_graph=True)  # noqa: E731
                else:
                    fn = torch_sdpa(label.split()[1], q, k, v, causal)
                    out = fn()
            else:
                variant = label.split()[1]
                if dry:
                    arrs = [t.float().numpy() for t in (q, k, v)]
                else:
                    import cupy
                    arrs = [cupy.asarray(t.float().contiguous()) for t in (q, k, v)]
                kw = dict(is_causal=causal, variant=variant, backend=backend,
                          dtype=None if variant == "f32" else dtn)
                # checked once through the public function (the result compared below) ...
                res, lse = fg.flash_attention_gpu(*arrs, return_lse=True, **kw)
                out = torch.as_tensor(res if dry else res.get()).to(device)
                # ... then timed through the launchers on inputs already in the kernel's storage
                # type: no argument checks and no host round trip (bfloat16 is rounded on the
                # host by the public function)
                sizes = dict(H=H, H_kv=H, L=L, S=L, E=E, causal=causal,
                             scale=1.0 / math.sqrt(E), backend=backend)
                if backward:
                    dout = arrs[0] * 0 + 1
                    lse_d = lse.reshape(-1, L)
                    fn = lambda: fg.launch_flash_bwd_f32(dout, *arrs, res, lse_d, **sizes)  # noqa: E731
                else:
                    if variant == "f32":
                        fn = lambda: fg.launch_flash_fwd_f32(*arrs, **sizes)  # noqa: E731
                    else:
                        stored = [_storage(t, dtn, dry) for t in (q, k, v)]
                        launch = (fg.launch_flash_fwd_half if variant == "half"
                                  else fg.launch_flash_fwd_wmma)
                        fn = lambda: launch(*stored, dtype=dtn, **sizes)  # noqa: E731
            err = float((out.float() - ref32.float()).abs().max())
            row["max_abs_err"] = err
            tol = {"float32": 1e-3, "float16": 1e-2, "bfloat16": 5e-2}[dtn]
            if not err <= tol:
                row["error"] = f"wrong result: max |out - MATH float32| = {err:.3g}"
                rows.append(row)
                continue
            torch_row = label.startswith("torch")
            if not dry and torch_row:
                torch.cuda.reset_peak_memory_stats()
                base_mem = torch.cuda.memory_allocated()
            row["ms"] = timer(fn)
            if not dry and torch_row:     # torch's allocator only: CuPy's pool is not counted
                row["peak_extra_MiB"] = (torch.cuda.max_memory_allocated() - base_mem) / 2**20
            row["tflops"] = flops / (row["ms"] * 1e-3) / 1e12
            row["pct_mm"] = 100 * row["tflops"] / mm[dtn]
        except Exception as exc:                      # a backend that refuses the dtype or size
            row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
        rows.append(row)
    return rows


def bench_decode(B, H, H_kv, S, E, timer, mm, dry: bool) -> list[dict]:
    import torch
    from course_lib.attention import flash_gpu as fg
    device = "cpu" if dry else "cuda"
    g = torch.Generator(device="cpu").manual_seed(1)
    q = torch.randn(B, H, 1, E, generator=g)
    k = torch.randn(B, H_kv, S, E, generator=g)
    v = torch.randn(B, H_kv, S, E, generator=g)
    flops = 4.0 * B * H * S * E
    ref = torch_sdpa("MATH", q.to(device), k.to(device), v.to(device), False, gqa=True)()
    rows = []
    cands = [("ours decode", "float32")] + [(f"torch {b}", dt) for b in TORCH_BACKENDS
                                            for dt in ("float32", "bfloat16")
                                            if not (b == "FLASH_ATTENTION" and dt == "float32")]
    for label, dtn in cands:
        row = {"pass": "decode", "B": B, "H": H, "H_kv": H_kv, "S": S, "E": E, "impl": label,
               "dtype": dtn}
        try:
            if label.startswith("ours"):
                if dry:
                    arrs = [q[:, :, 0].numpy(), k.numpy(), v.numpy()]
                else:
                    import cupy
                    arrs = [cupy.asarray(t.to(device).contiguous()) for t in (q[:, :, 0], k, v)]
                backend = "emulator" if dry else "cupy"
                res = fg.flash_decode_gpu(*arrs, backend=backend)
                out = torch.as_tensor(res if dry else res.get()).to(device)[:, :, None]
                xp = np if dry else __import__("cupy")
                lens = xp.full(B, S, dtype=np.int32)
                fn = lambda: fg.launch_flash_decode(*arrs, lens, H=H, H_kv=H_kv, S=S, E=E,  # noqa: E731
                                                    scale=1.0 / math.sqrt(E), backend=backend)
            else:
                dt = getattr(torch, dtn)
                fn = torch_sdpa(label.split()[1], *(t.to(device=device, dtype=dt) for t in (q, k, v)),
                                False, gqa=True)
                out = fn()
            err = float((out.float() - ref).abs().max())
            row["max_abs_err"] = err
            if not err <= (1e-3 if dtn == "float32" else 5e-2):
                row["error"] = f"wrong result: {err:.3g}"
                rows.append(row)
                continue
            row["ms"] = timer(fn)
            row["tflops"] = flops / (row["ms"] * 1e-3) / 1e12
            row["pct_mm"] = 100 * row["tflops"] / mm[dtn]
            # decode is memory-bound: the bytes of the cache read once per call
            row["GB_s"] = 2 * B * H_kv * S * E * (4 if dtn == "float32" else 2) / (row["ms"] * 1e-3) / 1e9
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
        rows.append(row)
    return rows


def to_markdown(result: dict) -> str:
    env = result["env"]
    lines = ["# FlashAttention kernels vs torch SDPA backends", "",
             f"Machine: **{env.get('gpu', '?')}**, torch {env.get('torch', '?')}, CuPy "
             f"{env.get('cupy', '?')}. Median of 7 CUDA-event trials; TFLOP/s from 4 B H L S E "
             "(causal: visible pairs only; backward 2.5x); % mm = share of the measured matmul "
             "rate in that dtype: " + ", ".join(f"{k} {v:.1f}" for k, v in result["mm"].items())
             + " TFLOP/s.", ""]
    for kind in ("forward", "backward", "decode"):
        rows = [r for r in result["rows"] if r["pass"] == kind]
        if not rows:
            continue
        lines += [f"## {kind}", "", "| size | impl | dtype | ms | TFLOP/s | % mm | vs torch flash "
                  "(same dtype) | peak extra MiB |", "|---|---|---|---:|---:|---:|---:|---:|"]
        for r in rows:
            size = (f"B{r['B']} H{r['H']} L{r['L']} E{r['E']}{' causal' if r.get('causal') else ''}"
                    if kind != "decode" else f"B{r['B']} H{r['H']}/{r['H_kv']} S{r['S']} E{r['E']}")
            if "ms" not in r:
                lines.append(f"| {size} | {r['impl']} | {r['dtype']} | {r.get('error', '-')} "
                             "| | | | |")
                continue
            flash = [x for x in rows if x["impl"] == "torch FLASH_ATTENTION" and x["dtype"] == r["dtype"]
                     and "ms" in x and all(x.get(f) == r.get(f) for f in ("B", "H", "L", "S", "causal"))]
            vs = f"{flash[0]['ms'] / r['ms']:.2f}x" if flash else "-"
            peak = f"{r['peak_extra_MiB']:.1f}" if "peak_extra_MiB" in r else "-"
            lines.append(f"| {size} | {r['impl']} | {r['dtype']} | {r['ms']:.3f} | {r['tflops']:.2f} "
                         f"| {r['pct_mm']:.1f} | {vs} | {peak} |")
        lines.append("")
    return "\n".join(lines)


def environment() -> dict:
    from course_lib.bench.gpu_env import gpu_environment
    return gpu_environment()


def write_harness_record(result: dict, quick: bool, out: Path) -> Path:
    """The run as a ``course_lib.bench`` record under ``<out>/<machine-slug>/``: one result per
    (implementation, dtype) of each size, named "impl dtype"."""
    from course_lib.bench import new_record, write_record
    from course_lib.bench.records import add_rows
    rec = new_record("flash_gpu", quick=quick, machine=result["env"].get("machine"),
                     config={"timing": "median of 7 CUDA-event trials of 5 calls after a warm-up",
                             "matmul_TFLOPs": result["mm"]})
    for r in result.get("rows", []):
        key = f"{r['impl']} {r['dtype']}"
        row = {k: v for k, v in r.items() if k not in ("impl", "dtype", "ms", "tflops", "error",
                                                        "max_abs_err", "pct_mm", "GB_s")}
        if "ms" in r:
            row.update(ms={key: r["ms"]}, TFLOPs={key: r["tflops"]})
            if "GB_s" in r:
                row["GBps"] = {key: r["GB_s"]}
        if "max_abs_err" in r:
            row["max_abs_err"] = {key: r["max_abs_err"]}
        if "error" in r:
            row["errors"] = {key: r["error"]}
        add_rows(rec, r["pass"], [row])
    return write_record(rec, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu"))
    ap.add_argument("--quick", action="store_true", help="L = 4k forward/backward and one decode size")
    ap.add_argument("--dry-run", action="store_true",
                    help="check the logic on the CPU (emulator, torch CPU, tiny size); writes nothing")
    ap.add_argument("--budget-s", type=float, default=400.0,
                    help="start no further size after this many seconds")
    args = ap.parse_args(argv)
    import torch
    from course_lib.cuda import gpu_available
    if not args.dry_run:
        if not gpu_available() or not torch.cuda.is_available():
            log("no CUDA GPU visible to CuPy and torch: nothing to benchmark (run this on a GPU "
                "machine, or --dry-run to check the script on the CPU)")
            return 0
        out_dir = Path(args.out)
        out_dir.mkdir(parents=True, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dry = args.dry_run
    timer = Timer(gpu=not dry)
    device = "cpu" if dry else "cuda"
    mm = {dt: matmul_tflops(getattr(torch, dt), timer, device)
          for dt in ("float32", "float16", "bfloat16")}
    result = {"env": environment() if not dry else {"gpu": "none (dry run on the CPU)"},
              "mm": mm, "rows": []}
    log(f"environment: {result['env']}; matmul TFLOP/s {mm}")
    fwd = DRY_FWD if dry else QUICK_FWD if args.quick else FWD_SIZES
    dec = DRY_DEC if dry else QUICK_DEC if args.quick else DEC_SIZES
    jobs = [("forward", s, c) for s in fwd for c in (False, True)]
    jobs += [("backward", s, True) for s in fwd]
    jobs += [("decode", s, None) for s in dec]
    from course_lib.bench.budget import run_within_budget

    def run(kind, size, causal):
        if kind == "decode":
            return bench_decode(*size, timer, mm, dry)
        return bench_forward(*size, causal, timer, mm, dry, backward=kind == "backward")

    def save(name, rows):
        result["rows"] += rows
        for r in rows:
            log(f"  {name} {r['impl']} {r['dtype']}: "
                + (f"{r['ms']:.3f} ms {r['tflops']:.2f} TFLOP/s" if "ms" in r else r.get("error", "")))
        if not dry:              # written after every size: a run cut short keeps its rows
            (out_dir / "bench_flash_gpu.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
            (out_dir / "bench_flash_gpu.md").write_text(to_markdown(result))
            write_harness_record(result, args.quick, out_dir)

    parts = [(f"{kind} {size}" + ("" if causal is None else f" causal={causal}"),
              lambda k=kind, s=size, c=causal: run(k, s, c)) for kind, size, causal in jobs]
    failed = run_within_budget(parts, budget_s=args.budget_s, log=log, on_done=save).failed
    log(to_markdown(result))
    if dry:   # our kernels must have run and agreed with torch
        ours_bad = [r for r in result["rows"] if r["impl"].startswith("ours") and "ms" not in r]
        for r in ours_bad:
            log(f"our kernel failed: {r}")
        return 1 if failed or ours_bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time the attention kernels (softmax, LayerNorm, the unfused attention pipeline) against PyTorch
on a GPU; print Markdown tables and write them with JSON.

    PYTHONPATH=$PWD python3 benchmarks/bench_attention_gpu.py [--out benchmarks/results/gpu] [--quick]

Without a CUDA GPU visible to CuPy it says so and exits 0 (nothing to measure).

Every result is first compared with PyTorch (TF32 off: a true float32 reference); a wrong one is
reported and not timed.  Times are medians of CUDA-event measurements after a warm-up call, with
the device synchronised before timing; each trial times a run of back-to-back calls so Python's
launch overhead overlaps the GPU work.  GB/s counts the least traffic the operation needs
(softmax: read x + write y; LayerNorm forward: read x + write y; backward: read dy, x + write dx),
so it can be held against the device-to-device copy bandwidth measured in the same run.

Peak memory of one call: PyTorch's ``max_memory_allocated`` after ``reset_peak_memory_stats``;
for our CuPy path, the memory pool's total after the call minus before, starting from an emptied
pool (CuPy's pool keeps freed blocks, so its total after a call is the call's peak).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# softmax rows x S: (B * H * L) rows of attention scores, S keys
SOFTMAX = [(4 * 16 * 512, 512), (4 * 16 * 1024, 1024), (16 * 2048, 2048), (8 * 8192, 8192),
           (256, 32768)]
# LayerNorm rows x N: tokens x d_model
LAYERNORM = [(8 * 512, 768), (8 * 512, 1024), (4 * 2048, 4096), (1024, 8192)]
# attention (B, H, L = S, E)
ATTENTION = [(4, 16, 512, 64), (4, 16, 1024, 64), (2, 16, 2048, 64), (1, 16, 4096, 64),
             (1, 8, 8192, 64)]


def log(msg: str) -> None:
    print(msg, flush=True)


def time_gpu(fn, *, target_ms: float = 3.0, trials: int = 7) -> float:
    """Median milliseconds of one ``fn()`` call: CUDA events on the null stream, one
    warm-up call, runs of back-to-back calls lasting about ``target_ms``
    (:func:`course_lib.bench.cuda_timing.time_cuda`)."""
    from course_lib.bench.cuda_timing import time_cuda
    return time_cuda(fn, repeats=trials, warmup=1, backend="cupy", target_ms=target_ms).timing.ms


def torch_peak_bytes(fn) -> int:
    """Peak bytes PyTorch's allocator held during ``fn()``, above what was allocated before."""
    import torch
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def cupy_peak_bytes(fn) -> int:
    """Peak bytes of ``fn()`` in CuPy's pool: freed blocks stay in the pool, so its growth over
    the call is the call's peak (the pool is emptied first)."""
    import cupy
    pool = cupy.get_default_memory_pool()
    cupy.cuda.Device().synchronize()
    pool.free_all_blocks()
    before = pool.total_bytes()
    out = fn()
    cupy.cuda.Device().synchronize()
    peak = pool.total_bytes() - before
    del out
    return peak


def copy_bandwidth() -> float:
    """Device-to-device copy GB/s (read + write) of 512 MiB: the ceiling of a memory-bound kernel."""
    import cupy
    a = cupy.ones(1 << 27, dtype=np.float32)
    b = cupy.empty_like(a)
    ms = time_gpu(lambda: b.__setitem__(Ellipsis, a), target_ms=10, trials=5)
    return 2 * a.nbytes / (ms * 1e-3) / 1e9


def _check(name: str, got, ref, row: dict, tol: float = 2e-5) -> bool:
    import cupy
    err = float(cupy.abs(cupy.asarray(got) - cupy.asarray(ref)).max())
    scale = max(1.0, float(cupy.abs(cupy.asarray(ref)).max()))
    row["max_abs_err"][name] = err
    if not err <= tol * scale:
        row["errors"][name] = f"wrong result: max |ours - torch| = {err:.3g} (scale {scale:.3g})"
        return False
    return True


def _record(row: dict, key: str, fn, nbytes: float | None = None) -> None:
    try:
        ms = time_gpu(fn)
        row["ms"][key] = ms
        if nbytes is not None:
            row["GBps"][key] = nbytes / (ms * 1e-3) / 1e9
    except Exception as exc:                         # one failure is one cell, keep going
        row["errors"][key] = f"{type(exc).__name__}: {exc}"


def _new_row(**fields) -> dict:
    return {**fields, "ms": {}, "GBps": {}, "max_abs_err": {}, "errors": {}}


def _finish(rows: list, row: dict, label: str) -> None:
    import cupy
    import torch
    errors = "; ".join(f"{k}: {v}" for k, v in row["errors"].items())
    log(f"  {label} " + "  ".join(f"{k}={v:.3f}ms" for k, v in row["ms"].items())
        + (f"  ERRORS {errors}" if errors else ""))
    rows.append(row)
    cupy.get_default_memory_pool().free_all_blocks()
    torch.cuda.empty_cache()


def bench_softmax(quick: bool) -> list[dict]:
    import cupy
    import torch

    from course_lib.attention import gpu as ag
    rows = []
    for R, S in (SOFTMAX[:2] if quick else SOFTMAX):
        x = cupy.random.standard_normal((R, S), dtype=np.float32) * 3
        y = cupy.empty_like(x)
        xt = torch.as_tensor(x, device="cuda")
        row = _new_row(rows=R, S=S, MB=x.nbytes / 2**20)
        nbytes = 2 * x.nbytes                        # read x, write y
        dummy = cupy.zeros(1, dtype=np.uint8)
        ref = torch.softmax(xt, dim=-1)
        for variant in ag.VARIANTS:
            key = f"ours_{variant}"
            try:
                ag.launch_softmax(x, dummy, y, R, R, S, 0, False, variant, "cupy")
                if _check(key, y, ref, row):
                    _record(row, key, lambda v=variant: ag.launch_softmax(x, dummy, y, R, R, S, 0, False,
                                                                         v, "cupy"), nbytes)
            except Exception as exc:
                row["errors"][key] = f"{type(exc).__name__}: {exc}"
        _record(row, "torch", lambda: torch.softmax(xt, dim=-1), nbytes)
        _finish(rows, row, f"softmax {R}x{S}")
    return rows


def bench_layernorm(quick: bool) -> list[dict]:
    import cupy
    import torch
    import torch.nn.functional as F

    from course_lib.attention import gpu as ag
    rows = []
    for R, N in (LAYERNORM[:2] if quick else LAYERNORM):
        x = cupy.random.standard_normal((R, N), dtype=np.float32)
        w = cupy.random.standard_normal(N, dtype=np.float32)
        b = cupy.random.standard_normal(N, dtype=np.float32)
        dy = cupy.random.standard_normal((R, N), dtype=np.float32)
        xt, wt, bt, dyt = (torch.as_tensor(a, device="cuda") for a in (x, w, b, dy))
        row = _new_row(rows=R, N=N)
        y_ref, mean_t, rstd_t = torch.ops.aten.native_layer_norm(xt, [N], wt, bt, 1e-5)
        dx_ref, dw_ref, db_ref = torch.ops.aten.native_layer_norm_backward(
            dyt, xt, [N], mean_t, rstd_t, wt, bt, [True, True, True])
        # outputs allocated once: the timed calls are the launches only (checks run once, above)
        y, mean, rstd, dx = (cupy.empty_like(x), cupy.empty(R, np.float32), cupy.empty(R, np.float32),
                             cupy.empty_like(x))
        part = cupy.empty((ag.layer_norm_param_groups(R), 2, N), dtype=np.float32)
        dwdb = cupy.empty(2 * N, dtype=np.float32)
        for variant in ag.VARIANTS:
            fkey, bkey = f"fwd_ours_{variant}", f"bwd_ours_{variant}"
            try:
                yc, mc, rc = ag.layer_norm(x, w, b, variant=variant, backend="cupy")
                if _check(fkey, yc, y_ref, row, 1e-4):
                    _record(row, fkey, lambda v=variant: ag.launch_layer_norm(
                        x, w, b, y, mean, rstd, 1e-5, v, "cupy"), 2 * x.nbytes)
                grads = ag.layer_norm_backward(dy, x, w, mc, rc, variant=variant, backend="cupy")
                ok = all(_check(f"{bkey}_{n}", g, r, row, 1e-4)
                         for n, g, r in zip(("dx", "dw", "db"), grads, (dx_ref, dw_ref, db_ref)))
                if ok:
                    _record(row, bkey, lambda v=variant: ag.launch_layer_norm_backward(
                        dy, x, w, mc, rc, dx, part, dwdb, v, "cupy"), 3 * x.nbytes)
            except Exception as exc:
                row["errors"][fkey] = f"{type(exc).__name__}: {exc}"
        _record(row, "fwd_torch", lambda: F.layer_norm(xt, (N,), wt, bt, 1e-5), 2 * x.nbytes)
        _record(row, "bwd_torch", lambda: torch.ops.aten.native_layer_norm_backward(
            dyt, xt, [N], mean_t, rstd_t, wt, bt, [True, True, True]), 3 * x.nbytes)
        _finish(rows, row, f"layer_norm {R}x{N}")
    return rows


def bench_attention(quick: bool) -> list[dict]:
    import cupy
    import torch
    import torch.nn.functional as F

    from course_lib.attention import gpu as ag
    rows = []
    for B, H, L, E in (ATTENTION[:2] if quick else ATTENTION):
        rng = cupy.random.default_rng(0)
        q, k, v = (rng.standard_normal((B, H, L, E), dtype=np.float32) for _ in range(3))
        qt, kt, vt = (torch.as_tensor(a, device="cuda") for a in (q, k, v))
        scale = 1.0 / math.sqrt(E)
        inter = ag.attention_intermediate_bytes(q.shape, k.shape)
        row = _new_row(B=B, H=H, L=L, E=E, scores_MiB=inter["scores"] / 2**20, peak_MiB={},
                       GFLOP=4 * B * H * L * L * E / 1e9)

        def eager():
            p = torch.softmax((qt * scale) @ kt.transpose(-1, -2), dim=-1)
            return p @ vt

        ref = F.scaled_dot_product_attention(qt, kt, vt)
        for causal in (False, True):
            sfx = "_causal" if causal else ""
            refc = F.scaled_dot_product_attention(qt, kt, vt, is_causal=True) if causal else ref
            for variant in ag.VARIANTS:
                key = "ours" + ("_block" if variant == "block" else "") + sfx

                def ours(c=causal, var=variant):             # checks done once, by attention()
                    return ag.launch_attention(q, k, v, c, scale, var, "cupy")
                try:
                    if _check(key, ag.attention(q, k, v, is_causal=causal, variant=variant,
                                                backend="cupy"), refc, row, 1e-4):
                        _record(row, key, ours)
                        row["peak_MiB"][key] = cupy_peak_bytes(ours) / 2**20
                except Exception as exc:
                    row["errors"][key] = f"{type(exc).__name__}: {exc}"
            key = "sdpa" + sfx
            _record(row, key, lambda c=causal: F.scaled_dot_product_attention(qt, kt, vt, is_causal=c))
            row["peak_MiB"][key] = torch_peak_bytes(
                lambda c=causal: F.scaled_dot_product_attention(qt, kt, vt, is_causal=c)) / 2**20
        try:
            if _check("eager", eager(), ref, row, 1e-4):
                _record(row, "eager", eager)
                row["peak_MiB"]["eager"] = torch_peak_bytes(eager) / 2**20
        except Exception as exc:                     # e.g. out of memory at long sequences
            row["errors"]["eager"] = f"{type(exc).__name__}: {exc}"
        _finish(rows, row, f"attention B{B} H{H} L{L} E{E}")
    return rows


def _table(headers: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def _f(d: dict, key: str, fmt: str = "{:.3f}") -> str:
    return fmt.format(d[key]) if key in d else "-"


def _ratio(ms: dict, ours: str, ref: str) -> str:
    return f"{ms[ours] / ms[ref]:.2f}" if ours in ms and ref in ms else "-"


def to_markdown(result: dict) -> str:
    env = result.get("env", {})
    out = [f"# Attention kernels vs PyTorch on {env.get('gpu', '?')}", "",
           "Environment: " + ", ".join(f"{k} {v}" for k, v in env.items()), ""]
    if "copy_GBps" in result:
        out += [f"Device-to-device copy: {result['copy_GBps']:.0f} GB/s (read + write).", ""]
    if result.get("softmax"):
        out += ["## Softmax (last axis), float32", "",
                "ms and GB/s (read x + write y); ratio = ours / torch (< 1: ours faster).", ""]
        body = [[f"{r['rows']} x {r['S']}", _f(r["ms"], "ours_warp"), _f(r["ms"], "ours_block"),
                 _f(r["ms"], "torch"), _f(r["GBps"], "ours_warp", "{:.0f}"),
                 _f(r["GBps"], "ours_block", "{:.0f}"), _f(r["GBps"], "torch", "{:.0f}"),
                 _ratio(r["ms"], "ours_warp", "torch"), _ratio(r["ms"], "ours_block", "torch")]
                for r in result["softmax"]]
        out += [_table(["rows x S", "warp ms", "block ms", "torch ms", "warp GB/s", "block GB/s",
                        "torch GB/s", "warp / torch", "block / torch"], body), ""]
    if result.get("layernorm"):
        out += ["## LayerNorm, float32", "", "Forward GB/s: read x + write y; backward: read dy, x + "
                "write dx.  Ratio = ours / torch.", ""]
        body = []
        for r in result["layernorm"]:
            ms = r["ms"]
            body.append([f"{r['rows']} x {r['N']}", _f(ms, "fwd_ours_warp"), _f(ms, "fwd_ours_block"),
                         _f(ms, "fwd_torch"), _ratio(ms, "fwd_ours_warp", "fwd_torch"),
                         _ratio(ms, "fwd_ours_block", "fwd_torch"), _f(ms, "bwd_ours_warp"),
                         _f(ms, "bwd_ours_block"), _f(ms, "bwd_torch"),
                         _ratio(ms, "bwd_ours_warp", "bwd_torch"), _ratio(ms, "bwd_ours_block", "bwd_torch"),
                         _f(r["GBps"], "fwd_ours_warp", "{:.0f}"), _f(r["GBps"], "fwd_torch", "{:.0f}")])
        out += [_table(["rows x N", "fwd warp", "fwd block", "fwd torch", "warp / torch", "block / torch",
                        "bwd warp", "bwd block", "bwd torch", "warp / torch", "block / torch",
                        "fwd warp GB/s", "fwd torch GB/s"], body), ""]
    if result.get("attention"):
        out += ["## Attention (B, H, L = S, E), float32", "",
                "ours = GEMM + softmax kernel + GEMM (writes the L x L scores and probabilities); "
                "eager = the same three steps in torch; sdpa = `F.scaled_dot_product_attention` "
                "(fused).  Peak = extra memory of one call.  Ratio = ours / sdpa.", ""]
        body = []
        for r in result["attention"]:
            ms, pk = r["ms"], r["peak_MiB"]
            body.append([f"{r['B']}, {r['H']}, {r['L']}, {r['E']}", f"{r['scores_MiB']:.1f}",
                         _f(ms, "ours"), _f(ms, "ours_block"), _f(ms, "eager"), _f(ms, "sdpa"),
                         _ratio(ms, "ours", "sdpa"), _ratio(ms, "ours", "eager"),
                         _f(ms, "ours_causal"), _f(ms, "sdpa_causal"),
                         _f(pk, "ours", "{:.0f}"), _f(pk, "eager", "{:.0f}"), _f(pk, "sdpa", "{:.0f}")])
        out += [_table(["B, H, L, E", "scores MiB", "ours ms", "ours (block) ms", "eager ms", "sdpa ms",
                        "ours / sdpa", "ours / eager", "ours causal ms", "sdpa causal ms",
                        "ours peak MiB", "eager peak MiB", "sdpa peak MiB"], body), ""]
    errors = [(p, r, k, v) for p in ("softmax", "layernorm", "attention") for r in result.get(p, [])
              for k, v in r["errors"].items()]
    if errors or result.get("stage_errors"):
        out += ["## Errors", ""]
        out += [f"- {p}: {k}: {v}" for p, _, k, v in errors]
        out += [f"- stage {k}: {v}" for k, v in result.get("stage_errors", {}).items()]
    return "\n".join(out) + "\n"


def environment() -> dict:
    from course_lib.bench.gpu_env import gpu_environment
    return gpu_environment()


def write_harness_record(result: dict, quick: bool, out: Path) -> Path:
    """The run as a ``course_lib.bench`` record under ``<out>/<machine-slug>/``."""
    from course_lib.bench import new_record, write_record
    from course_lib.bench.records import add_rows
    rec = new_record("attention_gpu", quick=quick, machine=result["env"]["machine"],
                     config={"timing": "median of 7 CUDA-event runs of ~3 ms"})
    for part in ("softmax", "layernorm", "attention"):
        add_rows(rec, part, result.get(part, []))
    rec["copy_GBps"] = result.get("copy_GBps")
    rec["stage_errors"] = result.get("stage_errors")
    return write_record(rec, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu"))
    ap.add_argument("--quick", action="store_true", help="the two smallest sizes of each table")
    ap.add_argument("--budget-s", type=float, default=240.0,
                    help="start no further part after this many seconds")
    args = ap.parse_args(argv)
    from course_lib.cuda import gpu_available
    if not gpu_available():
        log("no CUDA GPU visible to CuPy: nothing to benchmark (the kernels are tested on the "
            "CPU emulator by tests/cuda/test_attention_kernels.py)")
        return 0
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False    # float32 GEMMs on both sides
    torch.backends.cudnn.allow_tf32 = False
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"env": environment(), "stage_errors": {}}
    log(f"environment: {result['env']}")
    from course_lib.bench.budget import run_within_budget

    def write_files():
        (out / "bench_attention_gpu.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        (out / "bench_attention_gpu.md").write_text(to_markdown(result))
        write_harness_record(result, args.quick, out)

    parts = (("copy_GBps", copy_bandwidth), ("softmax", lambda: bench_softmax(args.quick)),
             ("layernorm", lambda: bench_layernorm(args.quick)),
             ("attention", lambda: bench_attention(args.quick)))
    # written after every part, so a run stopped by a time limit still leaves its results
    outcome = run_within_budget(parts, budget_s=args.budget_s, log=log, store=result,
                                on_done=lambda part, value: write_files())
    result["stage_errors"].update(outcome.errors)
    write_files()                 # the errors and skips too
    log(to_markdown(result))
    bad = result["stage_errors"] or any(r["errors"] for p in ("softmax", "layernorm", "attention")
                                        for r in result.get(p, []))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

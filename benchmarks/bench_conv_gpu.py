"""Time the CUDA convolution ladder against cuDNN (PyTorch) on a GPU; write Markdown + JSON.

    PYTHONPATH=$PWD python3 benchmarks/bench_conv_gpu.py [--out benchmarks/results/gpu] [--quick]

Each kernel's output is first compared with ``torch.nn.functional.conv2d`` (TF32 off, so a true
float32 reference); a kernel that disagrees is reported and not timed.  Times are CUDA-event
medians; every trial times a run of back-to-back launches so that Python's launch overhead
overlaps the GPU work.  FLOPs = 2 * B * C_out * OH * OW * C_in * KH * KW.

Ceilings measured in the same run: device-to-device copy bandwidth and the matmul rate of
cuBLAS in FP32 (the ceiling of the im2col path), TF32 and BF16 -- the numbers a float32
convolution kernel can be held against.

Timing (CUDA events) and the machine record come from :mod:`course_lib.bench`; next to
``bench_conv_gpu.json``/``.md`` each run writes a harness record
``<out>/<machine-slug>/conv_gpu[_quick].json``.
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

# (name, x shape, w shape, stride, padding): ResNet-style layers
LAYERS = [
    ("res2 3x3", (8, 64, 56, 56), (64, 64, 3, 3), 1, 1),
    ("res3 3x3", (8, 128, 28, 28), (128, 128, 3, 3), 1, 1),
    ("res4 3x3", (8, 256, 14, 14), (256, 256, 3, 3), 1, 1),
    ("stem 7x7/2", (8, 3, 224, 224), (64, 3, 7, 7), 2, 3),
]
LAYERS += [(n, (32,) + x[1:], w, s, p) for n, x, w, s, p in LAYERS]
OURS = ("naive", "tiled", "im2col")


def log(msg: str) -> None:
    print(msg, flush=True)


def finish_row(rows: list, row: dict, label: str) -> None:
    """Log one measured row (its times and any errors), keep it, and free the GPU memory pools."""
    import cupy
    import torch
    errors = "; ".join(f"{k}: {v}" for k, v in row["errors"].items())
    log(f"  {label} " + "  ".join(f"{k}={v:.3f}ms" for k, v in row["ms"].items())
        + (f"  ERRORS {errors}" if errors else ""))
    rows.append(row)
    cupy.get_default_memory_pool().free_all_blocks()
    torch.cuda.empty_cache()


def flops(x_shape, w_shape, stride, padding) -> float:
    B, C_in, H, W = x_shape
    C_out, _, KH, KW = w_shape
    OH = (H + 2 * padding - KH) // stride + 1
    OW = (W + 2 * padding - KW) // stride + 1
    return 2.0 * B * C_out * OH * OW * C_in * KH * KW


def time_gpu(fn, *, target_ms: float = 3.0, trials: int = 7) -> float:
    """Median milliseconds of one ``fn()`` call: CUDA events on the null stream, one
    warm-up call, runs of back-to-back calls lasting about ``target_ms``
    (:func:`course_lib.bench.cuda_timing.time_cuda`)."""
    from course_lib.bench.cuda_timing import time_cuda
    return time_cuda(fn, repeats=trials, warmup=1, backend="cupy", target_ms=target_ms).timing.ms


def ceilings(quick: bool) -> dict:
    """Copy bandwidth and matmul rates measured now, on this GPU."""
    import cupy
    import torch
    out = {}
    n = (1 << 28) if not quick else (1 << 24)       # 1 GiB of float32 (64 MiB quick)
    a = cupy.ones(n, dtype=np.float32)
    b = cupy.empty_like(a)
    ms = time_gpu(lambda: b.__setitem__(Ellipsis, a), target_ms=10, trials=5)
    out["d2d_copy_GBps"] = 2 * a.nbytes / (ms * 1e-3) / 1e9   # read + write
    a = b = None                                    # free the 2 GiB before the matmuls
    m = 8192 if not quick else 2048
    rng = np.random.default_rng(2)
    x = cupy.asarray(rng.standard_normal((m, m), dtype=np.float32))
    y = cupy.asarray(rng.standard_normal((m, m), dtype=np.float32))
    ms = time_gpu(lambda: cupy.matmul(x, y), target_ms=20, trials=5)
    out["fp32_matmul_cupy_TFLOPs"] = 2 * m**3 / (ms * 1e-3) / 1e12
    xt, yt = torch.as_tensor(x, device="cuda"), torch.as_tensor(y, device="cuda")
    for name, dtype, tf32 in (("fp32_matmul_torch", torch.float32, False),
                              ("tf32_matmul_torch", torch.float32, True),
                              ("bf16_matmul_torch", torch.bfloat16, False)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        xa, ya = xt.to(dtype), yt.to(dtype)
        ms = time_gpu(lambda: torch.matmul(xa, ya), target_ms=20, trials=5)
        out[name + "_TFLOPs"] = 2 * m**3 / (ms * 1e-3) / 1e12
    torch.backends.cuda.matmul.allow_tf32 = False
    return out


def kernel_attributes() -> list[dict]:
    """Registers, local and static shared memory of each ladder kernel as the driver reports them."""
    from course_lib.conv.gpu import KERNELS, get_kernel
    rows = []
    for short, info in KERNELS.items():
        k = get_kernel(short, "cupy")
        mod = k.module._backend_module()
        attrs = mod.get_function(info.function).attributes
        rows.append({"kernel": info.function, "file": info.file, "num_regs": attrs.get("num_regs"),
                     "local_size_bytes": attrs.get("local_size_bytes"),
                     "shared_size_bytes": attrs.get("shared_size_bytes"),
                     "max_threads_per_block": attrs.get("max_threads_per_block")})
    return rows


def bench_forward(quick: bool) -> list[dict]:
    import cupy
    import torch
    import torch.nn.functional as F

    from course_lib.conv._args import geometry
    from course_lib.conv.gpu import launch_forward

    torch.backends.cudnn.allow_tf32 = False          # a float32 reference, like our kernels
    torch.backends.cuda.matmul.allow_tf32 = False
    rows = []
    layers = LAYERS[:4] if quick else LAYERS
    for name, xs, ws, s, p in layers:
        g = geometry(xs, ws, s, p)
        rng = np.random.default_rng(0)
        x = cupy.asarray(rng.standard_normal(xs, dtype=np.float32))
        w = cupy.asarray(rng.standard_normal(ws, dtype=np.float32) / np.float32(np.sqrt(ws[1] * ws[2] * ws[3])))
        b = cupy.asarray(rng.standard_normal(ws[0], dtype=np.float32))
        xt, wt, bt = (torch.as_tensor(a, device="cuda") for a in (x, w, b))
        ref = F.conv2d(xt, wt, bt, stride=s, padding=p)
        refc = cupy.asarray(ref)
        scale = float(cupy.abs(refc).max())
        fl = flops(xs, ws, s, p)
        row = {"layer": name, "x": xs, "w": ws, "stride": s, "padding": p, "GFLOP": fl / 1e9,
               "ms": {}, "TFLOPs": {}, "max_abs_err": {}, "errors": {}}

        def record(key, fn):
            try:
                ms = time_gpu(fn)
                row["ms"][key] = ms
                row["TFLOPs"][key] = fl / (ms * 1e-3) / 1e12
            except Exception as exc:                 # keep going: one failure is one cell
                row["errors"][key] = f"{type(exc).__name__}: {exc}"

        for kernel in OURS:
            y = cupy.empty(g.y_shape, dtype=np.float32)
            try:
                launch_forward(kernel, g, x, w, b, y, backend="cupy")
                err = float(cupy.abs(y - refc).max())
                row["max_abs_err"][kernel] = err
                if not err <= 2e-4 * max(1.0, scale):
                    row["errors"][kernel] = f"wrong result: max |y - torch| = {err:.3g} (scale {scale:.3g})"
                    continue
            except Exception as exc:
                row["errors"][kernel] = f"{type(exc).__name__}: {exc}"
                continue
            record(kernel, lambda k=kernel, y=y: launch_forward(k, g, x, w, b, y, backend="cupy"))
        for bench_flag in (False, True):
            torch.backends.cudnn.benchmark = bench_flag
            key = f"cudnn{'_benchmark' if bench_flag else ''}"
            record(key, lambda: F.conv2d(xt, wt, bt, stride=s, padding=p))
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.allow_tf32 = True
        record("cudnn_tf32", lambda: F.conv2d(xt, wt, bt, stride=s, padding=p))
        torch.backends.cudnn.allow_tf32 = False
        best = min((row["ms"][k] for k in ("cudnn", "cudnn_benchmark") if k in row["ms"]), default=None)
        row["pct_of_cudnn"] = {k: 100 * best / v for k, v in row["ms"].items()} if best else {}
        finish_row(rows, row, f"{name:12s} x{xs}")
    return rows


def bench_backward(quick: bool) -> list[dict]:
    """dW and dX kernels vs torch.nn.grad on the batch-8 layers."""
    import cupy
    import torch
    from torch.nn import grad as tgrad

    from course_lib.conv._args import geometry
    from course_lib.conv import gpu as cc

    torch.backends.cudnn.allow_tf32 = False
    rows = []
    for name, xs, ws, s, p in (LAYERS[:2] if quick else LAYERS[:4]):
        rng = np.random.default_rng(1)
        x = cupy.asarray(rng.standard_normal(xs, dtype=np.float32))
        w = cupy.asarray(rng.standard_normal(ws, dtype=np.float32))
        g = geometry(xs, ws, s, p)
        dy = cupy.asarray(rng.standard_normal(g.y_shape, dtype=np.float32))
        xt, wt, dyt = (torch.as_tensor(a, device="cuda") for a in (x, w, dy))
        fl = flops(xs, ws, s, p)
        row = {"layer": name, "x": xs, "w": ws, "stride": s, "padding": p, "GFLOP": fl / 1e9,
               "ms": {}, "TFLOPs": {}, "errors": {}}
        cases = {
            "dW reduce": (lambda: cc.conv2d_backward_weight_gpu(dy, x, w, s, p, kernel="reduce", backend="cupy"),
                          lambda: tgrad.conv2d_weight(xt, ws, dyt, stride=s, padding=p)),
            "dW im2col": (lambda: cc.conv2d_backward_weight_gpu(dy, x, w, s, p, kernel="im2col", backend="cupy"),
                          None),
            "dX gather": (lambda: cc.conv2d_backward_input_gpu(dy, xs, w, s, p, kernel="gather", backend="cupy"),
                          lambda: tgrad.conv2d_input(xs, wt, dyt, stride=s, padding=p)),
            "dX col2im": (lambda: cc.conv2d_backward_input_gpu(dy, xs, w, s, p, kernel="col2im", backend="cupy"),
                          None),
        }
        refs = {"dW": cupy.asarray(tgrad.conv2d_weight(xt, ws, dyt, stride=s, padding=p)),
                "dX": cupy.asarray(tgrad.conv2d_input(xs, wt, dyt, stride=s, padding=p))}
        for key, (ours, theirs) in cases.items():
            try:
                out = ours()
                ref = refs[key[:2]]
                err = float(cupy.abs(out - ref).max())
                scale = float(cupy.abs(ref).max())
                if not err <= 2e-4 * max(1.0, scale):
                    row["errors"][key] = f"wrong result: max err {err:.3g} (scale {scale:.3g})"
                    continue
                ms = time_gpu(ours)
                row["ms"][key] = ms
                row["TFLOPs"][key] = fl / (ms * 1e-3) / 1e12
                if theirs is not None:
                    ms = time_gpu(theirs)
                    row["ms"][f"{key[:2]} torch"] = ms
                    row["TFLOPs"][f"{key[:2]} torch"] = fl / (ms * 1e-3) / 1e12
            except Exception as exc:
                row["errors"][key] = f"{type(exc).__name__}: {exc}"
        finish_row(rows, row, f"{name:12s}")
    return rows


def to_markdown(result: dict) -> str:
    env = result["env"]
    lines = ["# Convolution ladder on the GPU", "",
             f"Machine: **{env.get('gpu', '?')}**, driver {env.get('driver', '?')}, CUDA runtime "
             f"{env.get('cuda_runtime', '?')}, CuPy {env.get('cupy', '?')}, torch {env.get('torch', '?')} "
             f"(cuDNN {env.get('cudnn', '?')}), host {env.get('host', '?')}. Float32 everywhere unless "
             "marked TF32/BF16. Times: median of 7 CUDA-event trials; "
             "'% cuDNN' = best float32 cuDNN time / kernel time.", ""]
    c = result.get("ceilings") or {}
    if c:
        lines += ["## Ceilings measured in this run", "",
                  "| measure | value |", "|---|---:|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in c.items()]
        lines.append("")
    lines += ["## Forward", "",
              "| layer | x | w | s/p | GFLOP | " + " | ".join(f"{k} ms (TFLOP/s, % cuDNN)" for k in OURS)
              + " | cuDNN ms | cuDNN bench ms | cuDNN TF32 ms |",
              "|---|---|---|---|---:|" + "---:|" * (len(OURS) + 3)]
    for r in result.get("forward", []):
        cells = []
        for k in OURS:
            if k in r["ms"]:
                cells.append(f"{r['ms'][k]:.3f} ({r['TFLOPs'][k]:.1f}, {r['pct_of_cudnn'].get(k, float('nan')):.0f}%)")
            else:
                cells.append("error" if k in r["errors"] else "-")
        for k in ("cudnn", "cudnn_benchmark", "cudnn_tf32"):
            cells.append(f"{r['ms'][k]:.3f} ({r['TFLOPs'][k]:.1f})" if k in r["ms"] else "-")
        lines.append(f"| {r['layer']} | {tuple(r['x'])} | {tuple(r['w'])} | {r['stride']}/{r['padding']} | "
                     f"{r['GFLOP']:.2f} | " + " | ".join(cells) + " |")
    if result.get("backward"):
        lines += ["", "## Backward (batch 8)", "",
                  "Our times go through the Python wrappers (argument checks included: one NaN test "
                  "per array, a device sync); FLOPs counted as for the forward pass.", "",
                  "| layer | kernel | ms | TFLOP/s |", "|---|---|---:|---:|"]
        for r in result["backward"]:
            for k, ms in r["ms"].items():
                lines.append(f"| {r['layer']} | {k} | {ms:.3f} | {r['TFLOPs'][k]:.1f} |")
    errs = [(r["layer"], tuple(r["x"]), k, v) for part in ("forward", "backward")
            for r in result.get(part, []) for k, v in r["errors"].items()]
    if errs:
        lines += ["", "## Errors", ""] + [f"- {l} {x} {k}: {v}" for l, x, k, v in errs]
    if result.get("attributes"):
        lines += ["", "## Kernel attributes (driver, this GPU)", "",
                  "| kernel | file | registers | local (B) | static smem (B) | max threads/block |",
                  "|---|---|---:|---:|---:|---:|"]
        for a in result["attributes"]:
            lines.append(f"| `{a['kernel']}` | `{a['file']}` | {a['num_regs']} | {a['local_size_bytes']} | "
                         f"{a['shared_size_bytes']} | {a['max_threads_per_block']} |")
    if result.get("stage_errors"):
        lines += ["", "## Stage errors", ""] + [f"- {k}: {v}" for k, v in result["stage_errors"].items()]
    return "\n".join(lines) + "\n"


def environment() -> dict:
    from course_lib.bench.gpu_env import gpu_environment
    return gpu_environment()


def write_harness_record(result: dict, quick: bool, out: Path) -> Path:
    """The run as a ``course_lib.bench`` record under ``<out>/<machine-slug>/``."""
    from course_lib.bench import new_record, write_record
    from course_lib.bench.records import add_rows
    rec = new_record("conv_gpu", quick=quick, machine=result["env"]["machine"],
                     config={"layers": LAYERS[:4] if quick else LAYERS,
                             "timing": "median of 7 CUDA-event runs of ~3 ms"})
    for part in ("forward", "backward"):
        add_rows(rec, part, result.get(part, []))
    rec["gpu_ceilings"] = result.get("ceilings")
    rec["stage_errors"] = result.get("stage_errors")
    return write_record(rec, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu"))
    ap.add_argument("--quick", action="store_true", help="batch-8 layers only, smaller ceilings")
    ap.add_argument("--budget-s", type=float, default=150.0,
                    help="start no further part (forward, ceilings, backward) after this many seconds")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from course_lib.cuda import gpu_available
    if not gpu_available():
        log("no CUDA GPU visible to CuPy: nothing to benchmark")
        return 0
    result = {"env": environment(), "stage_errors": {}}
    log(f"environment: {result['env']}")
    from course_lib.bench.budget import run_within_budget

    def write_files():
        (out / "bench_conv_gpu.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        (out / "bench_conv_gpu.md").write_text(to_markdown(result))
        write_harness_record(result, args.quick, out)

    parts = (("attributes", kernel_attributes), ("forward", lambda: bench_forward(args.quick)),
             ("ceilings", lambda: ceilings(args.quick)),
             ("backward", lambda: bench_backward(args.quick)))
    # written after every part, so a run stopped by a time limit still leaves its results
    outcome = run_within_budget(parts, budget_s=args.budget_s, log=log, store=result,
                                on_done=lambda part, value: write_files())
    result["stage_errors"].update(outcome.errors)
    write_files()                 # the errors and skips too
    log(to_markdown(result))
    bad = result["stage_errors"] or any(r["errors"] for p in ("forward", "backward") for r in result.get(p, []))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

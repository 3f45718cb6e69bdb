"""Section 16.6: ResNet-50, ViT-B/16 and ConvNeXt-B measured on this machine (random weights).

    .venv/bin/python benchmarks/bench_models.py            # full run, writes benchmarks/results/
    .venv/bin/python benchmarks/bench_models.py --quick    # 64x64, batch 1-2, one repeat

The source's table gives, for an A100 at batch 32 and 224x224 input, parameters,
milliseconds, gigabytes and ImageNet top-1 for the three models.  This script redoes
what can be redone here, with torchvision's models built with random weights:

1. Parameters (module and analytic) and FLOPs per 224x224 image (FlopCounterMode with
   every matmul visible, 2 per multiply-accumulate, and the analytic MAC count); also
   what FlopCounterMode reports with torch's default attention path on the CPU.
2. CPU latency of one forward (float32, ``torch.inference_mode``, all cores) at
   batch 1 and 8: median and IQR of round-robin repeats (the three models alternate,
   so they are measured side by side), images/s, GFLOP/s.
3. Peak memory of one forward at batch 1, 8 and 32 (the source's batch), each in a
   fresh process: the resident set's high-water mark above the level before the model
   was built (weights + input + working memory), the forward's own part, the weights,
   and the analytic size of the largest single activation.
4. Published ImageNet-1k top-1 with sources -- accuracy is NOT measured here.
5. With a CUDA GPU: batch 32 in float32 and float16 (the source names no precision),
   channels_last as well for the two CNNs: CUDA-event latency and the allocator's peak.

Harness records ``<out>/<machine-slug>/models_cpu[_quick].json`` (and ``models_gpu``);
whenever results are written (full runs; ``--quick`` only with ``--out``) also
``<out>/models_cpu.md`` and ``<out>/models_cpu.json`` (a compact summary the chapter
reads; ``models_gpu.md`` when a GPU was used).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.bench import (Progress, legacy_machine_dict, machine_record,  # noqa: E402
                              new_record, time_interleaved, write_record)
from course_lib.bench.records import add_result  # noqa: E402
from course_lib.bench.tables import markdown_table, timing_cell  # noqa: E402
from course_lib.bench import vision_models as vm  # noqa: E402

FULL = dict(image_size=224, latency_batches=(1, 8), repeats={1: 9, 8: 5},
            memory_batches=(1, 8, 32), memory_workers=1,
            gpu_batch=32, gpu_repeats=20, gpu_warmup=5)
QUICK = dict(image_size=64, latency_batches=(1, 2), repeats={1: 1, 2: 1},
             memory_batches=(1,), memory_workers=3,
             gpu_batch=2, gpu_repeats=3, gpu_warmup=1)
SOURCE_BATCH = 32
MB = 1e6


def _mb(v) -> str:
    return "-" if v is None else f"{v / MB:,.0f}"


def counts_section(record: dict, models: dict, size: int) -> dict:
    """Parameters and FLOPs per ``size`` x ``size`` image of each model (table 1)."""
    out = {}
    for name, model in models.items():
        flops = vm.flops_per_image(name, size)
        # the same count with torch's default attention path, on the real CPU model
        default = vm.count_flops(model, vm.example_input(1, size), visible=False)
        out[name] = {"parameters": vm.module_params(model),
                     "parameters_analytic": vm.analytic_params(name, size),
                     "flops_per_image": flops,
                     "macs_per_image_analytic": vm.analytic_macs(name, size),
                     "flops_per_image_default_counter": default,
                     "largest_activation_elements_per_image":
                         vm.largest_activation_elements(name, size),
                     "weights_bytes": vm.weights_bytes(model)}
        add_result(record, name, params={"section": "counts"}, image_size=size, **out[name])
    return out


def latency_section(record: dict, models: dict, counts: dict, cfg: dict, threads: int) -> dict:
    """Round-robin CPU timing of the three models at each batch (table 2)."""
    out = {}
    for b in cfg["latency_batches"]:
        x = vm.example_input(b, cfg["image_size"])
        fns = {name: vm.forward_fn(m, x) for name, m in models.items()}
        ts = time_interleaved(fns, repeats=cfg["repeats"][b], warmup=1)
        for name, t in ts.items():
            flops = counts[name]["flops_per_image"] * b
            ips = b / t.median
            add_result(record, name, timing=t, flops=flops,
                       params={"section": "latency", "batch": b, "device": "cpu",
                               "dtype": "float32", "threads": threads},
                       images_per_s=ips, parameters=counts[name]["parameters"])
            q1, q3 = t.quartiles
            out.setdefault(name, {})[b] = {"timing": t, "median_ms": 1e3 * t.median,
                                           "q1_ms": 1e3 * q1, "q3_ms": 1e3 * q3,
                                           "images_per_s": ips,
                                           "gflops": flops / t.median / 1e9}
    return out


def memory_section(record: dict, counts: dict, cfg: dict, threads: int, bar) -> dict:
    """One forward per (model, batch), each in a fresh process (table 3).

    The quick run starts its processes side by side (each reads only its own resident
    set, so the figures do not change; only the run is shorter); the full run one by one.
    """
    from concurrent.futures import ThreadPoolExecutor
    jobs = [(name, b) for name in vm.MODELS for b in cfg["memory_batches"]]
    with ThreadPoolExecutor(max_workers=cfg["memory_workers"]) as pool:
        futures = {job: pool.submit(vm.forward_peak_memory, job[0], job[1],
                                    image_size=cfg["image_size"], threads=threads)
                   for job in jobs}
        out = {}
        for (name, b), fut in futures.items():
            m = fut.result()
            mem = {"peak_bytes": m["peak_bytes"], "forward_peak_bytes": m["forward_peak_bytes"],
                   "baseline_rss_bytes": m["baseline_rss_bytes"],
                   "peak_rss_bytes": m["peak_rss_bytes"],
                   "source": "resident-set high-water mark, one forward in a fresh process; "
                             "peak_bytes above the level before the model was built"}
            add_result(record, name, memory=mem,
                       params={"section": "memory", "batch": b, "device": "cpu",
                               "dtype": "float32"},
                       weights_bytes=m["weights_bytes"], input_bytes=m["input_bytes"])
            out.setdefault(name, {})[b] = mem | {"weights_bytes": m["weights_bytes"],
                                                 "input_bytes": m["input_bytes"]}
            bar.update(note=f"memory {name} batch {b}")
    return out


def gpu_section(record: dict, counts: dict, cfg: dict, threads: int) -> list[dict]:
    """Batch ``gpu_batch`` on the GPU: float32/float16, contiguous/channels_last."""
    from course_lib.bench.cuda_timing import time_cuda
    b = cfg["gpu_batch"]
    rows = []
    for dtype_name in ("float32", "float16"):
        dtype = getattr(torch, dtype_name)
        for name, spec in vm.MODELS.items():
            formats = ["contiguous"] + (["channels_last"] if spec.family != "Transformer" else [])
            model = vm.build(name, "cuda", dtype, image_size=cfg["image_size"])
            for fmt in formats:
                mf = torch.channels_last if fmt == "channels_last" else torch.contiguous_format
                model = model.to(memory_format=mf)
                x = vm.example_input(b, cfg["image_size"], "cuda", dtype)
                x = x.contiguous(memory_format=mf)
                mem = vm.cuda_forward_memory(model, x)
                ct = time_cuda(vm.forward_fn(model, x), repeats=cfg["gpu_repeats"],
                               warmup=cfg["gpu_warmup"])
                flops = counts[name]["flops_per_image"] * b
                ips = b / ct.timing.median
                params = {"batch": b, "device": "cuda", "dtype": dtype_name,
                          "memory_format": fmt}
                add_result(record, name, timing=ct.timing, flops=flops,
                           params={"section": "latency", **params, "threads": threads},
                           images_per_s=ips, parameters=counts[name]["parameters"])
                add_result(record, name, memory=mem, params={"section": "memory", **params},
                           weights_bytes=vm.weights_bytes(model))
                rows.append({"name": name, "dtype": dtype_name, "format": fmt,
                             "timing": ct.timing, "images_per_s": ips,
                             "tflops": flops / ct.timing.median / 1e12, **mem,
                             "weights_bytes": vm.weights_bytes(model)})
            del model, x
            torch.cuda.empty_cache()
    return rows


def count_table(counts: dict, size: int) -> list[str]:
    rows = []
    for name, c in counts.items():
        claim = vm.SOURCE_CLAIMS[name]["params_M"]
        rows.append([vm.MODELS[name].display, f"{c['parameters']:,}",
                     "yes" if c["parameters"] == c["parameters_analytic"] else
                     f"no ({c['parameters_analytic']:,})", f"{claim}M",
                     f"{c['macs_per_image_analytic'] / 1e9:.3f}",
                     f"{c['flops_per_image'] / 1e9:.3f}",
                     f"{c['flops_per_image_default_counter'] / 1e9:.3f}"])
    return markdown_table(["model", "parameters (module)", "= analytic?", "source says",
                           "GMAC/image (analytic)", "GFLOP/image (FlopCounterMode)",
                           "GFLOP/image (FlopCounterMode, default attention path)"], rows,
                          f"1. Parameters and FLOPs per {size}x{size} image")


def latency_table(lat: dict, cfg: dict, threads: int) -> list[str]:
    cols, rows = ["model"], []
    for b in cfg["latency_batches"]:
        cols += [f"batch {b}: ms median (IQR)", "images/s", "GFLOP/s"]
    for name, per_b in lat.items():
        row = [vm.MODELS[name].display]
        for b in cfg["latency_batches"]:
            r = per_b[b]
            row += [timing_cell(r["timing"]), f"{r['images_per_s']:.1f}", f"{r['gflops']:.0f}"]
        rows.append(row)
    return markdown_table(cols, rows, f"2. CPU latency, float32, {threads} threads, "
                                      "torch.inference_mode (round-robin)")


def memory_table(mem: dict, counts: dict, cfg: dict) -> list[str]:
    rows = []
    for name in vm.MODELS:
        row = [vm.MODELS[name].display, _mb(counts[name]["weights_bytes"])]
        for b in FULL["memory_batches"]:
            m = mem.get(name, {}).get(b)
            row.append("-" if m is None else
                       f"{_mb(m['peak_bytes'])} ({_mb(m['forward_peak_bytes'])})")
        act = counts[name]["largest_activation_elements_per_image"] * 4 * SOURCE_BATCH
        row += [_mb(act), f"{vm.SOURCE_CLAIMS[name]['GB']:.1f} GB"]
        rows.append(row)
    cols = (["model", "weights MB"]
            + [f"batch {b}: peak MB (forward)" for b in FULL["memory_batches"]] + [f"largest activation at batch {SOURCE_BATCH}, MB", "source says (A100)"])
    return markdown_table(cols, rows, "3. Peak memory of one forward, CPU resident set, float32")


def published_table() -> list[str]:
    rows = []
    for name, pubs in vm.PUBLISHED_TOP1.items():
        claim = vm.SOURCE_CLAIMS[name]
        for k, p in enumerate(pubs):
            rows.append([vm.MODELS[name].display if k == 0 else "",
                         f"{claim['top1']}" if k == 0 else "", f"{p.top1:g}", p.weights, p.eval,
                         p.source])
    return markdown_table(["model", "source says", "published top-1 %", "weights / recipe",
                           "evaluation", "where from"], rows,
                          "4. Published ImageNet-1k top-1 (not measured here: no ImageNet, "
                          "random weights)")


def gpu_table(rows: list[dict], cfg: dict) -> list[str]:
    out = []
    for r in rows:
        out.append([vm.MODELS[r["name"]].display, r["dtype"], r["format"],
                    timing_cell(r["timing"], digits=2), f"{r['images_per_s']:.0f}",
                    f"{r['tflops']:.1f}", f"{r['peak_bytes'] / 2**30:.2f}",
                    f"{r['forward_peak_bytes'] / 2**30:.2f}"])
    return markdown_table(["model", "dtype", "layout", "ms median (IQR)", "images/s", "TFLOP/s",
                           "peak GiB (all allocated)", "forward GiB"], out,
                          f"5. GPU, batch {cfg['gpu_batch']}, CUDA events, inference_mode")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="batch 1-2, one repeat (smoke test)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: every usable core; 1 with --quick, whose "
                         "smoke test shares the cores with other tests -- OpenMP threads that "
                         "wait for a busy core slow a forward down many times over)")
    ap.add_argument("--no-gpu", action="store_true", help="skip the GPU part even with CUDA")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for the results (default benchmarks/results; --quick writes "
                         "nothing unless --out is given)")
    args = ap.parse_args(argv)
    q = args.quick
    if args.threads is None:
        args.threads = 1 if q else len(os.sched_getaffinity(0))
    if args.threads < 1:
        ap.error(f"--threads must be >= 1, got {args.threads}")
    cfg = QUICK if q else FULL
    out_dir = args.out if args.out is not None else (None if q else ROOT / "benchmarks/results")
    torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    use_gpu = torch.cuda.is_available() and not args.no_gpu
    t_start = time.perf_counter()
    load0 = os.getloadavg()
    machine = machine_record()
    info = legacy_machine_dict(machine)
    size = cfg["image_size"]
    config = {"threads": threads, "image_size": size, "dtype": "float32",
              "latency_batches": list(cfg["latency_batches"]),
              "memory_batches": list(cfg["memory_batches"]),
              "repeats": {str(k): v for k, v in cfg["repeats"].items()},
              "statistic": "median (IQR) of round-robin repeats after one warm-up each",
              "weights": "random (torchvision init, seed 0)"}
    record = new_record("models_cpu", quick=q, machine=machine, config=config)
    bar = Progress(3 + len(vm.MODELS) * len(cfg["memory_batches"]), "models", enabled=not q)

    models = {name: vm.build(name, image_size=size) for name in vm.MODELS}
    bar.update(note="built")
    counts = counts_section(record, models, size)
    bar.update(note="counts")
    lat = latency_section(record, models, counts, cfg, threads)
    bar.update(note="latency")
    del models                      # the memory runs happen in their own processes
    mem = memory_section(record, counts, cfg, threads, bar)

    gpu_rows, gpu_md = [], []
    if use_gpu:
        gpu_record = new_record("models_gpu", quick=q, machine=machine,
                                config={**config, "batch": cfg["gpu_batch"],
                                        "dtypes": ["float32", "float16"],
                                        "timing": "CUDA events (course_lib.bench.cuda_timing)"})
        for name, c in counts.items():
            add_result(gpu_record, name, params={"section": "counts"}, image_size=size, **c)
        gpu_rows = gpu_section(gpu_record, counts, cfg, threads)
        gpu_md = gpu_table(gpu_rows, cfg)

    elapsed = time.perf_counter() - t_start
    load1 = os.getloadavg()
    noisy = max(load0[0], load1[0]) > info["cores"]
    md = [f"# Image classifiers of 16.6 on this machine ({'quick' if q else 'full'} run)", "",
          f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, PyTorch "
          f"{info.get('torch')} ({threads} threads), torchvision "
          f"{vm.import_torchvision().__version__}.", "",
          f"Models: torchvision's, random weights, eval mode, {size}x{size} input, float32. "
          "FLOPs: 2 per multiply-accumulate of the convolutions, linear layers and attention "
          "matmuls (FlopCounterMode with every matmul visible; normalisation, activations, "
          "softmax, pooling and additions are not counted). The source's table: NVIDIA A100 "
          "40GB, batch 32, precision not stated.", ""]
    md += count_table(counts, size) + latency_table(lat, cfg, threads)
    md += memory_table(mem, counts, cfg)
    md += ["Peak: resident-set high-water mark of one forward in a fresh process, above the "
           "level before the model was built (weights + input + working memory); in brackets "
           "the forward's own part. '-': not measured in this run. Largest activation: the "
           "biggest single intermediate tensor (analytic), a lower bound on working memory.", ""]
    md += published_table()
    md += gpu_md
    busy = (f"Load average (1 min) at start/end: {load0[0]:.1f} / {load1[0]:.1f} on "
            f"{info['cores']} cores" + (" -- above the core count: other processes shared the "
                                        "CPU and times are noisy." if noisy else
                                        " -- the machine was otherwise quiet."))
    md += [f"Run time: {elapsed:.0f} s. {busy}", ""]
    text = "\n".join(md)
    print(text)

    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        record["config"].update(run_time_s=elapsed, load_average_1min_start_end=[load0[0],
                                                                                 load1[0]])
        paths = [write_record(record, out_dir)]
        if use_gpu:
            gpu_record["config"].update(run_time_s=elapsed)
            paths.append(write_record(gpu_record, out_dir))
            (out_dir / "models_gpu.md").write_text("\n".join(md[:6] + gpu_md))
        summary = {"machine": info | {"loadavg_1min_start_end": [load0[0], load1[0]]},
                   "threads": threads, "image_size": size, "dtype": "float32",
                   "quick": q, "run_time_s": elapsed,
                   "models": {name: {"display": vm.MODELS[name].display,
                                     "family": vm.MODELS[name].family, **counts[name],
                                     "latency": {str(b): {k: v for k, v in r.items()
                                                          if k != "timing"}
                                                 for b, r in lat[name].items()},
                                     "memory": {str(b): r for b, r in mem[name].items()},
                                     "published_top1": [dataclasses.asdict(p) for p in
                                                        vm.PUBLISHED_TOP1[name]],
                                     "source_claims": vm.SOURCE_CLAIMS[name]}
                              for name in vm.MODELS}}
        (out_dir / "models_cpu.md").write_text(text)
        (out_dir / "models_cpu.json").write_text(json.dumps(summary, indent=1) + "\n")
        print(f"wrote {out_dir / 'models_cpu.md'}, models_cpu.json and "
              + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""16.6: an LSTM and a Transformer language model of similar size, measured side by side.

    .venv/bin/python benchmarks/bench_lm.py            # full run (CPU), writes benchmarks/results/
    .venv/bin/python benchmarks/bench_lm.py --quick    # tiny models, seconds, writes nothing
    python benchmarks/bench_lm.py --only gpu           # on a CUDA machine: the GPU tables only
    .venv/bin/python benchmarks/bench_lm.py --quick --gpu-dry-run   # GPU logic, on the CPU

Models (:mod:`course_lib.lm`): ``SOURCE_SIZED_LSTM`` (2 layers, 49.6 M parameters) and
``SOURCE_SIZED_TRANSFORMER`` (6 layers, decoder-only, 68.7 M), float32 on the CPU.

Tables:

(a) parameters, counted on the module and from the config (:mod:`course_lib.lm.counts`);
(b) full-sequence throughput at T = 512: tokens/s of a forward (``inference_mode``) and of
    a training step (forward + cross-entropy + backward, no optimizer update), all four
    callables timed round-robin (:func:`course_lib.bench.time_interleaved`);
(c) generation, ms per decoding step (one new token for each of the B sequences; the
    record's ``ms_per_token`` is this per-step time) at several contexts n: the LSTM
    carrying (h, c), the Transformer reading its KV cache, and the Transformer recomputing the whole
    prefix of n + 1 tokens (only where B·(n + 1) is small enough for the time budget).
    A decode step's cost does not depend on the cached values, so the cache is filled
    with random keys/values (length n) instead of running an n-token prefill;
(d) peak memory of one inference forward at T = 128 ... 2048 (batch 1), each point in a
    fresh subprocess (resident-set high-water mark, :func:`course_lib.bench.measure_memory`,
    after a warm-up forward of 8 tokens), beside the analytic estimate of the live tensors;
    the Transformer with the math SDPA backend (stores the T×T scores) and the flash one.

Times are the fastest of round-robin repeats (each row measured side by side); records
keep every sample.  FLOPs are analytic (matrix products only, causal half skipped,
training step = 3 × forward).  No perplexity is reported: that needs a corpus and
training, not a benchmark.

With CUDA present (``--only gpu`` or the default ``--only all``), the same tables run on
the GPU at the source's batch 32, sequence 512, float16, with every SDPA backend that
runs (flash included), CUDA-event timing (:func:`course_lib.bench.cuda_timing.time_cuda`)
and ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``; record
``lm_gpu``.  ``--gpu-dry-run`` runs that code path on the CPU with the tiny models and a
wall-clock timer (its record, written only with ``--out``, says ``dry_run``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _threads import pin_threads  # noqa: E402  (before NumPy loads its BLAS)

THREADS = pin_threads(default=None)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_lib.bench import (Progress, legacy_machine_dict, machine_record,  # noqa: E402
                              measure_memory, new_record, time_cpu, time_interleaved,
                              write_record)
from course_lib.bench.records import add_result  # noqa: E402
from course_lib.lm import (SOURCE_SIZED_LSTM, SOURCE_SIZED_TRANSFORMER,  # noqa: E402
                           LSTMLanguageModel, LSTMLMConfig, TransformerLanguageModel,
                           TransformerLMConfig)
from course_lib.lm import counts  # noqa: E402

QUICK_LSTM = LSTMLMConfig(vocab=512, d_embed=64, hidden=64, layers=2, tie_weights=True)
QUICK_TRANSFORMER = TransformerLMConfig(vocab=512, d_model=64, layers=2, heads=4, d_ff=256,
                                        max_len=128)
SOURCE_CLAIMS = {"lstm": "50M", "transformer": "65M"}   # the source's table, unchecked


def sizes(quick: bool) -> dict:
    """Every size the run uses (CPU); recorded in the record's config."""
    if quick:
        return {"seq_len": 32, "batches": [1, 2], "contexts": [8, 127], "decode_batches": [1, 2],
                "recompute_tokens": 10_000, "memory_lens": [16, 64], "repeats": 2,
                "decode_repeats": 2}
    return {"seq_len": 512, "batches": [1, 4], "contexts": [64, 512, 2047],
            "decode_batches": [1, 32], "recompute_tokens": 2100,
            "memory_lens": [128, 256, 512, 1024, 2048], "repeats": 3, "decode_repeats": 7}


def configs(quick: bool) -> tuple[LSTMLMConfig, TransformerLMConfig]:
    return (QUICK_LSTM, QUICK_TRANSFORMER) if quick else (SOURCE_SIZED_LSTM,
                                                          SOURCE_SIZED_TRANSFORMER)


def build(kind: str, cfg, dtype=torch.float32, device="cpu", backend=None, seed=0):
    torch.manual_seed(seed)
    if kind == "lstm":
        m = LSTMLanguageModel.from_config(cfg)
    else:
        m = TransformerLanguageModel.from_config(cfg, backend=backend)
    return m.to(device=device, dtype=dtype)


def random_tokens(vocab: int, batch: int, length: int, device="cpu", seed=1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (batch, length), generator=g).to(device)


# ---------------------------------------------------------------- callables


def forward_fn(model, tokens):
    def run():
        with torch.inference_mode():
            model(tokens)
    return run


def train_step_fn(model, tokens, targets):
    """Forward, next-token cross-entropy, backward (gradients kept, no update)."""
    vocab = model.config.vocab

    def run():
        model.zero_grad(set_to_none=True)
        out = model(tokens)
        logits = out[0] if isinstance(out, tuple) else out
        F.cross_entropy(logits.reshape(-1, vocab).float(), targets.reshape(-1)).backward()
    return run


def lstm_decode_fn(model, batch: int, device="cpu"):
    """One generated token per call: the state is random, its size fixed whatever n."""
    with torch.inference_mode():
        h, c = model.init_state(batch)
        state = (torch.randn_like(h), torch.randn_like(c))
    tok = random_tokens(model.config.vocab, batch, 1, device)[:, 0]

    def run():
        with torch.inference_mode():
            model.step(tok, state)
    return run


def kv_decode_fn(model, batch: int, context: int):
    """One generated token per call after ``context`` cached ones (random keys/values)."""
    with torch.inference_mode():
        cache = model.new_cache(batch, capacity=context + 1)
        cache.data.normal_()
        cache.length = context
    tok = random_tokens(model.config.vocab, batch, 1, cache.data.device)

    def run():
        with torch.inference_mode():
            model(tok, cache, start_pos=context)
    return run, cache


def recompute_fn(model, batch: int, context: int, device="cpu"):
    """One generated token per call by rerunning all context + 1 tokens (no cache)."""
    tokens = random_tokens(model.config.vocab, batch, context + 1, device)

    def run():
        with torch.inference_mode():
            model(tokens, last_only=True)
    return run


# ---------------------------------------------------------------- CPU sections


def params_section(record, lstm_cfg, tr_cfg) -> list[list]:
    rows = []
    for name, kind, cfg, analytic in (("lstm", "lstm", lstm_cfg, counts.lstm_lm_params(lstm_cfg)),
                                      ("transformer", "transformer", tr_cfg,
                                       counts.transformer_lm_params(tr_cfg))):
        model = build(kind, cfg)
        n = sum(p.numel() for p in model.parameters())
        add_result(record, name, params={"section": "params"}, parameters=n,
                   parameters_analytic=analytic, config=cfg.to_dict())
        rows.append([name, describe(cfg), f"{n / 1e6:.2f} M", f"{analytic / 1e6:.2f} M",
                     SOURCE_CLAIMS[name]])
    return rows


def describe(cfg) -> str:
    if isinstance(cfg, LSTMLMConfig):
        return (f"V={cfg.vocab}, E={cfg.d_embed}, H={cfg.hidden}, {cfg.layers} layers, "
                f"{'tied' if cfg.tie_weights else 'untied'} head")
    return (f"V={cfg.vocab}, d={cfg.d_model}, {cfg.layers} layers, {cfg.heads} heads, "
            f"d_ff={cfg.d_ff}, max_len={cfg.max_len}, tied head")


def throughput_section(record, lstm, tr, sz, res) -> list[list]:
    T, rows = sz["seq_len"], []
    res["throughput"] = []
    for B in sz["batches"]:
        toks = {k: random_tokens(m.config.vocab, B, T, seed=2) for k, m in
                (("lstm", lstm), ("transformer", tr))}
        tgts = {k: random_tokens(m.config.vocab, B, T, seed=3) for k, m in
                (("lstm", lstm), ("transformer", tr))}
        fns = {("lstm", "forward"): forward_fn(lstm, toks["lstm"]),
               ("transformer", "forward"): forward_fn(tr, toks["transformer"]),
               ("lstm", "train_step"): train_step_fn(lstm, toks["lstm"], tgts["lstm"]),
               ("transformer", "train_step"): train_step_fn(tr, toks["transformer"],
                                                            tgts["transformer"])}
        ts = time_interleaved({f"{k[0]} {k[1]}": f for k, f in fns.items()}, sz["repeats"])
        fwd = {"lstm": counts.lstm_forward_flops(lstm.config, B, T),
               "transformer": counts.transformer_forward_flops(tr.config, B, T)}
        for (name, mode) in fns:
            t = ts[f"{name} {mode}"]
            flops = fwd[name] if mode == "forward" else counts.train_step_flops(fwd[name])
            tps = B * T / t.min
            add_result(record, name, timing=t, flops=flops, tokens_per_s=tps,
                       params={"section": "throughput", "mode": mode, "batch": B, "seq_len": T,
                               "threads": THREADS})
            res["throughput"].append({"model": name, "mode": mode, "batch": B, "seq_len": T,
                                      "ms": 1e3 * t.min, "tokens_per_s": tps, "flops": flops})
        for mode in ("forward", "train_step"):
            lt, tt = ts[f"lstm {mode}"].min, ts[f"transformer {mode}"].min
            rows.append([mode, B, T, f"{1e3 * lt:.0f}", f"{B * T / lt:,.0f}",
                         f"{fwd['lstm'] * (1 if mode == 'forward' else 3) / lt / 1e9:.1f}",
                         f"{1e3 * tt:.0f}", f"{B * T / tt:,.0f}",
                         f"{fwd['transformer'] * (1 if mode == 'forward' else 3) / tt / 1e9:.1f}",
                         f"{lt / tt:.2f}"])
    return rows


def decode_section(record, lstm, tr, sz, res, bar=None) -> list[list]:
    rows, res["decode"] = [], []
    for B in sz["decode_batches"]:
        for n in sz["contexts"]:
            if n + 1 > tr.config.max_len:
                raise ValueError(f"context {n} needs max_len > {n}, the model has "
                                 f"{tr.config.max_len}")
            kv_run, cache = kv_decode_fn(tr, B, n)
            fns = {"lstm": lstm_decode_fn(lstm, B), "transformer_kv_cache": kv_run}
            if B * (n + 1) <= sz["recompute_tokens"]:
                fns["transformer_recompute"] = recompute_fn(tr, B, n)
            # a recompute of many tokens takes seconds: fewer rounds then
            slow = "transformer_recompute" in fns and B * (n + 1) > 256
            reps = min(sz["decode_repeats"], 3) if slow else sz["decode_repeats"]
            ts = time_interleaved(fns, reps)
            state = {"lstm": counts.lstm_state_bytes(lstm.config, B),
                     "transformer_kv_cache": counts.kv_cache_bytes(tr.config, B, n),
                     "transformer_recompute": 0}
            flops = {"lstm": B * counts.lstm_flops_per_token(lstm.config),
                     "transformer_kv_cache": counts.transformer_decode_flops(tr.config, n, B),
                     "transformer_recompute": counts.transformer_decode_flops(tr.config, n, B,
                                                                              cached=False)}
            for name, t in ts.items():
                add_result(record, name, timing=t, flops=flops[name], ms_per_token=1e3 * t.min,
                           state_bytes=state[name],
                           params={"section": "decode", "context": n, "batch": B})
                res["decode"].append({"model": name, "context": n, "batch": B,
                                      "ms_per_token": 1e3 * t.min, "state_bytes": state[name]})
            ms = {k: f"{1e3 * t.min:.1f}" for k, t in ts.items()}
            rows.append([n, B, ms["lstm"], ms["transformer_kv_cache"],
                         ms.get("transformer_recompute", "-"),
                         f"{state['lstm'] / 1e3:.0f} kB",
                         f"{state['transformer_kv_cache'] / 1e6:.1f} MB"])
            del cache
            if bar is not None:
                bar.update(note=f"decode n={n} B={B}")
    return rows


def memory_points(sz, quick: bool) -> list[dict]:
    pts = []
    for T in sz["memory_lens"]:
        pts.append({"model": "lstm", "seq_len": T, "batch": 1, "backend": None, "quick": quick})
        for be in ("math", "flash"):
            pts.append({"model": "transformer", "seq_len": T, "batch": 1, "backend": be,
                        "quick": quick})
    return pts


def memory_worker(specs: list[dict]) -> list[dict]:
    """Peak of one inference forward per spec (run in a fresh interpreter: see main)."""
    out = []
    for spec in specs:
        lstm_cfg, tr_cfg = configs(spec["quick"])
        cfg = lstm_cfg if spec["model"] == "lstm" else tr_cfg
        model = build(spec["model"], cfg, backend=spec["backend"])
        tokens = random_tokens(cfg.vocab, spec["batch"], spec["seq_len"])
        with torch.inference_mode():
            model(tokens[:, :8])           # first-call costs (thread pools, kernels) off the peak
            fig = measure_memory(lambda: model(tokens))
        out.append({**spec, "memory": fig.to_dict()})
        del fig
    return out


def run_memory_workers(points: list[dict], fresh: bool) -> list[dict]:
    """``fresh``: one subprocess per point (allocator reuse would hide growth); else all
    points in one subprocess (quick runs)."""
    groups = [[p] for p in points] if fresh else [points]
    results = []
    for group in groups:
        proc = subprocess.run([sys.executable, __file__, "--threads", str(THREADS),
                               "--memory-worker", json.dumps(group)],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"memory worker failed for {group}: {proc.stderr[-2000:]}")
        results += json.loads(proc.stdout.strip().splitlines()[-1])
    return results


def analytic_memory(spec: dict) -> dict:
    lstm_cfg, tr_cfg = configs(spec["quick"])
    if spec["model"] == "lstm":
        return counts.lstm_forward_activation_bytes(lstm_cfg, spec["batch"], spec["seq_len"])
    return counts.transformer_forward_activation_bytes(tr_cfg, spec["batch"], spec["seq_len"],
                                                       scores=spec["backend"] == "math")


def memory_section(record, sz, quick, res) -> list[list]:
    results = run_memory_workers(memory_points(sz, quick), fresh=not quick)
    res["memory"], by_T = [], {}
    for r in results:
        a = analytic_memory(r)
        add_result(record, r["model"], memory=r["memory"], analytic_bytes=a["total"],
                   analytic_parts=a, params={"section": "memory", "seq_len": r["seq_len"],
                                             "batch": r["batch"], "backend": r["backend"]})
        rss = r["memory"]["rss_peak_bytes"]
        res["memory"].append({"model": r["model"], "backend": r["backend"], "seq_len": r["seq_len"],
                              "batch": r["batch"], "rss_peak_bytes": rss,
                              "analytic_bytes": a["total"]})
        key = r["model"] if r["backend"] is None else f"{r['model']} {r['backend']}"
        by_T.setdefault(r["seq_len"], {})[key] = (rss, a["total"])

    def mb(v):
        return "-" if v is None else f"{v / 1e6:.0f}"
    rows = []
    for T, d in sorted(by_T.items()):
        row = [T]
        for key in ("lstm", "transformer math", "transformer flash"):
            rss, an = d.get(key, (None, None))
            row += [mb(rss), mb(an)]
        rows.append(row)
    return rows


def table(title, cols, rows, note: str | None = None) -> list[str]:
    lines = [f"### {title}", "", "| " + " | ".join(cols) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(cols))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines + ([""] + [note] if note else []) + [""]


# ---------------------------------------------------------------- GPU


def gpu_sizes(dry_run: bool) -> dict:
    if dry_run:
        return {"batch": 2, "seq_len": 16, "contexts": [8, 32], "decode_batches": [1, 2],
                "memory_lens": [16, 64], "memory_batch": 2, "repeats": 2}
    return {"batch": 32, "seq_len": 512, "contexts": [64, 512, 2047], "decode_batches": [1, 32],
            "memory_lens": [128, 256, 512, 1024, 2048], "memory_batch": 32, "repeats": 10}


def gpu_tables(record, dry_run: bool = False) -> list[str]:
    """The CPU tables on the GPU (float16, batch 32, T = 512), each SDPA backend that runs.

    ``dry_run``: tiny models on the CPU, float32, wall-clock timing, no memory figures.
    """
    if dry_run:
        device, dtype, (lstm_cfg, tr_cfg) = "cpu", torch.float32, configs(True)

        def timer(fn, repeats):
            return time_cpu(fn, repeats=repeats, warmup=1), None
    else:
        from course_lib.bench.cuda_timing import time_cuda
        device, dtype, (lstm_cfg, tr_cfg) = "cuda", torch.float16, configs(False)

        def timer(fn, repeats):
            ct = time_cuda(fn, repeats=repeats, warmup=2, backend="torch")
            return ct.timing, ct.peak_bytes
    gz = gpu_sizes(dry_run)
    B, T, reps = gz["batch"], gz["seq_len"], gz["repeats"]
    lstm = build("lstm", lstm_cfg, dtype, device)
    tr = build("transformer", tr_cfg, dtype, device)
    backends = [None, "math", "flash", "efficient"]
    common = {"device": device, "dtype": str(dtype).split(".")[1]}
    md = []

    def runs(fn) -> bool:
        try:
            fn()
            return True
        except RuntimeError as exc:          # a backend this device/dtype does not support
            print(f"  skipped: {str(exc).splitlines()[0][:120]}", file=sys.stderr, flush=True)
            return False

    # (a) parameters
    for name, m, cfg, an in (("lstm", lstm, lstm_cfg, counts.lstm_lm_params(lstm_cfg)),
                             ("transformer", tr, tr_cfg, counts.transformer_lm_params(tr_cfg))):
        add_result(record, name, params={"section": "params"},
                   parameters=sum(p.numel() for p in m.parameters()), parameters_analytic=an,
                   config=cfg.to_dict())
    # (b) throughput
    rows = []
    toks = random_tokens(lstm_cfg.vocab, B, T, device, seed=2)
    tgts = random_tokens(lstm_cfg.vocab, B, T, device, seed=3)
    ttoks = random_tokens(tr_cfg.vocab, B, T, device, seed=2)
    ttgts = random_tokens(tr_cfg.vocab, B, T, device, seed=3)
    cands = [("lstm", None, lstm, toks, tgts, counts.lstm_forward_flops(lstm_cfg, B, T))]
    cands += [("transformer", be, tr, ttoks, ttgts, counts.transformer_forward_flops(tr_cfg, B, T))
              for be in backends]
    for name, be, m, x, y, fl in cands:
        if name == "transformer":
            m.backend = be
        for mode, fn, flops in (("forward", forward_fn(m, x), fl),
                                ("train_step", train_step_fn(m, x, y), 3 * fl)):
            if not runs(fn):
                continue
            t, peak = timer(fn, reps)
            tps = B * T / t.median
            add_result(record, name, timing=t, flops=flops, tokens_per_s=tps, peak_bytes=peak,
                       params={"section": "throughput", "mode": mode, "batch": B, "seq_len": T,
                               "backend": be, **common})
            rows.append([name, be or "default", mode, f"{t.ms:.2f}", f"{tps:,.0f}",
                         f"{flops / t.median / 1e12:.1f}",
                         "-" if peak is None else f"{peak / 1e9:.2f}"])
    tr.backend = None
    md += table(f"GPU (b) full-sequence throughput, B={B}, T={T}, {common['dtype']}",
                ["model", "SDPA backend", "mode", "ms", "tokens/s", "TFLOP/s", "peak GB"], rows)
    # (c) decode
    rows = []
    for Bd in gz["decode_batches"]:
        for n in gz["contexts"]:
            if n + 1 > tr_cfg.max_len:
                continue
            cells = {}
            lfn = lstm_decode_fn(lstm, Bd, device)
            t, _ = timer(lfn, reps)
            add_result(record, "lstm", timing=t, ms_per_token=t.ms,
                       state_bytes=counts.lstm_state_bytes(lstm_cfg, Bd, dtype),
                       params={"section": "decode", "context": n, "batch": Bd, **common})
            cells["lstm"] = t.ms
            for be in (None, "flash"):
                tr.backend = be
                kfn, cache = kv_decode_fn(tr, Bd, n)
                if runs(kfn):
                    t, _ = timer(kfn, reps)
                    add_result(record, "transformer_kv_cache", timing=t, ms_per_token=t.ms,
                               state_bytes=counts.kv_cache_bytes(tr_cfg, Bd, n, dtype),
                               params={"section": "decode", "context": n, "batch": Bd,
                                       "backend": be, **common})
                    cells[f"kv {be or 'default'}"] = t.ms
                del cache
            tr.backend = None
            rfn = recompute_fn(tr, Bd, n, device)
            t, _ = timer(rfn, max(2, reps // 3))
            add_result(record, "transformer_recompute", timing=t, ms_per_token=t.ms,
                       state_bytes=0, params={"section": "decode", "context": n, "batch": Bd,
                                              **common})
            cells["recompute"] = t.ms
            rows.append([n, Bd] + [f"{cells[k]:.3f}" if k in cells else "-"
                                   for k in ("lstm", "kv default", "kv flash", "recompute")]
                        + [f"{counts.kv_cache_bytes(tr_cfg, Bd, n, dtype) / 1e6:.1f} MB"])
    md += table(f"GPU (c) ms per generated token, {common['dtype']}",
                ["context", "B", "LSTM", "Transformer + KV cache", "KV cache, flash",
                 "recompute prefix", "KV cache bytes"], rows)
    # (d) memory: allocator peak of one forward above the weights and inputs
    rows, Bm = [], gz["memory_batch"]
    for Tm in gz["memory_lens"]:
        row = [Tm]
        for name, be, m, cfg in (("lstm", None, lstm, lstm_cfg), ("transformer", "math", tr, tr_cfg),
                                 ("transformer", "flash", tr, tr_cfg)):
            if name == "transformer":
                m.backend = be
            x = random_tokens(cfg.vocab, Bm, Tm, device)
            fn = forward_fn(m, x)
            an = (counts.lstm_forward_activation_bytes(cfg, Bm, Tm, dtype) if name == "lstm" else
                  counts.transformer_forward_activation_bytes(cfg, Bm, Tm, dtype,
                                                              scores=be == "math"))
            peak = None
            if runs(fn):
                _, peak = timer(fn, 2)
            add_result(record, name, memory={"cuda_peak_bytes": peak}, analytic_bytes=an["total"],
                       params={"section": "memory", "seq_len": Tm, "batch": Bm, "backend": be,
                               **common})
            row += ["-" if peak is None else f"{peak / 1e6:.0f}", f"{an['total'] / 1e6:.0f}"]
        rows.append(row)
    tr.backend = None
    md += table(f"GPU (d) peak memory of one forward (MB), batch {Bm}, {common['dtype']}",
                ["T", "LSTM peak", "LSTM analytic", "Transformer math peak", "analytic",
                 "Transformer flash peak", "analytic"], rows)
    return md


# ---------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny models and sizes (smoke test)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="torch threads (default: all cores)")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for lm_cpu.md/.json and the harness records (default "
                         "benchmarks/results; --quick writes nothing unless --out is given)")
    ap.add_argument("--only", choices=("all", "cpu", "gpu"), default="all",
                    help="all (default): CPU tables, and GPU tables if CUDA is present")
    ap.add_argument("--gpu-dry-run", action="store_true",
                    help="also run the GPU tables' code on the CPU (tiny models, wall clock)")
    ap.add_argument("--memory-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_worker is not None:
        print(json.dumps(memory_worker(json.loads(args.memory_worker))))
        return 0
    q = args.quick
    out_dir = args.out if args.out is not None else (None if q else ROOT / "benchmarks/results")
    t_start, load0 = time.perf_counter(), os.getloadavg()
    rec_machine = machine_record()
    info = legacy_machine_dict(rec_machine)
    sz = sizes(q)
    lstm_cfg, tr_cfg = configs(q)
    text = ""
    if args.only in ("all", "cpu"):
        record = new_record("lm_cpu", quick=q, machine=rec_machine,
                            config={"threads": THREADS, "dtype": "float32", "sizes": sz,
                                    "lstm": lstm_cfg.to_dict(), "transformer": tr_cfg.to_dict(),
                                    "statistic": "min of round-robin repeats",
                                    "flops": "analytic, matmuls only, causal half skipped, "
                                             "train step = 3 x forward",
                                    "perplexity": "not measured (needs a corpus and training)"})
        res: dict = {"machine": info, "threads": THREADS, "sizes": sz,
                     "configs": {"lstm": lstm_cfg.to_dict(), "transformer": tr_cfg.to_dict()}}
        bar = Progress(3 + len(sz["contexts"]) * len(sz["decode_batches"]), "lm tables",
                       enabled=not q)
        md = []
        prow = params_section(record, lstm_cfg, tr_cfg)
        res["params"] = {r[0]: r[2] for r in prow}
        md += table("(a) Parameters", ["model", "configuration", "parameters (module)",
                                       "analytic", "source's table"], prow)
        lstm, tr = build("lstm", lstm_cfg), build("transformer", tr_cfg)
        bar.update(note="params")
        trow = throughput_section(record, lstm, tr, sz, res)
        md += table(f"(b) Full-sequence throughput, T={sz['seq_len']}, float32, {THREADS} threads",
                    ["mode", "B", "T", "LSTM ms", "LSTM tokens/s", "LSTM GFLOP/s", "Transformer ms",
                     "Transformer tokens/s", "Transformer GFLOP/s", "LSTM / Transformer time"],
                    trow, "forward: `inference_mode`; train_step: forward + cross-entropy + "
                          "backward (no optimizer update). GFLOP/s from the analytic count.")
        bar.update(note="throughput")
        drow = decode_section(record, lstm, tr, sz, res, bar)
        md += table("(c) Generation: ms per generated token after n context tokens",
                    ["context n", "B", "LSTM", "Transformer + KV cache",
                     "Transformer, recompute prefix", "LSTM state", "KV cache at n"], drow,
                    "One step generates a token for each of the B sequences: the times are ms "
                    "per step (ms per token of one sequence); divide by B for the batch's "
                    "ms per token. recompute: a forward of all n + 1 tokens per step, timed only "
                    f"where B·(n+1) <= {sz['recompute_tokens']}; '-': not timed.")
        del lstm, tr
        mrow = memory_section(record, sz, q, res)
        md += table("(d) Peak memory of one inference forward, batch 1 (MB)",
                    ["T", "LSTM RSS peak", "LSTM analytic", "Transformer math RSS peak",
                     "analytic (with T×T scores)", "Transformer flash RSS peak",
                     "analytic (no scores)"], mrow,
                    "RSS peak: growth of the resident set's high-water mark during the call, "
                    + ("each point in a fresh process" if not q else "all points in one process "
                       "(quick run)") + "; analytic: logits (B, T, V) plus the largest "
                    "moment inside a layer (`course_lib/lm/counts.py`).")
        bar.update(note="memory")
        elapsed = time.perf_counter() - t_start
        load1 = os.getloadavg()
        noisy = max(load0[0], load1[0]) > info["cores"]
        head = [f"# LSTM vs Transformer language models on the CPU ({'quick' if q else 'full'} run)",
                "", f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
                f"PyTorch {info.get('torch')}; {THREADS} torch threads.", "",
                "float32; ms = fastest of round-robin repeats (each row measured side by side). "
                "No perplexity: it needs a corpus and training, not a benchmark.", ""]
        busy = (f"Load average (1 min) at start/end: {load0[0]:.1f} / {load1[0]:.1f} on "
                f"{info['cores']} cores" + (" -- above the core count: times are noisy."
                                            if noisy else " -- the machine was otherwise quiet."))
        text = "\n".join(head + md + [f"Run time: {elapsed:.0f} s. {busy}", ""])
        print(text, flush=True)
        res["run_time_s"] = elapsed
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "lm_cpu.md").write_text(text)
            (out_dir / "lm_cpu.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
            record["config"].update(run_time_s=elapsed,
                                    load_average_1min_start_end=[load0[0], load1[0]])
            path = write_record(record, out_dir)
            print(f"wrote {out_dir / 'lm_cpu.md'}, lm_cpu.json and {path}")
    cuda = torch.cuda.is_available()
    if args.gpu_dry_run or (cuda and args.only in ("all", "gpu")):
        dry = not cuda or args.gpu_dry_run
        grec = new_record("lm_gpu", quick=q or dry, machine=rec_machine,
                          config={"dry_run": dry, "sizes": gpu_sizes(dry),
                                  "timing": "wall clock (dry run)" if dry else
                                  "CUDA events, median, allocator peak"})
        gmd = gpu_tables(grec, dry_run=dry)
        print("\n".join(["# LSTM vs Transformer language models on the GPU"
                         + (" (dry run on the CPU)" if dry else ""), ""] + gmd), flush=True)
        gpu_out = (args.out if args.out is not None else
                   None if dry else ROOT / "benchmarks/results/gpu")
        if gpu_out is not None:
            print(f"wrote {write_record(grec, gpu_out)}")
    elif args.only == "gpu":
        print("no CUDA device visible to torch: no GPU tables (use --gpu-dry-run to check the "
              "logic on the CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU benchmark of section 16.4: NumPy multi-head attention and encoder layer vs torch,
time and memory against sequence length, and flop counts of each block against time.

    .venv/bin/python benchmarks/bench_attention_cpu.py           # full run, writes benchmarks/results/
    .venv/bin/python benchmarks/bench_attention_cpu.py --quick   # tiny sizes, a few seconds

Tables:
1. d_model 512, 8 heads, sequence 128, batch 8, float32 (the size the goal is stated
   for: NumPy within 1.5x of torch): median ms of course_lib and torch, called
   alternately in one run, forward (eval; torch under inference_mode, so its fused
   fast path where it applies) and
   forward + backward (torch autograd), and the ratio.
2. Scaled dot-product attention, batch 1, 8 heads of width 64, growing sequence
   length N: ms (NumPy, torch), peak extra memory of the NumPy call (tracemalloc)
   next to the bytes of one N x N x heads float32 array -- the N^2 term.
3. The encoder layer of table 1 cut into blocks: flops of each block, its measured
   time, GFLOP/s and share of the total -- where the time goes versus where the
   arithmetic is.

Timing (median; alternating pairs), memory and the machine record come from
:mod:`course_lib.bench`; besides ``attention_cpu.json``/``.md`` (read by chapter 16.4)
each run writes a harness record ``<out>/<machine-slug>/attention_cpu[_quick].json``
with every sample, the FLOP counts and the measured roofline ceilings.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.attention import (MultiHeadAttention, TransformerEncoderLayer,  # noqa: E402
                                  scaled_dot_product_attention, split_heads, merge_heads)
from course_lib.attention.activations import relu  # noqa: E402
from course_lib.attention.blas_threads import blas_threads  # noqa: E402
from course_lib.attention.flops import attention_matrix_bytes, encoder_layer_flops  # noqa: E402
from course_lib.attention.linear import linear  # noqa: E402
from course_lib.attention.softmax import softmax_  # noqa: E402
from course_lib.bench import (Progress, legacy_machine_dict, machine_record,  # noqa: E402
                              measure_ceilings, measure_memory, new_record, time_cpu,
                              time_interleaved, write_record)
from course_lib.bench.counts import attention_bytes, attention_flops  # noqa: E402
from course_lib.bench.records import add_result  # noqa: E402

FULL = dict(batch=8, seq=128, d_model=512, heads=8, d_ff=2048, lengths=[128, 256, 512, 1024, 2048])
QUICK = dict(batch=2, seq=16, d_model=32, heads=4, d_ff=64, lengths=[16, 32, 64])


RECORD: dict | None = None      # the harness record of this run (set in main)


def _keep(name: str, t, **params) -> None:
    if RECORD is not None:
        add_result(RECORD, name, timing=t, flops=params.pop("flops", None),
                   nbytes=params.pop("nbytes", None), params=params)


def machine() -> dict:
    """The machine entry of ``attention_cpu.json`` (the keys chapter 16.4 reads)."""
    info = legacy_machine_dict(machine_record())
    try:
        info["load_average_at_start"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    return info


def timeit(fn, repeats: int, name: str | None = None, **params) -> float:
    """Median milliseconds over ``repeats`` calls, after one warm-up call."""
    t = time_cpu(fn, repeats=repeats, warmup=1)
    if name is not None:
        _keep(name, t, **params)
    return t.ms


def timeit_pair(fa, fb, repeats: int, names: tuple[str, str] | None = None,
                **params) -> tuple[float, float]:
    """Median ms of ``fa`` and of ``fb``, called alternately so that a change in the
    machine's load (it is shared) hits both sides alike."""
    ts = time_interleaved({"a": fa, "b": fb}, repeats, warmup=1)
    if names is not None:
        _keep(names[0], ts["a"], **params)
        _keep(names[1], ts["b"], **params)
    return ts["a"].ms, ts["b"].ms


def table_vs_torch(cfg: dict, reps: int) -> list[dict]:
    import torch
    B, L, E, H, F = cfg["batch"], cfg["seq"], cfg["d_model"], cfg["heads"], cfg["d_ff"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, L, E)).astype(np.float32)
    dy = rng.standard_normal((B, L, E)).astype(np.float32)
    xt, dyt = torch.from_numpy(x), torch.from_numpy(dy)
    mha = MultiHeadAttention(E, H, batch_first=True, rng=0).eval()
    tmha = mha.to_torch().eval()
    layer = TransformerEncoderLayer(E, H, F, dropout=0.1, batch_first=True, rng=0).eval()
    tlayer = layer.to_torch().eval()
    rows = []

    def add(name, ours, theirs, check):
        err = check()
        t_o, t_t = timeit_pair(ours, theirs, reps, (f"numpy: {name}", f"torch: {name}"),
                               section="1. vs torch", B=B, L=L, E=E, H=H, F=F)
        rows.append({"block": name, "numpy_ms": t_o, "torch_ms": t_t, "ratio": t_o / t_t,
                     "max_abs_diff": err})

    def mha_fb():
        out, _ = mha(x, x, x, need_weights=False)
        return mha.backward(dy)

    def tmha_fb():
        xg = xt.clone().requires_grad_(True)
        tmha(xg, xg, xg, need_weights=False)[0].backward(dyt)

    def layer_fb():
        layer(x)
        return layer.backward(dy)

    def tlayer_fb():
        xg = xt.clone().requires_grad_(True)
        tlayer(xg).backward(dyt)

    with torch.inference_mode():
        add("MHA self-attention, forward", lambda: mha(x, x, x, need_weights=False),
            lambda: tmha(xt, xt, xt, need_weights=False),
            lambda: float(np.abs(mha(x, x, x, need_weights=False)[0]
                                 - tmha(xt, xt, xt, need_weights=False)[0].numpy()).max()))
        add("encoder layer (post-LN), forward", lambda: layer(x), lambda: tlayer(xt),
            lambda: float(np.abs(layer(x) - tlayer(xt).numpy()).max()))

    def grad_err():
        xg = xt.clone().requires_grad_(True)
        tlayer(xg).backward(dyt)
        return float(np.abs(layer_fb() - xg.grad.numpy()).max())
    def mha_grad_err():
        xg = xt.clone().requires_grad_(True)
        tmha(xg, xg, xg, need_weights=False)[0].backward(dyt)
        return float(np.abs(sum(mha_fb()) - xg.grad.numpy()).max())
    add("MHA self-attention, forward + backward", mha_fb, tmha_fb, mha_grad_err)
    add("encoder layer (post-LN), forward + backward", layer_fb, tlayer_fb, grad_err)
    return rows


def table_vs_length(cfg: dict, reps: int) -> list[dict]:
    import torch
    import torch.nn.functional as F
    H, Dh = 8, 64
    rows = []
    for N in cfg["lengths"]:
        rng = np.random.default_rng(N)
        q, k, v = (rng.standard_normal((1, H, N, Dh)).astype(np.float32) for _ in range(3))
        qt, kt, vt = (torch.from_numpy(a) for a in (q, k, v))
        r = max(1, reps if N <= 512 else reps // 3)
        with blas_threads(1):   # many small per-head GEMMs, as inside MultiHeadAttention
            mem = measure_memory(scaled_dot_product_attention, q, k, v)
            with torch.inference_mode():
                t_o, t_t = timeit_pair(lambda: scaled_dot_product_attention(q, k, v),
                                       lambda: F.scaled_dot_product_attention(qt, kt, vt), r,
                                       ("numpy sdpa", "torch sdpa"), section=f"2. N={N}",
                                       N=N, heads=H, head_dim=Dh,
                                       flops=attention_flops(1, H, N, N, Dh),
                                       nbytes=attention_bytes(1, H, N, N, Dh))
        nn_bytes = attention_matrix_bytes(1, H, N)
        rows.append({"N": N, "numpy_ms": t_o, "torch_ms": t_t,
                     "flops": 4 * H * N * N * Dh, "peak_MiB": mem.traced_peak / 2**20,
                     "scores_MiB": nn_bytes / 2**20, "qkv_out_MiB": 4 * H * N * Dh * 4 / 2**20,
                     "peak_over_scores": mem.traced_peak / nn_bytes})
        if RECORD is not None:
            RECORD["results"][-2]["memory"] = mem.to_dict()
    return rows


def table_blocks(cfg: dict, reps: int) -> list[dict]:
    """Time each block of the encoder layer's forward pass separately (float32)."""
    B, L, E, H, Fd = cfg["batch"], cfg["seq"], cfg["d_model"], cfg["heads"], cfg["d_ff"]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, L, E)).astype(np.float32)
    w_in = (rng.standard_normal((3 * E, E)) / np.sqrt(E)).astype(np.float32)
    w_out = (rng.standard_normal((E, E)) / np.sqrt(E)).astype(np.float32)
    w1 = (rng.standard_normal((Fd, E)) / np.sqrt(E)).astype(np.float32)
    w2 = (rng.standard_normal((E, Fd)) / np.sqrt(Fd)).astype(np.float32)
    b3, b, bf = (np.zeros(n, np.float32) for n in (3 * E, E, Fd))
    qkv = linear(x, w_in, b3)
    qh, kh, vh = (split_heads(qkv[..., i * E:(i + 1) * E], H) for i in range(3))
    scores = np.matmul(qh, kh.swapaxes(-1, -2))
    probs = softmax_(scores.copy())
    oh = np.matmul(probs, vh)
    merged = merge_heads(oh)
    h = linear(x, w1, bf)
    layer = TransformerEncoderLayer(E, H, Fd, batch_first=True, rng=0).eval()

    def single(fn):
        def run():
            with blas_threads(1):
                return fn()
        return run
    fl = encoder_layer_flops(B, L, E, H, Fd)
    blocks = [
        ("q, k, v projections (one GEMM)", fl["attention: q projection"] * 3,
         lambda: linear(x, w_in, b3)),
        ("scores Q K^T (per head)", fl["attention: scores Q K^T"],
         single(lambda: np.matmul(qh, kh.swapaxes(-1, -2)))),
        ("softmax", fl["attention: softmax"], lambda: softmax_(scores.copy())),
        ("P V (per head)", fl["attention: P V"], single(lambda: np.matmul(probs, vh))),
        ("merge heads (copy)", 0, lambda: merge_heads(oh)),
        ("out projection", fl["attention: out projection"], lambda: linear(merged, w_out, b)),
        ("feed-forward linear1", fl["feed-forward linear1"], lambda: linear(x, w1, bf)),
        ("ReLU", fl["activation"], lambda: relu(h)),
        ("feed-forward linear2", fl["feed-forward linear2"], lambda: linear(h, w2, b)),
        ("2 LayerNorms + 2 residual adds", fl["2 LayerNorms + 2 residual adds"],
         lambda: (layer.norm1(x + x), layer.norm2(x + x))),
    ]
    rows = []
    for name, flops, fn in blocks:
        t = timeit(fn, reps, name, section="3. blocks", flops=flops)
        rows.append({"block": name, "flops": flops, "ms": t,
                     "gflops": flops / (t * 1e-3) / 1e9 if flops else None})
    total = sum(r["ms"] for r in rows)
    total_flops = sum(r["flops"] for r in rows)
    for r in rows:
        r["time_share"] = r["ms"] / total
        r["flop_share"] = r["flops"] / total_flops
    whole = timeit(lambda: layer(x), reps, "whole encoder layer forward", section="3. blocks",
                   flops=sum(r["flops"] for r in rows))
    return rows, whole


def fmt(rows1, rows2, rows3, whole, cfg, info, quick) -> str:
    out = [f"# Attention on the CPU ({'quick' if quick else 'full'} run)", "",
           f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
           f"NumPy {info['numpy']} ({info['blas']}), PyTorch {info['torch']} "
           f"({info['torch_threads']} threads); load average at start "
           f"{info.get('load_average_at_start')}", "",
           f"## 1. course_lib vs torch: batch {cfg['batch']}, sequence {cfg['seq']}, d_model "
           f"{cfg['d_model']}, {cfg['heads']} heads, d_ff {cfg['d_ff']}, float32", "",
           "| block | NumPy ms | torch ms | NumPy / torch | max abs diff |", "|---|---:|---:|---:|---:|"]
    for r in rows1:
        d = "-" if r["max_abs_diff"] != r["max_abs_diff"] else f"{r['max_abs_diff']:.1e}"
        out.append(f"| {r['block']} | {r['numpy_ms']:.1f} | {r['torch_ms']:.1f} | "
                   f"{r['ratio']:.2f} | {d} |")
    out += ["", "## 2. Scaled dot-product attention vs sequence length (batch 1, 8 heads of 64, float32)",
            "", "| N | NumPy ms | torch ms | GFLOP | NumPy peak MiB | one N x N x 8 array MiB | "
            "q, k, v, out MiB | peak / N x N array |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows2:
        out.append(f"| {r['N']} | {r['numpy_ms']:.2f} | {r['torch_ms']:.2f} | {r['flops'] / 1e9:.3f} | "
                   f"{r['peak_MiB']:.1f} | {r['scores_MiB']:.1f} | {r['qkv_out_MiB']:.1f} | "
                   f"{r['peak_over_scores']:.2f} |")
    out += ["", "## 3. Encoder-layer forward by block: flops vs time (sizes of table 1)", "",
            "| block | MFLOP | ms | GFLOP/s | share of flops | share of time |",
            "|---|---:|---:|---:|---:|---:|"]
    for r in rows3:
        g = "-" if r["gflops"] is None else f"{r['gflops']:.1f}"
        out.append(f"| {r['block']} | {r['flops'] / 1e6:.1f} | {r['ms']:.2f} | {g} | "
                   f"{100 * r['flop_share']:.1f}% | {100 * r['time_share']:.1f}% |")
    out += ["", f"Sum of the blocks: {sum(r['ms'] for r in rows3):.1f} ms; the whole layer "
            f"forward in the same run: {whole:.1f} ms.", ""]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, few repeats (smoke test)")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for attention_cpu.{md,json} (default benchmarks/results; "
                         "--quick writes nothing unless --out is given)")
    ap.add_argument("--reps", type=int, default=None)
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    reps = args.reps or (2 if args.quick else 9)
    global RECORD
    info = machine()
    RECORD = new_record("attention_cpu", quick=args.quick, config=dict(cfg, repeats=reps),
                        ceilings=measure_ceilings(quick=args.quick))
    with Progress(3, "attention tables", enabled=not args.quick) as bar:
        rows1 = table_vs_torch(cfg, reps)
        bar.update(note="vs torch")
        rows2 = table_vs_length(cfg, reps)
        bar.update(note="vs length")
        rows3, whole = table_blocks(cfg, reps)
        bar.update(note="blocks")
    md = fmt(rows1, rows2, rows3, whole, cfg, info, args.quick)
    print(md)
    out_dir = args.out or (None if args.quick else ROOT / "benchmarks" / "results")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            info["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
        except OSError:
            pass
        (out_dir / "attention_cpu.md").write_text(md)
        payload = {"machine": info, "config": cfg, "quick": args.quick, "vs_torch": rows1,
                   "vs_length": rows2, "blocks": rows3, "layer_forward_ms": whole}
        (out_dir / "attention_cpu.json").write_text(json.dumps(payload, indent=1))
        print(f"wrote {out_dir / 'attention_cpu.md'}, attention_cpu.json and "
              f"{write_record(RECORD, out_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

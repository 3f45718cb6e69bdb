""""Which implementation when", computed from measured records.

Every row of the guide is the winner of a comparison that was measured side by side
in one run (same machine, same size, round-robin timing), with the evidence: the
winner's time and how much slower the others were.  Nothing is typed in by hand, so
when a record is re-measured the guide follows it.

Inputs are the plain dicts of the JSON records (:mod:`course_lib.bench.records`) and
of the older result files (``flash_cpu.json``, the GPU check's ``bench_conv_gpu.json``).
Each function returns a list of :class:`GuideRow`; a missing record gives [].
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .committed import median_s, select


@dataclass(frozen=True)
class GuideRow:
    """One decision: on ``device``, for ``workload`` under ``condition``, use ``pick``;
    ``evidence`` gives the measured times (ratios to the winner)."""

    device: str
    workload: str
    condition: str
    pick: str
    evidence: str

    def as_tuple(self) -> tuple[str, str, str, str, str]:
        return self.device, self.workload, self.condition, self.pick, self.evidence


def fastest(times: Mapping[str, float | None]) -> tuple[str, dict[str, float]]:
    """The name with the smallest time, and every timed name's ratio to it (winner 1.0).

    Entries with None (not measured) are left out; ValueError if none is timed or a
    time is not positive.
    """
    timed = {k: float(v) for k, v in times.items() if v is not None}
    if not timed:
        raise ValueError(f"fastest needs at least one measured time, got {dict(times)!r}")
    bad = {k: v for k, v in timed.items() if not v > 0}
    if bad:
        raise ValueError(f"times must be > 0, got {bad!r}")
    best = min(timed, key=timed.get)
    return best, {k: v / timed[best] for k, v in timed.items()}


def _evidence(times: Mapping[str, float | None], unit_scale: float = 1e3,
              unit: str = "ms", slower: str = "slower") -> str:
    best, ratios = fastest(times)
    others = sorted((r, k) for k, r in ratios.items() if k != best)
    text = f"{best} {times[best] * unit_scale:.3g} {unit}"
    if others:
        text += "; " + ", ".join(f"{k} {r:.3g}x" for r, k in others) + f" {slower}"
    return text


OUR_CONV = ("direct", "im2col", "winograd F2", "winograd F4", "fft")


def conv_cpu_guide(record: Mapping | None) -> list[GuideRow]:
    """Per layer of a ``conv_cpu`` record: the fastest of our NumPy algorithms (and
    how far torch's CPU convolution is ahead), and whether ``conv2d(algo="auto")``
    picked that algorithm."""
    if record is None:
        return []
    layers = []
    for row in record.get("results", []):
        layer = (row.get("params") or {}).get("layer")
        if layer is not None and layer not in layers:
            layers.append(layer)
    rows = []
    for layer in layers:
        times = {n: median_s(next(iter(select(record, n, layer=layer)), None))
                 for n in OUR_CONV}
        if all(v is None for v in times.values()):
            continue
        best, _ = fastest(times)
        p = select(record, best, layer=layer)[0]["params"]
        k, c = p["w"][2], p["w"][1]
        torch_t = median_s(next(iter(select(record, "torch", layer=layer)), None))
        auto = next(iter(select(record, "auto: whole call", layer=layer)), None)
        ev = _evidence(times)
        if torch_t:
            f = times[best] / torch_t
            ev += (f"; torch {f:.2g}x faster than {best}" if f >= 1 else
                   f"; torch {1 / f:.2g}x slower than {best}")
        if auto and auto.get("choice"):
            ev += f"; auto picks {auto['choice']}"
        rows.append(GuideRow("CPU", f"conv {layer}", f"K={k}, C_in={c}, "
                             f"stride {p.get('stride', 1)}", best, ev))
    return rows


def conv_gpu_guide(conv: Mapping | None) -> list[GuideRow]:
    """Per layer of the GPU check's convolution benchmark: the fastest float32 path
    (our kernels vs cuDNN), and what TF32 (tensor cores, 10-bit mantissa) adds."""
    if not conv:
        return []
    rows = []
    for r in conv.get("forward", []):
        ms = r.get("ms") or {}
        fp32 = {k: ms.get(k) for k in ("naive", "tiled", "im2col", "cudnn",
                                       "cudnn_benchmark") if ms.get(k)}
        if not fp32:
            continue
        best, _ = fastest(fp32)
        cond = f"batch {r['x'][0]}, K={r['w'][2]}, C_in={r['w'][1]}"
        ev = _evidence(fp32, unit_scale=1.0)
        rows.append(GuideRow("GPU", f"conv {r['layer']}", cond + ", float32", best, ev))
        if ms.get("cudnn_tf32") and ms.get(best):
            gain = ms[best] / ms["cudnn_tf32"]
            pick = "cudnn_tf32" if gain > 1 else best
            rows.append(GuideRow("GPU", f"conv {r['layer']}", cond + ", TF32 allowed",
                                 pick, f"TF32 {ms['cudnn_tf32']:.3g} ms, {gain:.2g}x "
                                 f"the float32 {best}"))
    return rows


def attention_cpu_guide(flash: Mapping | None) -> list[GuideRow]:
    """Per sequence length of ``flash_cpu.json``: standard attention or the tiled
    (flash) one with large tiles, by time; the memory ratio beside it."""
    if not flash:
        return []
    rows = []
    for r in flash.get("rows", []):
        ms = r["ms"]
        times = {"standard": ms["standard"] / 1e3, "flash (big tiles)": ms["flash_big"] / 1e3}
        best, _ = fastest(times)
        mem = r["peak_bytes"]["flash_big"] / r["peak_bytes"]["standard"]
        rows.append(GuideRow(
            "CPU", "attention, one head E=64", f"L=S={r['L']}"
            + (", causal" if r.get("causal") else ""), best,
            _evidence(times) + f"; flash uses {mem:.2g}x the standard's memory"))
    return rows


LM_DECODERS = ("lstm", "transformer_kv_cache", "transformer_recompute")


def lm_guide(record: Mapping | None) -> list[GuideRow]:
    """From an ``lm_cpu``/``lm_gpu`` record: the fastest generator per context length
    (ms per token), and the faster model for full-sequence passes (tokens/s)."""
    if record is None:
        return []
    device = "GPU" if (record.get("machine") or {}).get("gpus") else "CPU"
    rows = []
    keys = sorted({((r["params"].get("context"), r["params"].get("batch")))
                   for r in select(record, section="decode")},
                  key=lambda t: (t[1] or 0, t[0] or 0))
    for ctx, batch in keys:
        times = {n: median_s(next(iter(select(record, n, section="decode", context=ctx,
                                              batch=batch)), None)) for n in LM_DECODERS}
        if all(v is None for v in times.values()):
            continue
        best, _ = fastest(times)
        rows.append(GuideRow(device, "generate one token", f"context {ctx}, batch {batch}",
                             best, _evidence(times, unit="ms/token")))
    shapes = sorted({(r["params"].get("mode"), r["params"].get("batch"),
                      r["params"].get("seq_len")) for r in select(record, section="throughput")},
                    key=str)
    for mode, batch, seq in shapes:
        times = {n: median_s(next(iter(select(record, n, section="throughput", mode=mode,
                                              batch=batch, seq_len=seq)), None))
                 for n in ("lstm", "transformer")}
        if all(v is None for v in times.values()):
            continue
        best, _ = fastest(times)
        rows.append(GuideRow(device, f"whole sequence ({mode})", f"T={seq}, batch {batch}",
                             best, _evidence(times)))
    return rows


def models_guide(record: Mapping | None) -> list[GuideRow]:
    """From a ``models_cpu``/``models_gpu`` record: the fastest image model per batch
    size, device and dtype (the three differ in accuracy too: the guide says speed)."""
    if record is None:
        return []
    groups = sorted({(r["params"].get("device"), r["params"].get("dtype"),
                      r["params"].get("batch")) for r in select(record, section="latency")},
                    key=str)
    rows = []
    for device, dtype, batch in groups:
        times = {r["name"]: median_s(r) for r in select(record, section="latency",
                                                        device=device, dtype=dtype,
                                                        batch=batch)}
        if all(v is None for v in times.values()):
            continue
        best, _ = fastest(times)
        rows.append(GuideRow("GPU" if device == "cuda" else "CPU", "classify images",
                             f"batch {batch}, {dtype}", best, _evidence(times)))
    return rows

"""A short run on the reader's machine, set against the committed measurements.

A :class:`Probe` repeats one committed measurement -- same benchmark, same result
name, same sizes, same thread settings -- so that the ratio

    ratio = your median time / committed median time

says how this machine compares (above 1: slower than the committed one).  Each probe
is small (tens of milliseconds per call); the whole CPU run takes a few seconds.
:func:`compare_live` does the bookkeeping on plain numbers and is what the tests check;
:func:`cpu_probes` builds the probes the chapter runs, :func:`run_probes` times them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from ..timing import Timing, time_cpu
from .committed import median_s, select


@dataclass(frozen=True)
class Probe:
    """``label``: what the reader sees; ``benchmark``/``name``/``params``: the committed
    row it repeats (``params`` a subset of that row's params); ``make``: returns the
    callable to time (built lazily: inputs are allocated only when the probe runs);
    ``flops``/``nbytes``: one call's counts, for the roofline (0: not placed)."""

    label: str
    benchmark: str
    name: str
    params: Mapping = field(default_factory=dict)
    make: Callable[[], Callable[[], object]] | None = None
    flops: float = 0.0
    nbytes: float = 0.0


def committed_seconds(probe: Probe, records: Mapping[str, Mapping | None]) -> float | None:
    """Median seconds of the committed row a probe repeats (None: no such record/row)."""
    rows = select(records.get(probe.benchmark), probe.name, **dict(probe.params))
    return median_s(rows[0]) if rows else None


def compare_live(live_s: Mapping[str, float | None], probes, records) -> list[dict]:
    """One dict per probe: ``label``, ``benchmark``, ``committed_s``, ``live_s``,
    ``ratio`` (live / committed; None when either side is missing) and ``gflops``
    (live, when the probe has a FLOP count)."""
    out = []
    for p in probes:
        ours = live_s.get(p.label)
        if ours is not None and not ours > 0:
            raise ValueError(f"live time of {p.label!r} must be > 0 seconds, got {ours!r}")
        ref = committed_seconds(p, records)
        out.append({"label": p.label, "benchmark": p.benchmark, "committed_s": ref,
                    "live_s": ours,
                    "ratio": None if ours is None or not ref else ours / ref,
                    "gflops": p.flops / ours / 1e9 if ours and p.flops else None})
    return out


def compare_ceilings(live, committed: Mapping | None) -> list[tuple[str, float, float | None,
                                                                   float | None]]:
    """(ceiling, yours, committed, yours / committed) for the matmul rate and the copy
    bandwidth; ``live`` a :class:`~course_lib.bench.roofline.Ceilings`, ``committed``
    a record's ``ceilings`` dict or None.  Higher is faster here."""
    rows = []
    for key, label in (("peak_gflops", "matmul GFLOP/s"), ("bandwidth_gbs", "copy GB/s")):
        ours = float(getattr(live, key))
        ref = None if not committed else float(committed[key])
        rows.append((label, ours, ref, None if not ref else ours / ref))
    return rows


def run_probes(probes, repeats: int = 5) -> dict[str, Timing]:
    """Time each probe's callable (one warm-up, ``repeats`` samples); probes without a
    ``make`` are skipped."""
    out = {}
    for p in probes:
        if p.make is None:
            continue
        fn = p.make()
        out[p.label] = time_cpu(fn, repeats=repeats, warmup=1)
    return out


def _one_blas_thread(fn):
    from ...attention.blas_threads import blas_threads

    def run():
        with blas_threads(1):
            return fn()
    return run


def cpu_probes() -> list[Probe]:
    """The CPU probes: two convolutions of ``conv_cpu`` (layer ``3x3 28px c128``, batch
    8, our im2col and torch) and two attentions of ``attention_cpu`` (8 heads of 64,
    L = 512, ours and torch's SDPA, one BLAS thread as there)."""
    import numpy as np

    from ..counts import (attention_bytes, attention_flops, conv2d_bytes,
                          conv2d_flops)

    x_shape, w_shape = (8, 128, 28, 28), (128, 128, 3, 3)

    def conv(which):
        def make():
            import torch
            import torch.nn.functional as F

            from ...conv import conv2d_im2col
            rng = np.random.default_rng(0)
            x = rng.standard_normal(x_shape).astype(np.float32)
            w = rng.standard_normal(w_shape).astype(np.float32)
            if which == "im2col":
                return lambda: conv2d_im2col(x, w, None, stride=1, padding=1)
            xt, wt = torch.from_numpy(x), torch.from_numpy(w)

            def run():
                with torch.inference_mode():
                    return F.conv2d(xt, wt, padding=1)
            return run
        return make

    H, N, E = 8, 512, 64

    def attn(which):
        def make():
            import torch
            import torch.nn.functional as F

            from ...attention import scaled_dot_product_attention
            rng = np.random.default_rng(N)
            q, k, v = (rng.standard_normal((1, H, N, E)).astype(np.float32)
                       for _ in range(3))
            if which == "numpy":
                return _one_blas_thread(lambda: scaled_dot_product_attention(q, k, v))
            qt, kt, vt = (torch.from_numpy(a) for a in (q, k, v))

            def run():
                with torch.inference_mode():
                    return F.scaled_dot_product_attention(qt, kt, vt)
            return _one_blas_thread(run)
        return make

    cf = conv2d_flops(x_shape, w_shape, 1, 1)
    cb = conv2d_bytes(x_shape, w_shape, 1, 1)
    af = attention_flops(1, H, N, N, E)
    ab = attention_bytes(1, H, N, N, E)
    return [
        Probe("conv 3x3, 8x128x28x28: our im2col", "conv_cpu", "im2col",
              {"layer": "3x3 28px c128"}, conv("im2col"), cf, cb),
        Probe("conv 3x3, 8x128x28x28: torch", "conv_cpu", "torch",
              {"layer": "3x3 28px c128"}, conv("torch"), cf, cb),
        Probe("attention 8x512x64: our NumPy SDPA", "attention_cpu", "numpy sdpa",
              {"section": "2. N=512"}, attn("numpy"), af, ab),
        Probe("attention 8x512x64: torch SDPA", "attention_cpu", "torch sdpa",
              {"section": "2. N=512"}, attn("torch"), af, ab),
    ]


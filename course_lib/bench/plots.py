"""Figures from benchmark measurements (matplotlib; every function returns the Figure).

* :func:`bar_chart` -- one bar per implementation at its median time, with an error
  span from the first to the third quartile (and a tick at the minimum);
* :func:`scaling_plot` -- time or memory against a size (batch, sequence length,
  channels), one line per implementation, the IQR shaded when timings are given;
* :func:`roofline_plot` -- the roofline ``min(peak, I x bandwidth)`` from this
  machine's measured ceilings (:mod:`.roofline`), the ridge, and each kernel placed at
  its arithmetic intensity and achieved GFLOP/s.

Each function draws into ``ax`` when given (to compose figures), else a new figure.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .roofline import Ceilings, attainable_gflops
from .timing import Timing

_SCALE = {"s": 1.0, "ms": 1e3, "us": 1e6}


def _axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def bar_chart(timings: Mapping[str, Timing], *, unit: str = "ms", title: str | None = None,
              logx: bool | None = None, ax=None, figsize=(6.0, 3.2)):
    """Horizontal bars of median time per name, error span = IQR, dot = fastest run.

    ``logx``: logarithmic time axis; None (default) uses one when the medians span
    more than 30x, so that the fast bars stay visible next to a naive loop.
    """
    if not timings:
        raise ValueError("timings must hold at least one Timing")
    if unit not in _SCALE:
        raise ValueError(f"unit must be one of {sorted(_SCALE)}, got {unit!r}")
    k = _SCALE[unit]
    names = list(timings)
    med = np.array([timings[n].median for n in names]) * k
    q = np.array([timings[n].quartiles for n in names]) * k
    err = np.vstack([med - q[:, 0], q[:, 1] - med])
    fig, ax = _axes(ax, figsize)
    y = np.arange(len(names))
    ax.barh(y, med, xerr=err, color="#4c72b0", ecolor="black", capsize=3,
            label="median (IQR span)")
    ax.plot([timings[n].min * k for n in names], y, "o", color="#dd8452", ms=4,
            label="fastest run")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    if logx is None:
        logx = med.max() > 30 * med.min() > 0
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(f"time per call ({unit})")
    # under the axes: inside, it would cover the longest bar
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16 * 3.2 / fig.get_figheight()),
              ncol=2, fontsize="small", frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def scaling_plot(sizes: Sequence[float], series: Mapping[str, Sequence], *, xlabel: str,
                 ylabel: str = "time per call (ms)", unit: str = "ms", logx: bool = True,
                 logy: bool = True, title: str | None = None, ax=None, figsize=(6.0, 3.6)):
    """One line per series against ``sizes``.  A series holds Timings (plotted at the
    median in ``unit`` with the IQR shaded) or plain numbers (plotted as given, e.g.
    bytes); None entries are skipped (a size that was not run)."""
    if not series:
        raise ValueError("series must hold at least one line")
    k = _SCALE.get(unit, 1.0)
    fig, ax = _axes(ax, figsize)
    for name, values in series.items():
        if len(values) != len(sizes):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(sizes)} sizes")
        pts = [(s, v) for s, v in zip(sizes, values) if v is not None]
        xs = np.array([p[0] for p in pts], dtype=float)
        if pts and isinstance(pts[0][1], Timing):
            med = np.array([v.median for _, v in pts]) * k
            q = np.array([v.quartiles for _, v in pts]) * k
            line, = ax.plot(xs, med, "o-", label=name)
            ax.fill_between(xs, q[:, 0], q[:, 1], color=line.get_color(), alpha=0.25)
        else:
            ax.plot(xs, [float(v) for _, v in pts], "o-", label=name)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def roofline_plot(ceilings: Ceilings, kernels: Sequence[Mapping] = (), *,
                  title: str | None = None, ax=None, figsize=(8.0, 4.0)):
    """The roofline of ``ceilings`` with ``kernels`` placed on it.

    ``kernels``: dicts with ``name``, ``intensity`` (FLOP/byte) and ``gflops``
    (achieved), e.g. from :func:`course_lib.bench.roofline.place`.
    """
    P, W = ceilings.peak_gflops, ceilings.bandwidth_gbs
    ridge = ceilings.ridge
    ais = [float(kn["intensity"]) for kn in kernels] + [ridge]
    lo = min(min(ais) / 4, ridge / 64)
    hi = max(max(ais) * 4, ridge * 16)
    x = np.geomspace(lo, hi, 200)
    fig, ax = _axes(ax, figsize)
    ax.plot(x, attainable_gflops(x, P, W), "k-", lw=2, label="attainable (measured ceilings)")
    ax.axvline(ridge, color="grey", ls=":", lw=1)
    ax.annotate(f"ridge {ridge:.1f} FLOP/B", (ridge, P), textcoords="offset points",
                xytext=(4, -14), fontsize="small", color="grey")
    ax.text(x[0], P * 1.08, f"matmul {P:.0f} GFLOP/s", fontsize="small")
    ax.text(x[5], attainable_gflops(x[5], P, W) * 1.3, f"copy {W:.1f} GB/s",
            fontsize="small", rotation=0)
    for kn in kernels:
        ax.plot(kn["intensity"], kn["gflops"], "o", ms=6, label=kn["name"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP per byte)")
    ax.set_ylabel("GFLOP/s")
    ax.grid(True, which="both", alpha=0.3)
    # outside the axes: the points sit near the roof, where a legend inside would cover them
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


_GROUP_KEYS = ("layer", "section", "part")


def figures_from_record(record: dict) -> dict:
    """The standard figures of a :mod:`course_lib.bench.records` record.

    * ``"bars: <group>"`` -- one bar chart per group of timed results (grouped by the
      ``layer``, ``section`` or ``part`` parameter, else all together);
    * ``"roofline"`` -- when the record has ceilings and results with FLOP and byte
      counts: each such result placed on this machine's roofline (label
      ``name @ group``).
    """
    groups: dict = {}
    points = []
    timed = [r for r in record["results"] if r.get("timing")]

    def group_of(r):
        params = r.get("params") or {}
        return next((str(params[k]) for k in _GROUP_KEYS if k in params), "all")

    seen: dict = {}
    for r in timed:
        key = (group_of(r), r["name"])
        seen[key] = seen.get(key, 0) + 1
    for r in timed:
        t = Timing.from_dict(r["timing"])
        group = group_of(r)
        label = r["name"]
        if seen[(group, label)] > 1:          # the same name at several sizes: name the size
            params = r.get("params") or {}
            label += " (" + ", ".join(f"{k}={v}" for k, v in params.items()
                                      if k not in _GROUP_KEYS) + ")"
        groups.setdefault(group, {})[label] = t
        if r.get("flops") and r.get("bytes"):
            points.append({"name": f"{r['name']} @ {group}", "intensity": r["flops"] / r["bytes"],
                           "gflops": r["flops"] / t.median / 1e9})
    figs = {}
    for group, ts in groups.items():
        figs[f"bars: {group}"] = bar_chart(ts, title=f"{record['benchmark']}: {group}",
                                           figsize=(7.0, 0.45 * len(ts) + 1.8))
    if record.get("ceilings") and points:
        c = record["ceilings"]
        figs["roofline"] = roofline_plot(
            Ceilings(c["peak_gflops"], c["bandwidth_gbs"]), points,
            title=f"{record['benchmark']} on {record['machine'].get('cpu', '?')}")
    return figs

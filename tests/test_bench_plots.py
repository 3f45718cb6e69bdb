"""course_lib.bench.plots draws what it says, headless (Agg)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

from course_lib.bench.plots import bar_chart, roofline_plot, scaling_plot  # noqa: E402
from course_lib.bench.roofline import Ceilings  # noqa: E402
from course_lib.bench.timing import Timing  # noqa: E402

T = {"naive": Timing((0.30, 0.32, 0.35, 0.31)), "im2col": Timing((0.010, 0.012, 0.011)),
     "torch": Timing((0.005, 0.006))}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_bars_with_iqr_spans():
    fig = bar_chart(T, unit="ms", title="t")
    ax = fig.axes[0]
    bars = [p for p in ax.patches]
    assert len(bars) == 3
    for bar, name in zip(bars, T):
        s = np.array(T[name].samples)
        assert bar.get_width() == pytest.approx(1e3 * np.median(s))
    err = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(err) == 1
    # the span of the first bar runs from q1 to q3 of its samples
    segs = err[0].lines[2][0].get_segments()
    s = np.array(T["naive"].samples)
    assert segs[0][0][0] == pytest.approx(1e3 * np.percentile(s, 25))
    assert segs[0][1][0] == pytest.approx(1e3 * np.percentile(s, 75))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(T)


def test_scaling_curves():
    sizes = [1, 2, 4]
    series = {"ours": [Timing((0.001 * n, 0.0012 * n)) for n in sizes],
              "bytes": [10.0, 20.0, None]}
    fig = scaling_plot(sizes, series, xlabel="batch")
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.1 * n for n in sizes])
    np.testing.assert_allclose(ax.lines[1].get_xdata(), [1, 2])     # None skipped
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1   # IQR band
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "batch"
    with pytest.raises(ValueError, match="3 sizes"):
        scaling_plot(sizes, {"x": [1, 2]}, xlabel="b")


def test_roofline_with_kernels():
    c = Ceilings(100.0, 10.0)
    kernels = [{"name": "softmax", "intensity": 0.5, "gflops": 3.0},
               {"name": "gemm", "intensity": 60.0, "gflops": 80.0}]
    fig = roofline_plot(c, kernels)
    ax = fig.axes[0]
    roof = ax.lines[0]
    x, y = roof.get_xdata(), roof.get_ydata()
    np.testing.assert_allclose(y, np.minimum(100.0, x * 10.0))
    assert x.min() <= 0.5 / 4 * 1.0001 and x.max() >= 60.0 * 4 * 0.9999
    pts = {ln.get_label(): (ln.get_xdata()[0], ln.get_ydata()[0]) for ln in ax.lines[2:]}
    assert pts == {"softmax": (0.5, 3.0), "gemm": (60.0, 80.0)}
    assert ax.lines[1].get_xdata()[0] == pytest.approx(10.0)          # the ridge
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_draws_into_a_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert bar_chart(T, ax=axes[1]) is fig
    assert len(axes[1].patches) == 3 and len(axes[0].patches) == 0
    with pytest.raises(ValueError, match="unit"):
        bar_chart(T, unit="h")


def test_bars_switch_to_a_log_axis_for_a_wide_range():
    wide = {"naive": Timing((1.0,)), "fast": Timing((0.001,))}
    assert bar_chart(wide).axes[0].get_xscale() == "log"
    assert bar_chart(T, logx=False).axes[0].get_xscale() == "linear"


def _record():
    from course_lib.bench.records import add_result, new_record
    machine = {"cpu": "Test CPU", "cores": 2, "gpus": None}     # no torch import needed
    rec = new_record("demo", machine=machine, ceilings=Ceilings(50.0, 5.0))
    for layer in ("a", "b"):
        for name, s in (("im2col", 0.01), ("torch", 0.005)):
            add_result(rec, name, timing=Timing((s, 1.1 * s)), flops=1e8, nbytes=1e6,
                       params={"layer": layer})
    add_result(rec, "naive (extrapolated)", params={"layer": "a"})    # untimed: no bar
    return rec


def test_figures_from_a_record():
    from course_lib.bench.plots import figures_from_record
    rec = _record()
    from course_lib.bench.records import add_result
    for n in (1, 2):        # one name at two sizes in one section: both bars, told apart
        add_result(rec, "ours", timing=Timing((0.001 * n,)), params={"section": "c", "n": n})
    figs = figures_from_record(rec)
    assert set(figs) == {"bars: a", "bars: b", "bars: c", "roofline"}
    assert [t.get_text() for t in figs["bars: c"].axes[0].get_yticklabels()] == \
        ["ours (n=1)", "ours (n=2)"]
    assert len(figs["bars: a"].axes[0].patches) == 2
    pts = {ln.get_label(): (ln.get_xdata()[0], ln.get_ydata()[0])
           for ln in figs["roofline"].axes[0].lines[2:]}
    assert pts["im2col @ a"] == pytest.approx((1e8 / 1e6, 1e8 / (1.05 * 0.01) / 1e9))


def test_command_line_plot(tmp_path):
    from course_lib.bench.__main__ import main
    from course_lib.bench.records import write_record
    path = write_record(_record(), tmp_path)
    assert main(["plot", str(path), "--out", str(tmp_path / "figs")]) == 0
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert names == ["demo_bars_a.png", "demo_bars_b.png", "demo_roofline.png"]

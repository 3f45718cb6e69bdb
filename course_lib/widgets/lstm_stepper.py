"""Step an LSTM through one sequence and watch its gates and cell state.

:func:`lstm_trace` runs a :class:`course_lib.rnn.LSTM` (one layer) on one unbatched
sequence and returns every step's gate activations and states; :func:`draw_lstm_step`
draws step t (gates as heat rows, c_t and h_t as bars, the cell state's history as
lines); :func:`lstm_stepper` wraps the drawing in a slider.  The drawing is a plain
function so the static book can show it without a running kernel.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

GATE_NAMES = ("i (input)", "f (forget)", "g (candidate)", "o (output)")


def lstm_trace(lstm, x: np.ndarray) -> dict[str, np.ndarray]:
    """Run a one-layer LSTM on x (T, I) -> {"gates": (T, 4, H) in order i, f, g, o,
    "c": (T+1, H), "h": (T+1, H), "x": (T, I)}; index 0 of c and h is the zero state."""
    if lstm.num_layers != 1:
        raise ValueError(f"lstm_trace shows one layer; got num_layers={lstm.num_layers}")
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be one unbatched sequence (T, I), got shape {x.shape}")
    lstm(x)
    cache = lstm._caches[0]
    T, _, H4 = cache.acts.shape
    H = H4 // 4
    acts = cache.acts[:, 0].reshape(T, 4, H)[:, list(cache.blocks)]   # -> i, f, g, o
    return {"gates": acts.copy(), "c": cache.c[:, 0].copy(), "h": cache.h[:, 0].copy(),
            "x": x.copy()}


def draw_lstm_step(trace: dict[str, np.ndarray], t: int, fig=None):
    """Draw step t (1..T) of a :func:`lstm_trace`; return the figure.

    Left: the four gate activations at step t, one row each (i, f, o in [0, 1],
    g in [-1, 1]).  Middle: c_{t-1}, c_t and h_t per unit.  Right: every unit's
    cell state over time, with step t marked.
    """
    gates, c, h = trace["gates"], trace["c"], trace["h"]
    T, _, H = gates.shape
    if not 1 <= t <= T:
        raise ValueError(f"t must be in 1..{T}, got {t}")
    if fig is None:
        fig = plt.figure(figsize=(11, 3.6))
    ax_g, ax_s, ax_c = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.2, 1.2, 1.6]})
    im = ax_g.imshow(gates[t - 1], cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax_g.set_yticks(range(4), GATE_NAMES)
    ax_g.set_xlabel("hidden unit")
    ax_g.set_title(f"gate activations at t = {t}")
    fig.colorbar(im, ax=ax_g, fraction=0.05)
    units = np.arange(H)
    w = 0.28
    ax_s.bar(units - w, c[t - 1], w, label="$c_{t-1}$", color="0.7")
    ax_s.bar(units, c[t], w, label="$c_t$", color="tab:blue")
    ax_s.bar(units + w, h[t], w, label="$h_t$", color="tab:orange")
    ax_s.axhline(0, color="k", lw=0.6)
    ax_s.set_xlabel("hidden unit")
    ax_s.set_title("states")
    ax_s.legend(fontsize=8, loc="upper right")
    ax_c.plot(np.arange(T + 1), c, lw=1)
    ax_c.axvline(t, color="k", ls="--", lw=1)
    ax_c.set_xlabel("time step")
    ax_c.set_ylabel("$c_t$ per unit")
    ax_c.set_title("cell state over the sequence")
    fig.tight_layout()
    return fig


def lstm_stepper(trace: dict[str, np.ndarray], t: int = 1):
    """A slider over the steps of a trace, redrawing :func:`draw_lstm_step`.

    Returns an ``ipywidgets.VBox``; the figure for the starting step is drawn at
    creation, so it is stored in the executed notebook.
    """
    import ipywidgets as widgets
    from IPython.display import display

    T = trace["gates"].shape[0]
    slider = widgets.IntSlider(value=t, min=1, max=T, description="step t",
                               continuous_update=False)
    out = widgets.Output()

    def draw(change=None):
        with out:
            out.clear_output(wait=True)
            fig = draw_lstm_step(trace, slider.value)
            display(fig)
            plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([slider, out])

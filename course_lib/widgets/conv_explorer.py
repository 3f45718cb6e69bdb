"""Which input cells does one convolution output see?

:func:`draw_conv_window` draws the zero-padded input grid of a square H x H input, the
K x K window that output ``(i, j)`` reads, and the rows/columns that no window ever
reaches; :func:`conv_explorer` wraps it in sliders.  The drawing is a plain function so a
static book can show it without a kernel.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from .._validate import conv_output_size


def window_of_output(i: int, kernel: int, stride: int) -> range:
    """Padded-input indices read by output index ``i`` along one axis: ``i*s, ..., i*s + K - 1``."""
    return range(i * stride, i * stride + kernel)


def _check(H: int, K: int, stride: int, padding: int) -> int:
    if H < 1 or K < 1 or stride < 1 or padding < 0:
        raise ValueError(f"need H >= 1, K >= 1, stride >= 1, padding >= 0; got "
                         f"H={H}, K={K}, stride={stride}, padding={padding}")
    if K > H + 2 * padding:
        raise ValueError(f"kernel K={K} is larger than the padded input H+2p={H + 2 * padding}")
    return conv_output_size(H, K, stride, padding)


def draw_conv_window(H: int = 7, K: int = 3, stride: int = 2, padding: int = 1,
                     out_row: int = 0, out_col: int = 0, fig=None):
    """Draw the padded input (left) and the output grid (right); return the figure.

    Grey cells hold padding zeros, the blue square is the window of output
    ``(out_row, out_col)``, and red hatching marks padded rows/columns that no window
    reaches because ``(H + 2p - K) % s != 0`` (the floor in the output-size formula).
    """
    OH = _check(H, K, stride, padding)
    if not (0 <= out_row < OH and 0 <= out_col < OH):
        raise ValueError(f"output index ({out_row}, {out_col}) is outside the {OH}x{OH} output")
    Hp = H + 2 * padding
    reach = (OH - 1) * stride + K          # padded rows/cols 0 .. reach-1 are ever read
    if fig is None:
        fig = plt.figure(figsize=(9, 4.6))
    ax_in, ax_out = fig.subplots(1, 2, gridspec_kw={"width_ratios": [Hp, max(OH, 3)]})

    for r in range(Hp):
        for c in range(Hp):
            is_pad = not (padding <= r < padding + H and padding <= c < padding + H)
            ax_in.add_patch(Rectangle((c, r), 1, 1, facecolor="0.85" if is_pad else "white",
                                      edgecolor="0.55", lw=0.8))
            if r >= reach or c >= reach:
                ax_in.add_patch(Rectangle((c, r), 1, 1, fill=False, hatch="///",
                                          edgecolor="tab:red", lw=0))
            if is_pad and Hp <= 16:
                ax_in.text(c + 0.5, r + 0.5, "0", ha="center", va="center", color="0.5",
                           fontsize=8)
    rows = window_of_output(out_row, K, stride)
    cols = window_of_output(out_col, K, stride)
    ax_in.add_patch(Rectangle((cols.start, rows.start), K, K, facecolor="tab:blue", alpha=0.35,
                              edgecolor="tab:blue", lw=2.5))
    ax_in.add_patch(Rectangle((padding, padding), H, H, fill=False, edgecolor="black", lw=2))
    ax_in.set_title(f"padded input {Hp}x{Hp} (H={H}, p={padding})\n"
                    f"window of y[{out_row}, {out_col}]: rows {rows.start}..{rows.stop - 1}, "
                    f"cols {cols.start}..{cols.stop - 1}", fontsize=10)

    for r in range(OH):
        for c in range(OH):
            on = (r, c) == (out_row, out_col)
            ax_out.add_patch(Rectangle((c, r), 1, 1, facecolor="tab:blue" if on else "white",
                                       alpha=0.6 if on else 1, edgecolor="0.4", lw=0.8))
    ax_out.set_title(f"output {OH}x{OH}\nfloor(({H}+2*{padding}-{K})/{stride}) + 1 = {OH}",
                     fontsize=10)
    for ax, n in ((ax_in, Hp), (ax_out, max(OH, 3))):
        ax.set_xlim(-0.1, n + 0.1)
        ax.set_ylim(n + 0.1, -0.1)   # row 0 at the top, like an array
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
    left = (H + 2 * padding - K) % stride
    note = (f"(H+2p-K) % s = {left}: the last {left} padded row(s)/col(s) are never read (red)"
            if left else "(H+2p-K) % s = 0: every padded row/col is read")
    fig.text(0.5, 0.02, note, ha="center", fontsize=10)
    return fig


def conv_explorer(H: int = 7, K: int = 3, stride: int = 2, padding: int = 1):
    """Sliders for H, K, stride, padding and the output index, redrawing :func:`draw_conv_window`.

    Returns an ``ipywidgets.VBox``.  The figure for the starting values is drawn when the
    widget is created, so it is stored in the notebook (and the built book) even without a
    running kernel.
    """
    import ipywidgets as widgets
    from IPython.display import display

    def slider(name, value, lo, hi):
        return widgets.IntSlider(value=value, min=lo, max=hi, description=name,
                                 continuous_update=False,
                                 style={"description_width": "70px"})

    sH, sK = slider("H", H, 1, 12), slider("K", K, 1, 7)
    ss, sp = slider("stride s", stride, 1, 4), slider("padding p", padding, 0, 3)
    OH = _check(H, K, stride, padding)
    si, sj = slider("out row i", 0, 0, OH - 1), slider("out col j", 0, 0, OH - 1)

    def refit(_change=None):
        # keep the output-index sliders inside the current output size
        try:
            oh = _check(sH.value, sK.value, ss.value, sp.value)
        except ValueError:
            return
        for s in (si, sj):
            s.value = min(s.value, oh - 1)
            s.max = oh - 1

    for s in (sH, sK, ss, sp):
        s.observe(refit, names="value")

    def draw(H, K, stride, padding, out_row, out_col):
        try:
            OH = _check(H, K, stride, padding)
        except ValueError as exc:
            print(exc)
            return
        fig = draw_conv_window(H, K, stride, padding, min(out_row, OH - 1), min(out_col, OH - 1))
        display(fig)
        plt.close(fig)

    out = widgets.interactive_output(draw, {"H": sH, "K": sK, "stride": ss, "padding": sp,
                                            "out_row": si, "out_col": sj})
    controls = widgets.HBox([widgets.VBox([sH, sK, ss]), widgets.VBox([sp, si, sj])])
    return widgets.VBox([controls, out])

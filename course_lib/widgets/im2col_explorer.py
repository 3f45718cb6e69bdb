"""Interactive im2col picture: one output position, its receptive field, its im2col row.

The input is a single-channel H x W image whose pixels are labelled 1..H*W (row-major),
so every entry of the im2col matrix says *which* input pixel it copied; padding is 0.
The figure has two panels:

* left: the zero-padded input, with the receptive field of the chosen output position
  ``(i, j)`` outlined;
* right: the im2col matrix as the library lays it out, one row per kernel offset
  (``KH*KW`` rows) and one column per output position (``OH*OW`` columns), the chosen
  position's column outlined.

The matrix comes from :func:`course_lib.conv.im2col.im2col`, so the picture shows the
library's real output, not a drawing of it.
:func:`draw_im2col` makes a static figure (what the HTML book shows);
:func:`im2col_explorer` wraps it in ipywidgets sliders.
"""
from __future__ import annotations

import numpy as np


def label_image(H: int, W: int, dtype=np.float64) -> np.ndarray:
    """Input of shape (1, 1, H, W) whose pixels are labelled 1..H*W in row-major order."""
    if H < 1 or W < 1:
        raise ValueError(f"image must be at least 1x1, got H={H}, W={W}")
    return np.arange(1, H * W + 1, dtype=dtype).reshape(1, 1, H, W)


def output_size(H: int, W: int, kh: int, kw: int, stride: int, padding: int) -> tuple[int, int]:
    """(OH, OW) of a convolution; raises ValueError if the kernel does not fit."""
    if stride < 1 or padding < 0:
        raise ValueError(f"need stride >= 1 and padding >= 0, got stride={stride}, padding={padding}")
    if kh > H + 2 * padding or kw > W + 2 * padding:
        raise ValueError(f"kernel {kh}x{kw} is larger than the padded input "
                         f"{H + 2 * padding}x{W + 2 * padding}")
    return (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1


def receptive_field(i: int, j: int, kh: int, kw: int, stride: int) -> tuple[int, int, int, int]:
    """Rows ``r0:r1`` and columns ``c0:c1`` of the *padded* input that output (i, j) reads."""
    r0, c0 = i * stride, j * stride
    return r0, r0 + kh, c0, c0 + kw


def im2col_matrix(H: int, W: int, kh: int, kw: int, stride: int = 1, padding: int = 0
                  ) -> np.ndarray:
    """The library's im2col of :func:`label_image`: shape (KH*KW, OH*OW), labels (0 = padding).

    Row ``kh*KW + kw`` is kernel offset (kh, kw); column ``i*OW + j`` is output position
    (i, j) -- the layout of :func:`course_lib.conv.im2col.im2col` (and ``torch.nn.functional.unfold``).
    """
    from course_lib.conv.im2col import im2col  # imported late: the widget module stays light

    output_size(H, W, kh, kw, stride, padding)   # same checks and messages as the figure
    return im2col(label_image(H, W), kh, kw, stride=stride, padding=padding)[0]


def _grid(ax, values: np.ndarray, title: str, shade: np.ndarray | None = None) -> None:
    """Draw ``values`` as a table of numbers; cells where ``shade`` is True are grey."""
    n_r, n_c = values.shape
    base = np.where(shade, 0.85, 1.0) if shade is not None else np.ones(values.shape)
    ax.imshow(base, cmap="gray", vmin=0, vmax=1, aspect="equal")
    for r in range(n_r):
        for c in range(n_c):
            ax.text(c, r, f"{values[r, c]:g}", ha="center", va="center", fontsize=9)
    ax.set_xticks(np.arange(-0.5, n_c, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n_r, 1), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.6)
    ax.tick_params(which="both", length=0)
    ax.set_title(title, fontsize=10)


def draw_im2col(H: int = 4, W: int = 4, kh: int = 2, kw: int = 2, stride: int = 1,
                padding: int = 0, i: int = 0, j: int = 0, fig=None):
    """Static two-panel figure for output position (i, j); returns the matplotlib Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    OH, OW = output_size(H, W, kh, kw, stride, padding)
    if not (0 <= i < OH and 0 <= j < OW):
        raise ValueError(f"output position ({i}, {j}) outside the {OH}x{OW} output")
    cols = im2col_matrix(H, W, kh, kw, stride, padding)           # (KH*KW, OH*OW)
    xp = np.pad(label_image(H, W)[0, 0], padding)
    is_pad = np.pad(np.zeros((H, W), bool), padding, constant_values=True)

    n_pos = OH * OW
    if fig is None:
        width = min(16.0, 2.0 + 0.42 * (W + 2 * padding + n_pos))
        fig = plt.figure(figsize=(width, 0.42 * max(kh * kw, H + 2 * padding) + 1.4))
    fig.clear()
    ax_in, ax_col = fig.subplots(1, 2, gridspec_kw={"width_ratios": [W + 2 * padding, n_pos]})
    _grid(ax_in, xp, f"padded input {H + 2 * padding}x{W + 2 * padding}"
                     + (" (grey = padding 0)" if padding else ""), shade=is_pad)
    r0, r1, c0, c1 = receptive_field(i, j, kh, kw, stride)
    ax_in.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False,
                              edgecolor="tab:red", linewidth=2.5))
    ax_in.set_xticks(range(xp.shape[1]))
    ax_in.set_yticks(range(xp.shape[0]))

    p = i * OW + j
    _grid(ax_col, cols, f"im2col matrix: {kh * kw} kernel offsets x {n_pos} output positions",
          shade=cols == 0)   # label 0 = a padding pixel
    ax_col.add_patch(Rectangle((p - 0.5, -0.5), 1, kh * kw, fill=False,
                               edgecolor="tab:red", linewidth=2.5))
    ax_col.set_xticks(range(n_pos))
    ax_col.set_xticklabels([f"{a},{b}" for a in range(OH) for b in range(OW)], fontsize=7,
                           rotation=90)
    ax_col.set_xlabel("output position (i,j)", fontsize=9)
    ax_col.set_yticks(range(kh * kw))
    ax_col.set_yticklabels([f"({a},{b})" for a in range(kh) for b in range(kw)], fontsize=8)
    ax_col.set_ylabel("kernel offset", fontsize=9)
    fig.suptitle(f"output ({i}, {j}) of {OH}x{OW}: kernel {kh}x{kw}, stride {stride} "
                 f"-> column {p} of the matrix", fontsize=11)
    fig.tight_layout()
    return fig


def im2col_explorer(H: int = 4, W: int = 4, kh: int = 2, kw: int = 2, stride: int = 1,
                    padding: int = 0, i: int = 0, j: int = 0):
    """ipywidgets control: sliders for output row/column, stride and padding.

    Starts at output position (i, j), the same figure as ``draw_im2col(..., i=i, j=j)``.

    Returns a ``VBox`` (display it).  Each change redraws :func:`draw_im2col` into an
    ``Output`` widget, so the state that myst-nb embeds in the HTML holds the first figure.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    s_stride = widgets.IntSlider(value=stride, min=1, max=3, description="stride")
    s_pad = widgets.IntSlider(value=padding, min=0, max=1, description="padding")
    OH, OW = output_size(H, W, kh, kw, stride, padding)
    if not (0 <= i < OH and 0 <= j < OW):
        raise ValueError(f"output position ({i}, {j}) outside the {OH}x{OW} output")
    s_i = widgets.IntSlider(value=i, min=0, max=OH - 1, description="output row i")
    s_j = widgets.IntSlider(value=j, min=0, max=OW - 1, description="output col j")
    out = widgets.Output()

    busy = [False]   # clamping i/j below fires their observers; draw once per change

    def redraw(*_):
        if busy[0]:
            return
        busy[0] = True
        try:
            OH, OW = output_size(H, W, kh, kw, s_stride.value, s_pad.value)
            s_i.max, s_j.max = OH - 1, OW - 1   # also clamps the values
            with out:
                out.clear_output(wait=True)
                fig = draw_im2col(H, W, kh, kw, s_stride.value, s_pad.value,
                                  s_i.value, s_j.value)
                display(fig)
                plt.close(fig)
        finally:
            busy[0] = False

    for s in (s_stride, s_pad, s_i, s_j):
        s.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([s_i, s_j]), widgets.HBox([s_stride, s_pad]), out])

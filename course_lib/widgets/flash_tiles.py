"""Which tiles of the (L, S) score matrix FlashAttention computes, and which it skips.

:func:`draw_tiles` draws the score matrix cut into (block_q, block_k) tiles, coloured by
:func:`course_lib.attention.flash.causal_tile_plan`: computed without a mask, computed
with the mask on the diagonal, or skipped (every entry masked by causality).  The
title counts them and gives the largest temporary, one tile, next to the full
matrix.  :func:`tile_explorer` puts sliders on it.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from ..attention.flash import DIAGONAL, FULL, SKIP, causal_tile_plan

COLORS = {SKIP: "#e6e6e6", FULL: "#4c72b0", DIAGONAL: "#dd8452"}
LABELS = {SKIP: "skipped (all masked)", FULL: "computed, no mask",
          DIAGONAL: "computed, masked inside"}


def tile_counts(L: int, S: int, block_q: int, block_k: int, causal: bool) -> dict:
    """Numbers of tiles of each kind: {'computed', 'skipped', 'masked', 'total'}."""
    plan = causal_tile_plan(L, S, block_q, block_k)
    if not causal:
        plan = np.full_like(plan, FULL)
    return dict(total=int(plan.size), computed=int((plan != SKIP).sum()),
                skipped=int((plan == SKIP).sum()), masked=int((plan == DIAGONAL).sum()))


def draw_tiles(L: int, S: int, block_q: int, block_k: int, causal: bool = True, ax=None):
    """Draw the tile grid of an (L, S) score matrix; returns the figure."""
    plan = causal_tile_plan(L, S, block_q, block_k)
    if not causal:
        plan = np.full_like(plan, FULL)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 4.6))
    else:
        fig = ax.figure
    # one image pixel per tile would distort ragged tiles: draw at entry resolution
    img = np.repeat(np.repeat(plan, block_q, axis=0)[:L], block_k, axis=1)[:, :S]
    cmap = ListedColormap([COLORS[SKIP], COLORS[FULL], COLORS[DIAGONAL]])
    ax.imshow(img, cmap=cmap, vmin=0, vmax=2, interpolation="nearest", aspect="auto")
    for x in range(block_k, S, block_k):
        ax.axvline(x - 0.5, color="white", lw=0.8)
    for y in range(block_q, L, block_q):
        ax.axhline(y - 0.5, color="white", lw=0.8)
    if causal:
        ax.plot([-0.5, min(L, S) - 0.5], [-0.5, min(L, S) - 0.5], color="black", lw=1)
    c = tile_counts(L, S, block_q, block_k, causal)
    ax.set_xlabel(f"key j (S = {S}, block_k = {block_k})")
    ax.set_ylabel(f"query i (L = {L}, block_q = {block_q})")
    ax.set_title(f"{c['computed']} of {c['total']} tiles computed, {c['skipped']} skipped\n"
                 f"largest temporary: {block_q}x{block_k} = {block_q * block_k} scores "
                 f"(full matrix {L * S})", fontsize=9)
    ax.legend(handles=[Patch(color=COLORS[k], label=LABELS[k]) for k in (FULL, DIAGONAL, SKIP)],
              loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def tile_explorer(L: int = 256, S: int = 256, max_len: int = 1024):
    """Sliders for L, S, block_q, block_k and a causal switch redrawing :func:`draw_tiles`.

    Returns an ``ipywidgets.VBox``; the starting figure is drawn when it is created.
    """
    import ipywidgets as widgets
    from IPython.display import display

    style = {"description_width": "70px"}

    def slider(name, value, lo, hi, step):
        return widgets.IntSlider(value=value, min=lo, max=hi, step=step, description=name,
                                 continuous_update=False, style=style)
    controls = dict(L=slider("L", L, 16, max_len, 16), S=slider("S", S, 16, max_len, 16),
                    block_q=slider("block_q", 64, 8, 256, 8),
                    block_k=slider("block_k", 64, 8, 256, 8),
                    causal=widgets.Checkbox(value=True, description="causal"))

    def draw(L, S, block_q, block_k, causal):
        fig = draw_tiles(L, S, block_q, block_k, causal)
        display(fig)
        plt.close(fig)
    out = widgets.interactive_output(draw, controls)
    c = list(controls.values())
    return widgets.VBox([widgets.HBox(c[:3]), widgets.HBox(c[3:]), out])

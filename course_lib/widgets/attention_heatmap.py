"""Where does each query look?  Attention maps of a trained model, by layer, head and query.

:func:`draw_attention` draws one head's (L, S) probability matrix as a heatmap with the
chosen query's row outlined, and that row again as a bar chart over the keys;
:func:`draw_all_heads` is a static grid of every layer and head;
:func:`attention_explorer` wraps :func:`draw_attention` in sliders.  The maps come
from :meth:`course_lib.attention.train.TinyEncoder.attention_maps` or any list of
(H, L, S) / (N, H, L, S) arrays.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle


def _check_maps(maps, sample: int = 0) -> list[np.ndarray]:
    """A list of (H, L, S) arrays (sample ``sample`` of batched (N, H, L, S) maps)."""
    if not isinstance(maps, (list, tuple)) or not maps:
        raise TypeError("maps must be a non-empty list of (H, L, S) or (N, H, L, S) arrays")
    out = []
    for i, m in enumerate(maps):
        m = np.asarray(m)
        if m.ndim == 4:
            m = m[sample]
        if m.ndim != 3:
            raise ValueError(f"maps[{i}] must be (H, L, S) or (N, H, L, S), got shape {m.shape}")
        out.append(m)
    return out


def draw_attention(maps, layer: int = 0, head: int = 0, query: int = 0, tokens=None,
                   sample: int = 0, fig=None):
    """Heatmap of layer ``layer``, head ``head`` (rows = queries, columns = keys) and a bar
    chart of row ``query``; ``tokens`` (length L) label the axes.  Returns the figure."""
    ms = _check_maps(maps, sample)
    if not 0 <= layer < len(ms):
        raise ValueError(f"layer must be in [0, {len(ms)}), got {layer}")
    H, L, S = ms[layer].shape
    if not 0 <= head < H or not 0 <= query < L:
        raise ValueError(f"head must be in [0, {H}) and query in [0, {L}), got {head}, {query}")
    p = ms[layer][head]
    labels = [str(t) for t in tokens] if tokens is not None else [str(i) for i in range(S)]
    if fig is None:
        fig = plt.figure(figsize=(9, 3.8))
    ax_map, ax_bar = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
    im = ax_map.imshow(p, cmap="viridis", vmin=0, vmax=1)
    ax_map.add_patch(Rectangle((-0.5, query - 0.5), S, 1, fill=False, edgecolor="red", lw=2))
    ax_map.set_xticks(range(S), labels[:S])
    ax_map.set_yticks(range(L), [f"{i}:{labels[i]}" if i < len(labels) else str(i)
                                 for i in range(L)])
    ax_map.set_xlabel("key position (input token)")
    ax_map.set_ylabel("query position")
    ax_map.set_title(f"layer {layer}, head {head}")
    fig.colorbar(im, ax=ax_map, fraction=0.046)
    ax_bar.bar(range(S), p[query], color="tab:blue")
    ax_bar.set_xticks(range(S), [f"{j}\n{labels[j]}" for j in range(S)])
    ax_bar.set_ylim(0, 1)
    ax_bar.set_xlabel("key position / token")
    ax_bar.set_ylabel("attention probability")
    ax_bar.set_title(f"query {query}: where its output comes from")
    fig.tight_layout()
    return fig


def draw_all_heads(maps, tokens=None, sample: int = 0, fig=None):
    """A static grid: one small heatmap per (layer, head).  Returns the figure."""
    ms = _check_maps(maps, sample)
    H = max(m.shape[0] for m in ms)
    if fig is None:
        fig = plt.figure(figsize=(2.2 * H, 2.3 * len(ms)))
    axes = np.atleast_2d(fig.subplots(len(ms), H, squeeze=False))
    for li, m in enumerate(ms):
        for h in range(H):
            ax = axes[li, h]
            if h < m.shape[0]:
                ax.imshow(m[h], cmap="viridis", vmin=0, vmax=1)
                ax.set_title(f"layer {li} head {h}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    return fig


def attention_explorer(maps, tokens=None, sample: int = 0):
    """Sliders for layer, head and query position redrawing :func:`draw_attention`.

    Returns an ``ipywidgets.VBox``; the starting figure is drawn when it is created.
    """
    import ipywidgets as widgets
    from IPython.display import display

    ms = _check_maps(maps, sample)
    H, L, _ = ms[0].shape

    def slider(name, hi):
        return widgets.IntSlider(value=0, min=0, max=hi, description=name,
                                 continuous_update=False, style={"description_width": "60px"})
    s_layer, s_head, s_query = slider("layer", len(ms) - 1), slider("head", H - 1), slider("query", L - 1)

    def draw(layer, head, query):
        fig = draw_attention(ms, layer, head, query, tokens)
        display(fig)
        plt.close(fig)
    out = widgets.interactive_output(draw, {"layer": s_layer, "head": s_head, "query": s_query})
    return widgets.VBox([widgets.HBox([s_layer, s_head, s_query]), out])

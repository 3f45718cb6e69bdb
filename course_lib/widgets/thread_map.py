"""Pictures of how a convolution kernel's threads and blocks cover the output, and what a block
stages in shared memory.

Two mappings, matching the kernels of :mod:`course_lib.conv.gpu`:

* **one thread per output element** (``conv2d_naive``): thread ``i = blockIdx.x * T + threadIdx.x``
  computes ``y.ravel()[i]``, so block ``i // T`` owns ``T`` consecutive output elements in memory
  order (``ow`` fastest) -- a block is a run of whole and partial output rows;
* **one block per output tile** (``conv2d_tiled``): block ``blockIdx.x = tile_row * tiles_w +
  tile_col`` owns a ``tile_h x tile_w`` pixel tile (for a group of output channels) and stages the
  input patch it reads -- the tile plus its halo, ``(tile_h - 1) * sh + KH`` rows by
  ``(tile_w - 1) * sw + KW`` columns -- in shared memory.

The index helpers are plain functions (testable, usable without matplotlib); the ``draw_*``
functions draw into a given matplotlib ``Axes``; :func:`thread_map_figure` puts the panels side by
side for one convolution.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# --------------------------------------------------------------------------- index helpers

def naive_block_ids(y_shape: tuple[int, int, int, int], threads: int = 256) -> np.ndarray:
    """``blockIdx.x`` of the thread that computes each output element, shape ``y_shape``.

    y_shape = (B, C_out, OH, OW); one thread per element in memory order, ``threads`` per block.
    """
    n = int(np.prod(y_shape))
    return (np.arange(n) // threads).reshape(y_shape)


def tile_block_ids(OH: int, OW: int, tile_h: int, tile_w: int) -> np.ndarray:
    """``blockIdx.x`` of the tiled kernel's block that computes each output pixel, shape (OH, OW).

    Tiles are numbered row by row: ``blockIdx.x = (oh // tile_h) * tiles_w + ow // tile_w``.
    """
    tiles_w = -(-OW // tile_w)
    rows = np.arange(OH)[:, None] // tile_h
    cols = np.arange(OW)[None, :] // tile_w
    return rows * tiles_w + cols


@dataclass(frozen=True)
class Patch:
    """The input rows/columns one tiled block reads, in unpadded input coordinates.

    ``row0``/``col0`` may be negative and ``row0 + rows`` may pass ``H`` (those cells are
    padding: the kernel writes 0 into shared memory for them). ``rows x cols`` is the shared
    memory patch of one input channel.
    """

    row0: int
    col0: int
    rows: int
    cols: int
    tile_row: int
    tile_col: int
    block: int

    @property
    def floats(self) -> int:
        return self.rows * self.cols


def block_patch(block_x: int, OW: int, tile_h: int, tile_w: int, KH: int, KW: int,
                stride=(1, 1), padding=(0, 0)) -> Patch:
    """Input patch (tile + halo) staged by block ``block_x`` of the tiled kernel.

    The patch has ``(tile_h - 1) * sh + KH`` rows and ``(tile_w - 1) * sw + KW`` columns whatever
    the block's position: a ragged edge tile stages a full patch (the extra cells feed outputs
    that are never stored), which keeps the shared-memory size one launch-wide constant.
    """
    (sh, sw), (ph, pw) = stride, padding
    tiles_w = -(-OW // tile_w)
    tr, tc = divmod(block_x, tiles_w)
    return Patch(row0=tr * tile_h * sh - ph, col0=tc * tile_w * sw - pw,
                 rows=(tile_h - 1) * sh + KH, cols=(tile_w - 1) * sw + KW, tile_row=tr, tile_col=tc,
                 block=block_x)


# --------------------------------------------------------------------------- drawing

def _colors(n: int):
    import matplotlib.pyplot as plt
    cmap = plt.get_cmap("tab20")
    return [cmap(k % 20) for k in range(n)]


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(which="both", length=0, labelsize=7)


def _grid_image(ax, ids: np.ndarray, title: str, label_blocks: bool = True) -> None:
    from matplotlib.colors import ListedColormap
    n = int(ids.max()) + 1
    ax.imshow(ids, cmap=ListedColormap(_colors(n)), vmin=-0.5, vmax=n - 0.5,
              interpolation="nearest")
    H, W = ids.shape
    ax.set_xticks(np.arange(-0.5, W, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, H, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=0.3 if max(H, W) > 24 else 0.6)
    _integer_ticks(ax)
    if label_blocks:
        for k in range(n):
            r, c = np.argwhere(ids == k).mean(axis=0)
            ax.text(c, r, str(k), ha="center", va="center", fontsize=8, fontweight="bold")
    ax.set_title(title, fontsize=9)


def draw_naive_map(ax, OH: int, OW: int, threads: int = 256, channel: int = 0, C_out: int = 1) -> None:
    """One output channel (image 0) coloured by the 1-D block of the naive kernel."""
    ids = naive_block_ids((1, C_out, OH, OW), threads)[0, channel]
    _grid_image(ax, ids, f"one thread per output: blocks of {threads} threads\n"
                         f"(output {OH}x{OW}, channel {channel} of {C_out}; number = blockIdx.x)")
    ax.set_xlabel("ow")
    ax.set_ylabel("oh")


def draw_tile_map(ax, OH: int, OW: int, tile_h: int, tile_w: int, highlight: int | None = None) -> None:
    """The output plane coloured by the tiled kernel's block; ``highlight`` outlines one block."""
    from matplotlib.patches import Rectangle
    ids = tile_block_ids(OH, OW, tile_h, tile_w)
    _grid_image(ax, ids, f"one block per {tile_h}x{tile_w} output tile\n"
                         f"(output {OH}x{OW}; number = blockIdx.x)")
    if highlight is not None:
        tiles_w = -(-OW // tile_w)
        tr, tc = divmod(highlight, tiles_w)
        h = min(tile_h, OH - tr * tile_h)
        w = min(tile_w, OW - tc * tile_w)
        ax.add_patch(Rectangle((tc * tile_w - 0.5, tr * tile_h - 0.5), w, h, fill=False,
                               edgecolor="black", linewidth=2.5))
    ax.set_xlabel("ow")
    ax.set_ylabel("oh")


def draw_input_patch(ax, H: int, W: int, patch: Patch, padding=(0, 0), stride=(1, 1),
                     tile=(16, 16), color=None) -> None:
    """The padded input plane with one block's patch (tile + halo) filled.

    The dashed box holds the top-left corners of the tile's receptive fields (rows
    ``row0 .. row0 + (tile_h - 1) * sh``); the rest of the patch is the halo the windows of the
    tile's last rows and columns reach into. Crosses mark patch cells in the padding.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Rectangle
    ph, pw = padding
    r_lo, r_hi = min(-ph, patch.row0), max(H + ph, patch.row0 + patch.rows)
    c_lo, c_hi = min(-pw, patch.col0), max(W + pw, patch.col0 + patch.cols)
    rr = np.arange(r_lo, r_hi)[:, None]
    cc = np.arange(c_lo, c_hi)[None, :]
    # 2 = input, 1 = padding, 0 = past the padded input (only a ragged edge tile reaches there)
    plane = (((rr >= -ph) & (rr < H + ph) & (cc >= -pw) & (cc < W + pw)).astype(int)
             + ((rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)))
    ax.imshow(plane, cmap=ListedColormap(["#8c8c8c", "#c8c8c8", "white"]), vmin=0, vmax=2,
              interpolation="nearest", extent=(c_lo - 0.5, c_hi - 0.5, r_hi - 0.5, r_lo - 0.5))
    ax.set_xticks(np.arange(c_lo - 0.5, c_hi, 1), minor=True)
    ax.set_yticks(np.arange(r_lo - 0.5, r_hi, 1), minor=True)
    ax.grid(which="minor", color="#e4e4e4", linewidth=0.4)
    color = color or _colors(1)[0]
    ax.add_patch(Rectangle((patch.col0 - 0.5, patch.row0 - 0.5), patch.cols, patch.rows,
                           facecolor=color, alpha=0.6, edgecolor="black", linewidth=2))
    (sh, sw), (tile_h, tile_w) = stride, tile
    ax.add_patch(Rectangle((patch.col0 - 0.5, patch.row0 - 0.5), (tile_w - 1) * sw + 1,
                           (tile_h - 1) * sh + 1, fill=False, edgecolor="black", linewidth=1,
                           linestyle="--"))
    r = np.arange(patch.row0, patch.row0 + patch.rows)
    c = np.arange(patch.col0, patch.col0 + patch.cols)
    outside = ~((r[:, None] >= 0) & (r[:, None] < H) & (c[None, :] >= 0) & (c[None, :] < W))
    if outside.any():
        rr, cc = np.nonzero(outside)
        ax.scatter(c[cc], r[rr], marker="x", s=10, color="black", linewidths=0.7)
    ax.set_xlim(c_lo - 0.5, c_hi - 0.5)
    ax.set_ylim(r_hi - 0.5, r_lo - 0.5)
    _integer_ticks(ax)
    ax.set_xlabel("input column (light grey: padding; dark: past it)")
    ax.set_ylabel("input row")
    ax.set_title(f"input patch of block {patch.block}: {patch.rows}x{patch.cols} = tile + halo\n"
                 "(dashed: window corners; x: padding, staged as 0)", fontsize=9)


def draw_shared_patch(ax, H: int, W: int, patch: Patch, KH: int, KW: int, stride=(1, 1),
                      tile=(16, 16), color=None) -> None:
    """One input channel's patch as it sits in shared memory (``patch.rows x patch.cols``).

    Cells from the image are filled, cells from the padding (zeros) are crossed; the windows of
    thread (0, 0) and of the block's last thread are outlined -- thread ``(ty, tx)`` reads the
    ``KH x KW`` window starting at patch cell ``(ty * sh, tx * sw)``.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Rectangle
    r = np.arange(patch.row0, patch.row0 + patch.rows)[:, None]
    c = np.arange(patch.col0, patch.col0 + patch.cols)[None, :]
    inside = (r >= 0) & (r < H) & (c >= 0) & (c < W)
    color = color or _colors(1)[0]
    ax.imshow(inside.astype(int), cmap=ListedColormap(["white", color]), vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks(np.arange(-0.5, patch.cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, patch.rows, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=0.5)
    rr, cc = np.nonzero(~inside)
    if len(rr):
        ax.scatter(cc, rr, marker="x", s=10, color="black", linewidths=0.7)
    (sh, sw), (tile_h, tile_w) = stride, tile
    for (ty, tx), style in (((0, 0), "-"), ((tile_h - 1, tile_w - 1), "--")):
        ax.add_patch(Rectangle((tx * sw - 0.5, ty * sh - 0.5), KW, KH, fill=False, edgecolor="black",
                               linewidth=2, linestyle=style))
    _integer_ticks(ax)
    ax.set_xlabel("shared-memory column")
    ax.set_ylabel("shared-memory row")
    ax.set_title(f"the same patch in shared memory ({patch.rows}x{patch.cols}, one channel)\n"
                 f"windows of thread (0,0) (solid) and ({tile_h - 1},{tile_w - 1}) (dashed)", fontsize=9)


def draw_shared_memory(ax, patch: Patch, ci_chunk: int, co_tile: int, KH: int, KW: int) -> None:
    """The block's dynamic shared memory as one bar: ``ci_chunk`` input patches, then the filter
    slice ``co_tile x ci_chunk x KH x KW`` (float32 each)."""
    x_floats = ci_chunk * patch.floats
    w_floats = co_tile * ci_chunk * KH * KW
    total = x_floats + w_floats
    colors = _colors(2)
    left = 0
    for c in range(ci_chunk):
        ax.barh(0, patch.floats, left=left, color=colors[0], edgecolor="white", height=0.6)
        ax.text(left + patch.floats / 2, 0, f"x ch {c}", ha="center", va="center", fontsize=7,
                rotation=90 if ci_chunk > 4 else 0)
        left += patch.floats
    ax.barh(0, w_floats, left=left, color=colors[1], edgecolor="white", height=0.6)
    ax.text(left + w_floats / 2, 0, "w", ha="center", va="center", fontsize=8)
    ax.set_xlim(0, total)
    ax.set_yticks([])
    ax.set_xlabel("float32 slots")
    ax.set_title(f"shared memory of one block: {ci_chunk} x {patch.rows}x{patch.cols} input "
                 f"+ {co_tile}x{ci_chunk}x{KH}x{KW} weights = {4 * total} bytes", fontsize=9)


def thread_map_figure(x_shape, w_shape, stride=(1, 1), padding=(0, 0), *, threads: int = 256,
                      tile=(16, 16), co_tile: int = 8, ci_chunk: int = 1, block: int = 0):
    """Five panels for one convolution: the naive kernel's 1-D blocks on the output, the tiled
    kernel's 2-D blocks, the input patch block ``block`` reads, that patch as staged in shared
    memory, and the block's whole shared-memory layout.

    x_shape (B, C_in, H, W), w_shape (C_out, C_in, KH, KW); ``tile``, ``co_tile`` and
    ``ci_chunk`` are the tiled kernel's sizes (pass the launcher's). Returns the figure.
    """
    import matplotlib.pyplot as plt
    (sh, sw), (ph, pw) = stride, padding
    _, _, H, W = x_shape
    C_out, _, KH, KW = w_shape
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    tile_h, tile_w = tile
    fig = plt.figure(figsize=(10, 10.5))
    gs = fig.add_gridspec(3, 2, height_ratios=[1, 1, 0.2])
    draw_naive_map(fig.add_subplot(gs[0, 0]), OH, OW, threads, C_out=C_out)
    draw_tile_map(fig.add_subplot(gs[0, 1]), OH, OW, tile_h, tile_w, highlight=block)
    patch = block_patch(block, OW, tile_h, tile_w, KH, KW, (sh, sw), (ph, pw))
    n_tiles = int(tile_block_ids(OH, OW, tile_h, tile_w).max()) + 1
    color = _colors(n_tiles)[block]
    draw_input_patch(fig.add_subplot(gs[1, 0]), H, W, patch, (ph, pw), (sh, sw), tile, color=color)
    draw_shared_patch(fig.add_subplot(gs[1, 1]), H, W, patch, KH, KW, (sh, sw), tile, color=color)
    draw_shared_memory(fig.add_subplot(gs[2, :]), patch, ci_chunk, co_tile, KH, KW)
    fig.suptitle(f"x {tuple(x_shape)}, w {tuple(w_shape)}, stride {tuple(stride)}, "
                 f"padding {tuple(padding)}", fontsize=10)
    fig.tight_layout()
    return fig

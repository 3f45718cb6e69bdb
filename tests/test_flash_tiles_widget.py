"""The tile widget draws the causal plan (checked against the mask itself) and builds."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from course_lib.widgets.flash_tiles import draw_tiles, tile_counts, tile_explorer  # noqa: E402


def test_tiles_drawn_match_the_causal_mask():
    L, S, bq, bk = 40, 56, 16, 8
    fig = draw_tiles(L, S, bq, bk, causal=True)
    img = fig.axes[0].images[0].get_array()
    assert img.shape == (L, S)
    allowed = np.tri(L, S, dtype=bool)
    for i in range(0, L, bq):
        for j in range(0, S, bk):
            t = allowed[i:i + bq, j:j + bk]
            want = 0 if not t.any() else 1 if t.all() else 2
            assert (img[i:i + bq, j:j + bk] == want).all(), (i, j)
    c = tile_counts(L, S, bq, bk, True)
    assert c["total"] == 3 * 7 and c["computed"] + c["skipped"] == c["total"]
    assert tile_counts(L, S, bq, bk, False)["skipped"] == 0


def test_explorer_builds():
    box = tile_explorer(64, 64, 128)
    assert type(box.children[-1]).__name__ == "Output"

"""The im2col explorer highlights the right pixels and the right matrix column.

Reference: ``torch.nn.functional.unfold`` on the same labelled image (independent of
the library's im2col and of the widget's own index arithmetic).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from course_lib.widgets import im2col_explorer as ex  # noqa: E402

GEOMS = [(4, 4, 2, 2, 1, 0), (4, 4, 2, 2, 2, 1), (5, 3, 3, 2, 1, 1), (6, 5, 3, 3, 2, 0)]


def torch_unfold(H, W, kh, kw, stride, padding):
    x = torch.arange(1, H * W + 1, dtype=torch.float64).reshape(1, 1, H, W)
    return F.unfold(x, (kh, kw), padding=padding, stride=stride)[0].numpy()


@pytest.mark.parametrize("geom", GEOMS)
def test_matrix_matches_torch_unfold(geom):
    np.testing.assert_array_equal(ex.im2col_matrix(*geom), torch_unfold(*geom))


@pytest.mark.parametrize("geom", GEOMS)
def test_receptive_field_is_the_highlighted_column(geom):
    H, W, kh, kw, stride, padding = geom
    OH, OW = ex.output_size(H, W, kh, kw, stride, padding)
    ref = torch_unfold(*geom)
    xp = np.pad(np.arange(1, H * W + 1).reshape(H, W), padding)
    for i in range(OH):
        for j in range(OW):
            r0, r1, c0, c1 = ex.receptive_field(i, j, kh, kw, stride)
            np.testing.assert_array_equal(xp[r0:r1, c0:c1].ravel(), ref[:, i * OW + j])


def red_boxes(ax):
    return [(p.get_x(), p.get_y(), p.get_width(), p.get_height())
            for p in ax.patches if isinstance(p, Rectangle)]


def test_figure_outlines_field_and_column():
    fig = ex.draw_im2col(4, 4, 2, 2, stride=1, padding=0, i=1, j=2)
    ax_in, ax_col = fig.axes
    # output (1, 2), stride 1: rows 1..2, columns 2..3 of the input; column 1*3 + 2 = 5
    assert red_boxes(ax_in) == [(1.5, 0.5, 2, 2)]
    assert red_boxes(ax_col) == [(4.5, -0.5, 1, 4)]
    plt.close(fig)


def test_bad_position_and_geometry_raise():
    with pytest.raises(ValueError, match="outside the 3x3 output"):
        ex.draw_im2col(4, 4, 2, 2, i=3, j=0)
    with pytest.raises(ValueError, match="larger than the padded input"):
        ex.output_size(2, 2, 3, 3, 1, 0)
    with pytest.raises(ValueError, match="stride"):
        ex.output_size(4, 4, 2, 2, 0, 0)


def test_explorer_clamps_position_when_stride_grows():
    box = ex.im2col_explorer()
    (s_i, s_j), (s_stride, _) = box.children[0].children, box.children[1].children
    s_i.value = s_j.value = 2
    s_stride.value = 2                        # 4x4, k=2, stride 2 -> 2x2 output
    assert (s_i.max, s_j.max, s_i.value, s_j.value) == (1, 1, 1, 1)
    plt.close("all")


def test_explorer_starts_at_the_requested_position():
    box = ex.im2col_explorer(i=1, j=2)
    (s_i, s_j) = box.children[0].children
    assert (s_i.value, s_j.value, s_i.max, s_j.max) == (1, 2, 2, 2)
    with pytest.raises(ValueError, match="outside"):
        ex.im2col_explorer(i=3, j=0)
    plt.close("all")

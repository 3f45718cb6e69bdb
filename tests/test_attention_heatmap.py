"""The attention heatmap widget draws what the model computed."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.attention import attention_weights  # noqa: E402
from course_lib.widgets.attention_heatmap import (attention_explorer, draw_all_heads,  # noqa: E402
                                                  draw_attention)


def test_heatmap_shows_the_weights_and_the_widget_builds():
    rng = np.random.default_rng(0)
    maps = [attention_weights(rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 6, 4)))
            for _ in range(2)]
    fig = draw_attention(maps, layer=1, head=2, query=4, tokens=list("abcdef"), sample=1)
    ax_map, ax_bar = fig.axes[:2]
    np.testing.assert_array_equal(ax_map.images[0].get_array(), maps[1][1, 2])
    np.testing.assert_allclose([b.get_height() for b in ax_bar.patches], maps[1][1, 2, 4])
    assert len(draw_all_heads(maps).axes) == 6
    box = attention_explorer(maps)
    assert type(box.children[1]).__name__ == "Output"
    with pytest.raises(ValueError, match="head must be in"):
        draw_attention(maps, head=3)
    with pytest.raises(ValueError, match=r"\(H, L, S\)"):
        draw_attention([np.zeros((2, 2))])

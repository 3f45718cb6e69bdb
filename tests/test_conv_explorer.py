"""The explorer's window arithmetic against the library's naive convolution."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.conv import conv2d_naive  # noqa: E402
from course_lib.widgets import conv_explorer, draw_conv_window, window_of_output  # noqa: E402


@pytest.mark.parametrize("H, K, s, p", [(7, 3, 2, 1), (8, 3, 3, 0), (5, 5, 1, 2)])
def test_window_is_what_the_convolution_reads(H, K, s, p):
    """A one-hot kernel at (a, b) makes y[i, j] = xp[i*s + a, j*s + b]: the window indices."""
    x = np.arange(H * H, dtype=np.float64).reshape(1, 1, H, H) + 1
    xp = np.pad(x[0, 0], p)
    for a in range(K):
        w = np.zeros((1, 1, K, K))
        w[0, 0, a, K - 1] = 1.0
        y = conv2d_naive(x, w, stride=s, padding=p)[0, 0]
        for i in range(y.shape[0]):
            rows, cols = window_of_output(i, K, s), window_of_output(0, K, s)
            assert y[i, 0] == xp[rows[a], cols[K - 1]]


def test_draw_and_widget():
    fig = draw_conv_window(8, 3, 2, 0, 1, 2)
    assert len(fig.axes) == 2
    box = conv_explorer(8, 3, 2, 0)
    assert type(box.children[1]).__name__ == "Output"   # holds the figure in a kernel


@pytest.mark.parametrize("args", [(3, 7, 1, 0, 0, 0), (7, 3, 0, 1, 0, 0), (7, 3, 2, 1, 4, 0)])
def test_bad_input(args):
    with pytest.raises(ValueError):
        draw_conv_window(*args)

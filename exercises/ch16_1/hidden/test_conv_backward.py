"""Hidden tests for conv_backward.py (not in the student bundle)."""
import numpy as np
import pytest

from course_lib.grading import call_checked, compare, submission_fixture, unpack
from course_lib.grading.torch_refs import torch_conv2d_grads

sub = submission_fixture("conv_backward")


@pytest.mark.points(2)
@pytest.mark.parametrize("xs,ws,stride,padding", [
    ((2, 2, 9, 7), (3, 2, 2, 3), 3, 1),          # stride leaves rows unused
    ((1, 3, 5, 6), (2, 3, 1, 1), (1, 2), 2),      # 1x1 kernel, padding larger than kernel
    ((3, 1, 6, 6), (2, 1, 6, 6), 1, 0),           # kernel covers the whole input
])
def test_more_geometries(sub, xs, ws, stride, padding):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    s = (stride, stride) if np.isscalar(stride) else stride
    oh = (xs[2] + 2 * padding - ws[2]) // s[0] + 1
    ow = (xs[3] + 2 * padding - ws[3]) // s[1] + 1
    dy = rng.standard_normal((xs[0], ws[0], oh, ow))
    case = {"stride": stride, "padding": padding, "x": x, "w": w}
    got = unpack("conv2d_backward(...)", call_checked(sub.conv2d_backward, dy, x, w, stride, padding,
                                                     case=case), 3, case)
    for name, g, r in zip(("dx", "dw", "db"), got, torch_conv2d_grads(dy, x, w, stride, padding)):
        compare(name, g, r, rtol=1e-10, atol=1e-10, case=case)


@pytest.mark.points(1)
def test_dw_against_central_differences(sub):
    """dw against float64 central differences of L = sum(dy * conv(x, w)), stride 2, padding 1.

    x (1,2,5,4), w (2,2,2,2) give a (1,2,3,3) output, so dy has that shape. The reference is
    computed first, from copies, and the submission gets its own copies (call_checked), so a
    submission that changes its inputs cannot move the reference."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((2, 2, 2, 2))
    dy = rng.standard_normal((1, 2, 3, 3))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))

    def loss(wv):  # explicit float64 sums over every output position
        total = 0.0
        for o in range(2):
            for p in range(3):
                for q in range(3):
                    total += dy[0, o, p, q] * np.sum(xp[0, :, 2 * p:2 * p + 2, 2 * q:2 * q + 2] * wv[o])
        return total

    num = np.zeros_like(w)
    for k in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[k] = 1e-6
        num[k] = (loss(w + e) - loss(w - e)) / 2e-6
    case = {"stride": 2, "padding": 1, "x": x, "w": w}
    got = unpack("conv2d_backward(...)", call_checked(sub.conv2d_backward, dy, x, w, 2, 1, case=case),
                 3, case)
    compare("dw", got[1], num, rtol=1e-6, atol=1e-7, case=case)

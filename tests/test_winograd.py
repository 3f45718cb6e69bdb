"""Winograd transforms (exact) and the full-layer Winograd convolution, against PyTorch."""
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.conv.winograd import conv2d_winograd, winograd_error_study
from course_lib.conv.winograd_transforms import (INF, LAVIN_F2_3, correlate_1d,
                                                 winograd_matrices)


def _correlate(d, g):
    """1-D CNN correlation by the definition (exact on ints)."""
    return [sum(d[i + k] * g[k] for k in range(len(g))) for i in range(len(d) - len(g) + 1)]


@pytest.mark.parametrize("m,r", [(2, 3), (4, 3), (3, 2), (2, 5), (6, 3)])
@pytest.mark.parametrize("scale", ["none", "lavin"])
def test_transforms_reproduce_1d_correlation_exactly(m, r, scale):
    mats = winograd_matrices(m, r, scale=scale)
    assert len(mats.AT) == m and len(mats.G) == m + r - 1 and len(mats.BT[0]) == m + r - 1
    rng = np.random.default_rng(m * 10 + r)
    for _ in range(20):
        d = [int(v) for v in rng.integers(-50, 50, m + r - 1)]
        g = [int(v) for v in rng.integers(-50, 50, r)]
        assert correlate_1d(mats, d, g) == _correlate(d, g)   # exact, Fractions


def test_other_points_also_exact():
    pts = (0, 1, -1, Fraction(1, 2), Fraction(-1, 2), INF)
    mats = winograd_matrices(4, 3, points=pts)
    d, g = [3, -1, 4, 1, -5, 9], [2, -6, 5]
    assert correlate_1d(mats, d, g) == _correlate(d, g)


def _rank1_terms(AT, G, BT):
    """The algorithm as a sum of rank-1 terms a_k (x) g_k (x) b_k, invariant to rescaling."""
    AT, G, BT = (np.array([[float(v) for v in row] for row in M]) for M in (AT, G, BT))
    return sorted(np.round(np.einsum("i,j,l->ijl", AT[:, k], G[k], BT[k]).ravel(), 12).tolist()
                  for k in range(G.shape[0]))


def test_f23_equivalent_to_lavin_matrices():
    ours = winograd_matrices(2, 3)
    assert _rank1_terms(ours.AT, ours.G, ours.BT) == _rank1_terms(
        LAVIN_F2_3["AT"], LAVIN_F2_3["G"], LAVIN_F2_3["BT"])
    # the printed matrices themselves also compute correlation exactly
    d, g = [Fraction(v) for v in (7, -3, 2, 5)], [Fraction(v) for v in (1, 4, -2)]
    Gg = [sum(a * b for a, b in zip(row, g)) for row in LAVIN_F2_3["G"]]
    Bd = [sum(a * b for a, b in zip(row, d)) for row in LAVIN_F2_3["BT"]]
    y = [sum(a * u * v for a, u, v in zip(row, Gg, Bd)) for row in LAVIN_F2_3["AT"]]
    assert y == _correlate(d, g)


def test_bad_points():
    with pytest.raises(ValueError, match="points"):
        winograd_matrices(2, 3, points=(0, 1, 1, INF))
    with pytest.raises(ValueError, match="needs n"):
        winograd_matrices(2, 3, points=(0, 1, INF))


CASES = [  # x shape, C_out, padding
    ((2, 3, 8, 8), 4, 1),
    ((1, 1, 7, 9), 2, 1),          # batch 1, C_in 1, ragged tiles for m=2 and m=4
    ((2, 5, 11, 6), 3, 0),
    ((1, 4, 3, 3), 2, (0, 2)),     # a single output row, asymmetric padding
    ((2, 8, 13, 10), 6, 2),
]


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,c_out,padding", CASES)
def test_winograd_matches_torch(xs, c_out, padding, dtype, m):
    rng = np.random.default_rng(sum(xs) + m)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal((c_out, xs[1], 3, 3)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    ref = F.conv2d(*map(torch.from_numpy, (x, w, b)), padding=padding).numpy()
    y = conv2d_winograd(x, w, b, padding, m=m)
    assert y.dtype == dtype and y.shape == ref.shape
    tol = dict(rtol=1e-3, atol=1e-3) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y, ref, **tol)


def test_winograd_rejects_unsupported_shapes():
    x = np.zeros((1, 2, 8, 8), np.float32)
    with pytest.raises(ValueError, match="3x3 kernel"):
        conv2d_winograd(x, np.zeros((2, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="tile m"):
        conv2d_winograd(x, np.zeros((2, 2, 3, 3), np.float32), m=3)
    with pytest.raises(TypeError, match="dtype"):
        conv2d_winograd(x, np.zeros((2, 2, 3, 3), np.float64))


def test_error_grows_with_tile_size():
    err = winograd_error_study(shape=(1, 16, 12, 12), c_out=8, seeds=2)
    direct, f2, f4 = (err[k]["rms_rel"] for k in
                      ("direct", "winograd F(2x2,3x3)", "winograd F(4x4,3x3)"))
    assert 0 < direct < 1e-6 and f4 < 1e-4
    assert f4 > 2 * f2                              # larger transform entries, more rounding

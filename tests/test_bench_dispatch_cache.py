"""The conv2d(algo="auto") cost model with its Winograd transforms cached.

The cache must not change a single decision: every estimate and choice is compared
with a fresh computation that rebuilds the exact Cook-Toom matrices on each call
(the code path before the cache, kept as ``winograd_matrices.uncached``).
"""
import numpy as np
import pytest

from course_lib.conv import dispatch, opcount
from course_lib.conv.dispatch import CostModel, choose_algorithm, conv2d
from course_lib.conv.opcount import matvec_cost
from course_lib.conv.winograd_transforms import winograd_matrices

FIXED = CostModel()
CALIBRATED_LIKE = CostModel(gemm_gflops=37.0, copy_gbs=2.5, fft_gflops=1.2)

LAYERS = [  # x shape, w shape, stride, padding
    ((8, 64, 56, 56), (64, 64, 3, 3), 1, 1),
    ((8, 128, 28, 28), (128, 128, 3, 3), 1, 1),
    ((8, 256, 14, 14), (256, 256, 3, 3), 1, 1),
    ((1, 3, 224, 224), (64, 3, 7, 7), 2, 3),
    ((8, 16, 64, 64), (16, 16, 11, 11), 1, 0),
    ((2, 8, 13, 17), (4, 8, 3, 3), 1, 0),
    ((1, 512, 7, 7), (512, 512, 3, 3), 1, 1),
    ((32, 32, 32, 32), (64, 32, 3, 3), 1, 1),
    ((4, 16, 9, 9), (16, 16, 5, 5), 1, 2),
]


@pytest.fixture(autouse=True)
def _fresh():
    dispatch.clear_cache()
    yield
    dispatch.clear_cache()


def _uncached_costs(m, r=3):
    mats = winograd_matrices.uncached(m, r, None, "lavin")
    return matvec_cost(mats.BT), matvec_cost(mats.AT), matvec_cost(mats.G)


def _estimates(model):
    return [(c.algo, c.eligible, c.est_ms)
            for xs, ws, s, p in LAYERS
            for c in choose_algorithm(xs, ws, s, p, np.float32, model).candidates] + \
           [choose_algorithm(xs, ws, s, p, np.float32, model).algo for xs, ws, s, p in LAYERS]


def _winograd_counts():
    # the estimate uses only the elementwise stage; the op counts hold the transforms too
    return [(m, opcount.winograd_ops(xs, ws, p, m).parts)
            for xs, ws, s, p in LAYERS if ws[2:] == (3, 3) and s == 1 for m in (2, 4, 6)]


@pytest.mark.parametrize("model", [FIXED, CALIBRATED_LIKE])
def test_cached_cost_model_gives_the_same_choices(model, monkeypatch):
    cached, counts = _estimates(model), _winograd_counts()
    monkeypatch.setattr(opcount, "winograd_transform_costs", _uncached_costs)
    assert _estimates(model) == cached
    assert _winograd_counts() == counts


@pytest.mark.parametrize("m", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("scale", ["none", "lavin"])
def test_cached_matrices_equal_a_fresh_build(m, scale):
    a, b = winograd_matrices(m, 3, scale=scale), winograd_matrices.uncached(m, 3, None, scale)
    assert (a.AT, a.G, a.BT, a.points) == (b.AT, b.G, b.BT, b.points)
    assert winograd_matrices(m, 3, scale=scale) is a          # second call: the cached object


def test_cache_accepts_points_as_a_list_and_still_validates():
    listed = winograd_matrices(2, 3, points=[0, 1, -1, "inf"])   # a list, keyed as a tuple
    fresh = winograd_matrices.uncached(2, 3, (0, 1, -1, "inf"), "lavin")
    assert (listed.AT, listed.G, listed.BT) == (fresh.AT, fresh.G, fresh.BT)
    # a third, independent path: the matrices compute a correlation exactly
    from fractions import Fraction
    from course_lib.conv.winograd_transforms import correlate_1d
    d, g = [Fraction(v) for v in (7, -3, 2, 5)], [Fraction(v) for v in (1, 4, -2)]
    assert correlate_1d(listed, d, g) == [sum(d[i + k] * g[k] for k in range(3))
                                          for i in range(2)]
    with pytest.raises(ValueError, match="distinct"):
        winograd_matrices(2, 3, points=[0, 1, 1, "inf"])


def test_transform_costs_are_counted_from_the_matrices():
    # F(2,3) Lavin form: B^T has 8 nonzeros of value +-1 -> 0 mults, 4 adds;
    # A^T = [[1,1,1,0],[0,1,-1,-1]] -> 0 mults, 2 + 2 adds; G has 1/2 entries -> 6 mults
    (bm, ba), (am, aa), (gm, ga) = opcount.winograd_transform_costs(2)
    assert (bm, ba, am, aa) == (0, 4, 0, 4)
    assert gm == 6 and ga == 0 + 2 + 2 + 0


def test_conv2d_auto_reports_its_dispatch_time():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 12, 12), dtype=np.float32)
    w = rng.standard_normal((8, 8, 3, 3), dtype=np.float32)
    _, info = conv2d(x, w, None, 1, 1, algo="auto", return_info=True, model=FIXED)
    assert info.method == "heuristic" and info.dispatch_ms is not None
    assert 0 <= info.dispatch_ms < 1e3
    _, req = conv2d(x, w, None, 1, 1, algo="im2col", return_info=True)
    assert req.dispatch_ms is None                             # nothing was chosen

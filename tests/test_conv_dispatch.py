"""conv2d(algo=...) entry point: every algorithm against PyTorch, the chooser, the cache."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.conv import dispatch
from course_lib.conv.dispatch import CostModel, conv2d, explain
from course_lib.memory import peak_memory

FIXED = CostModel()   # uncalibrated defaults: deterministic choices in tests


@pytest.fixture(autouse=True)
def _fresh_cache():
    dispatch.clear_cache()
    yield
    dispatch.clear_cache()


def _case(xs, ws, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype),
            rng.standard_normal(ws[0]).astype(dtype))


@pytest.mark.parametrize("algo", ["naive", "direct", "im2col", "winograd", "winograd_f2",
                                  "winograd_f4", "fft", "auto"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_algo_matches_torch(algo, dtype):
    x, w, b = _case((2, 3, 7, 6), (4, 3, 3, 3), dtype)
    ref = F.conv2d(*map(torch.from_numpy, (x, w, b)), padding=1).numpy()
    y = conv2d(x, w, b, 1, 1, algo=algo, model=FIXED)
    assert y.dtype == dtype and y.shape == ref.shape
    tol = 1e-3 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(y, ref, rtol=tol, atol=tol)


def test_unsupported_requests_raise():
    x, w, _ = _case((1, 2, 9, 9), (2, 2, 5, 5))
    with pytest.raises(ValueError, match="3x3 kernel"):
        conv2d(x, w, algo="winograd")
    x, w, _ = _case((1, 2, 9, 9), (2, 2, 3, 3))
    with pytest.raises(ValueError, match="stride 1"):
        conv2d(x, w, stride=2, algo="winograd_f4")
    with pytest.raises(ValueError, match="algo must be"):
        conv2d(x, w, algo="gemm")


def test_heuristic_prefers_expected_families():
    # large 3x3 stride-1 layer: a Winograd variant; 7x7 stride 2: not Winograd; big kernel: FFT
    c = explain((8, 64, 56, 56), (64, 64, 3, 3), 1, 1, model=FIXED)
    assert c.algo.startswith("winograd") and c.method == "heuristic"
    assert {k.algo for k in c.candidates} == set(dispatch.AUTO_CANDIDATES)
    c = explain((8, 3, 224, 224), (64, 3, 7, 7), 2, 3, model=FIXED)
    assert not c.algo.startswith("winograd")
    assert all(not k.eligible for k in c.candidates if k.algo.startswith("winograd"))
    assert explain((8, 16, 128, 128), (16, 16, 15, 15), model=FIXED).algo == "fft"


def test_estimates_follow_op_counts():
    # doubling the batch roughly doubles the estimates (FFT less: its kernel transforms
    # and per-frequency call overhead do not grow with the batch)
    g1 = dispatch.geometry((4, 32, 28, 28), (32, 32, 3, 3), 1, 1)
    g2 = dispatch.geometry((8, 32, 28, 28), (32, 32, 3, 3), 1, 1)
    for algo in ("direct", "im2col", "winograd_f4", "fft"):
        r = dispatch.estimate_seconds(algo, g2, 4, FIXED) / dispatch.estimate_seconds(algo, g1, 4, FIXED)
        assert (1.5 if algo != "fft" else 1.05) < r < 2.1, (algo, r)


def test_benchmark_mode_times_candidates_and_caches():
    x, w, b = _case((2, 4, 10, 10), (4, 4, 3, 3))
    ref = F.conv2d(*map(torch.from_numpy, (x, w, b)), padding=1).numpy()
    y, info = conv2d(x, w, b, 1, 1, benchmark=True, return_info=True, model=FIXED, prune=1e9)
    np.testing.assert_allclose(y, ref, rtol=1e-3, atol=1e-3)
    assert info.method == "benchmark"
    timed = [c for c in info.candidates if c.measured_ms is not None]
    assert len(timed) == len(dispatch.AUTO_CANDIDATES)   # 3x3 stride 1: all eligible
    assert info.algo == min(timed, key=lambda c: c.measured_ms).algo
    y2, info2 = conv2d(x, w, b, 1, 1, return_info=True, model=FIXED)
    assert info2.method == "cache" and info2.algo == info.algo
    np.testing.assert_allclose(y2, ref, rtol=1e-3, atol=1e-3)
    assert explain(x.shape, w.shape, 1, 1).method == "cache"
    # another dtype is another key
    assert explain(x.shape, w.shape, 1, 1, np.float64, model=FIXED).method == "heuristic"
    assert "chose" in info.table()


def test_module_switch(monkeypatch):
    monkeypatch.setattr(dispatch, "BENCHMARK", True)
    x, w, _ = _case((1, 2, 8, 8), (2, 2, 3, 3))
    _, info = conv2d(x, w, return_info=True, model=FIXED)
    assert info.method == "benchmark"


def test_peak_memory_sees_im2col_workspace():
    x, w, _ = _case((1, 8, 32, 32), (8, 8, 3, 3))
    rep_i = peak_memory(conv2d, x, w, None, 1, 1, algo="im2col")
    cols_bytes = 8 * 9 * 32 * 32 * 4
    assert rep_i.peak_bytes >= cols_bytes                   # the column buffer was counted
    assert rep_i.retained_bytes == pytest.approx(rep_i.result.nbytes, rel=0.1)
    np.testing.assert_allclose(rep_i.result, conv2d(x, w, None, 1, 1, algo="direct"), atol=1e-4)

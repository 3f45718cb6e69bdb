"""The CUDA convolution ladder against PyTorch (CPU, float64) and each other.

Emulator tests run everywhere, under two thread schedules (a kernel without races gives the
same answer under both).  ``@pytest.mark.gpu`` tests run the CuPy backend on a real GPU against
PyTorch and against the emulator; they are skipped without a GPU.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.conv import conv2d_direct
from course_lib.conv._args import geometry
from course_lib.cuda import RawModule, gpu_available, kernel_path
from course_lib.conv import gpu as cc

CONV = "course_lib.conv"      # the package whose kernels/ folder holds the .cu files

SCHEDULES = ("forward", "reverse")

# (B, C_in, H, W), (C_out, C_in, KH, KW), stride, padding -- chosen for the kernels' edge cases
CASES = [
    ((1, 1, 5, 5), (1, 1, 3, 3), 1, 0),              # smallest 3x3
    ((2, 3, 19, 21), (5, 3, 3, 3), 2, 1),            # stride 2: OH, OW = 10, 11 (not tile multiples)
    ((1, 10, 17, 18), (9, 10, 3, 2), 1, (1, 0)),     # 2 C_in chunks (8 + 2), 2 C_out groups (8 + 1), 2x2 tiles
    ((2, 2, 9, 7), (3, 2, 5, 4), (3, 2), (2, 3)),    # pair stride/padding, padding > K/2
    ((1, 3, 6, 6), (4, 3, 1, 1), 1, 2),              # 1x1 kernel with padding: border outputs = bias
    ((2, 2, 4, 3), (2, 2, 6, 5), 1, 1),              # kernel = padded input: 1x1 output
    ((1, 2, 11, 11), (3, 2, 7, 7), 2, 3),            # stem-like 7x7 / 2
]
IDS = [f"x{x}_w{w}_s{s}_p{p}" for x, w, s, p in CASES]


def make(case, seed=0, bias=True):
    xs, ws, s, p = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32) if bias else None
    return x, w, b, s, p


def torch_ref(x, w, b, s, p, dy=None):
    """PyTorch in float64: y, and with dy also (dx, dw, db)."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = None if b is None else torch.tensor(b, dtype=torch.float64, requires_grad=True)
    y = F.conv2d(xt, wt, bt, stride=s, padding=p)
    if dy is None:
        return y.detach().numpy()
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return xt.grad.numpy(), wt.grad.numpy(), (None if bt is None else bt.grad.numpy())


def assert_close(got, ref, what=""):
    got = np.asarray(got)
    assert got.dtype == np.float32 and got.shape == ref.shape, (got.dtype, got.shape, ref.shape)
    scale = max(1.0, float(np.abs(ref).max(initial=0)))
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * scale, err_msg=what)


# ---------------------------------------------------------------- emulator: forward

@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("kernel", cc.FORWARD_KERNELS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_matches_torch_on_emulator(case, kernel, schedule):
    x, w, b, s, p = make(case)
    y = cc.conv2d_gpu(x, w, b, s, p, kernel=kernel, backend="emulator", schedule=schedule)
    assert_close(y, torch_ref(x, w, b, s, p), f"{kernel} {schedule}")


@pytest.mark.parametrize("kernel", cc.FORWARD_KERNELS)
def test_forward_without_bias_matches_conv2d_direct(kernel):
    x, w, _, s, p = make(CASES[2], seed=3, bias=False)
    ref = conv2d_direct(x.astype(np.float64), w.astype(np.float64), None, s, p)
    assert_close(cc.conv2d_gpu(x, w, None, s, p, kernel=kernel, backend="emulator"), ref)


def test_non_contiguous_input_is_copied_not_misread():
    x, w, b, s, p = make(CASES[1])
    xt = np.asfortranarray(x)            # same values, other memory order
    assert_close(cc.conv2d_gpu(xt, w, b, s, p, kernel="naive", backend="emulator"),
                 torch_ref(x, w, b, s, p))


# ---------------------------------------------------------------- emulator: backward

@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("case", CASES[1:5], ids=IDS[1:5])
def test_backward_kernels_match_torch_autograd_on_emulator(case, schedule):
    x, w, b, s, p = make(case, seed=1)
    g = geometry(x.shape, w.shape, s, p)
    dy = np.random.default_rng(2).standard_normal(g.y_shape).astype(np.float32)
    dx_ref, dw_ref, db_ref = torch_ref(x, w, b, s, p, dy)
    kw = dict(backend="emulator", schedule=schedule)
    for kernel in ("reduce", "im2col"):
        assert_close(cc.conv2d_backward_weight_gpu(dy, x, w, s, p, kernel=kernel, **kw), dw_ref, f"dW {kernel}")
    for kernel in ("gather", "col2im"):
        assert_close(cc.conv2d_backward_input_gpu(dy, x.shape, w, s, p, kernel=kernel, **kw), dx_ref,
                     f"dX {kernel}")
    assert_close(cc.conv2d_backward_bias_gpu(dy, **kw), db_ref, "db")


def test_weight_gradient_with_more_terms_than_one_block():
    # B*OH*OW = 2*20*20 = 800 > 256 threads: every thread sums several terms, 8 warps combine
    x, w, b, s, p = make(((2, 2, 20, 20), (2, 2, 3, 3), 1, 1), seed=4)
    dy = np.random.default_rng(5).standard_normal((2, 2, 20, 20)).astype(np.float32)
    _, dw_ref, db_ref = torch_ref(x, w, b, s, p, dy)
    assert_close(cc.conv2d_backward_weight_gpu(dy, x, w, s, p, backend="emulator", schedule="reverse"), dw_ref)
    assert_close(cc.conv2d_backward_bias_gpu(dy, backend="emulator"), db_ref)


# ---------------------------------------------------------------- the harness can fail

def test_missing_barrier_in_tiled_kernel_gives_a_wrong_answer():
    """Drop the __syncthreads() that protects the staged tile: with two C_in chunks the first
    threads to finish overwrite the tile while the others still read it."""
    src = kernel_path("conv2d_tiled.cu", package=CONV).read_text()
    broken = src.replace("__syncthreads();   // 5.", "/* barrier removed */")
    assert broken != src
    x, w, b, s, p = make(CASES[2])
    g = geometry(x.shape, w.shape, s, p)
    cfg = cc.tiled_launch_config(g)
    assert cfg["ci_chunk"] < g.C_in, "the case must need two chunks"
    ref = torch_ref(x, w, b, s, p)
    for code, should_match in ((src, True), (broken, False)):
        y = np.zeros(g.y_shape, np.float32)
        k = RawModule(code=code, backend="emulator").get_function("conv2d_tiled")
        k(cfg["grid"], cfg["block"], (x, w, b, y, *cc._geometry_args(g), np.int32(cfg["ci_chunk"])),
          shared_mem=cfg["shared_mem"])
        scale = max(1.0, float(np.abs(ref).max()))
        assert np.allclose(y, ref, rtol=1e-4, atol=1e-4 * scale) == should_match


def test_barrier_kernels_are_race_free_under_thread_sanitizer():
    """The kernels with __syncthreads() (shared-memory tile, block reduction) run clean and right
    under the emulator's ThreadSanitizer build, where only barriers and warp operations order the
    CUDA threads (it does report, e.g., a shared-memory reversal without its barrier)."""
    x, w, b, s, p = make(((1, 10, 5, 18), (9, 10, 3, 2), 2, (1, 0)), seed=8)
    g = geometry(x.shape, w.shape, s, p)
    cfg = cc.tiled_launch_config(g)
    y = np.zeros(g.y_shape, np.float32)
    tiled = RawModule(path=kernel_path("conv2d_tiled.cu", package=CONV), backend="emulator",
                      sanitizer="thread")
    tiled.get_function("conv2d_tiled")(cfg["grid"], cfg["block"],
                                       (x, w, b, y, *cc._geometry_args(g), np.int32(cfg["ci_chunk"])),
                                       shared_mem=cfg["shared_mem"])
    assert_close(y, torch_ref(x, w, b, s, p), "tiled under TSan")
    dy = np.random.default_rng(9).standard_normal(g.y_shape).astype(np.float32)
    back = RawModule(path=kernel_path("conv2d_backward.cu", package=CONV), backend="emulator",
                     sanitizer="thread")
    wsmall = w[:2, :2].copy()                          # a few blocks are enough for the reduction
    gs = geometry((1, 2, 5, 18), wsmall.shape, s, p)
    dys, dws = dy[:, :2].copy(), np.zeros(wsmall.shape, np.float32)
    back.get_function("conv2d_backward_weight")((dws.size,), (cc.reduce_block_size(gs.B * gs.OH * gs.OW),),
                                                (dys, x[:, :2].copy(), dws, *cc._geometry_args(gs)))
    assert_close(dws, torch_ref(x[:, :2], wsmall, None, s, p, dys)[1], "dW under TSan")


# ---------------------------------------------------------------- launch configuration

@pytest.mark.parametrize("case", CASES + [((8, 64, 56, 56), (64, 64, 3, 3), 1, 1),
                                          ((8, 3, 224, 224), (64, 3, 7, 7), 2, 3)])
def test_tiled_grid_covers_every_output_once(case):
    xs, ws, s, p = case
    g = geometry(xs, ws, s, p)
    cfg = cc.tiled_launch_config(g)
    gx, gy, gz = cfg["grid"]
    tiles_h, tiles_w = -(-g.OH // 16), -(-g.OW // 16)
    assert gx == tiles_h * tiles_w and gz == g.B
    assert (tiles_h - 1) * 16 < g.OH <= tiles_h * 16 and (tiles_w - 1) * 16 < g.OW <= tiles_w * 16
    assert (gy - 1) * cc.CO_TILE < g.C_out <= gy * cc.CO_TILE
    assert 1 <= cfg["ci_chunk"] <= g.C_in and cfg["shared_mem"] <= cc.SMEM_LIMIT


def test_naive_grid_has_one_thread_per_output():
    g = geometry((2, 3, 19, 21), (5, 3, 3, 3), 2, 1)
    cfg = cc.naive_launch_config(g)
    n = 2 * 5 * 10 * 11
    assert cfg["grid"][0] * cfg["block"][0] >= n > (cfg["grid"][0] - 1) * cfg["block"][0]


def test_tiled_refuses_a_kernel_too_big_for_shared_memory():
    g = geometry((1, 1, 400, 400), (1, 1, 60, 60), 4, 0)
    with pytest.raises(ValueError, match="shared memory"):
        cc.tiled_launch_config(g)


def test_registry_names_existing_kernels():
    for name, info in cc.KERNELS.items():
        src = kernel_path(info.file, package=CONV).read_text()
        assert f"__global__ void {info.function}(" in src, name
        assert info.description


# ---------------------------------------------------------------- argument checks

def test_float64_is_rejected_with_a_hint():
    x, w, b, s, p = make(CASES[0])
    with pytest.raises(TypeError, match=r"float32 only: x has dtype float64.*astype\(np.float32\)"):
        cc.conv2d_gpu(x.astype(np.float64), w, b, backend="emulator")
    with pytest.raises(TypeError, match="dy has dtype float64"):
        cc.conv2d_backward_weight_gpu(np.zeros((1, 1, 3, 3)), x, w, backend="emulator")


def test_bad_shapes_and_values_are_rejected():
    x, w, b, s, p = make(CASES[1])
    with pytest.raises(ValueError, match="channel mismatch"):
        cc.conv2d_gpu(x, w[:, :2].copy(), b, backend="emulator")
    with pytest.raises(ValueError, match="stride"):
        cc.conv2d_gpu(x, w, b, stride=0, backend="emulator")
    xn = x.copy()
    xn[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cc.conv2d_gpu(xn, w, b, backend="emulator")
    with pytest.raises(ValueError, match="kernel must be one of"):
        cc.conv2d_gpu(x, w, b, kernel="winograd", backend="emulator")
    with pytest.raises(ValueError, match="dy has shape"):
        cc.conv2d_backward_input_gpu(np.zeros((2, 5, 3, 3), np.float32), x.shape, w, s, p, backend="emulator")
    with pytest.raises(TypeError, match="numpy.ndarray"):
        cc.conv2d_gpu(x.tolist(), w, b, backend="emulator")


# ---------------------------------------------------------------- real GPU (CuPy backend)

needs_gpu = pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a CUDA GPU")
GPU_CASES = CASES + [((4, 32, 33, 35), (40, 32, 3, 3), 1, 1), ((2, 3, 45, 47), (16, 3, 7, 7), 2, 3)]
GPU_IDS = IDS + ["medium_3x3", "stem_7x7s2"]


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("kernel", cc.FORWARD_KERNELS)
@pytest.mark.parametrize("case", GPU_CASES, ids=GPU_IDS)
def test_gpu_forward_matches_torch(case, kernel):
    import cupy
    x, w, b, s, p = make(case)
    ref = torch_ref(x, w, b, s, p)
    y_np = cc.conv2d_gpu(x, w, b, s, p, kernel=kernel, backend="cupy")        # NumPy in, NumPy out
    assert isinstance(y_np, np.ndarray)
    assert_close(y_np, ref, kernel)
    y_cp = cc.conv2d_gpu(cupy.asarray(x), cupy.asarray(w), cupy.asarray(b), s, p, kernel=kernel, backend="cupy")
    assert isinstance(y_cp, cupy.ndarray)                                      # CuPy in, CuPy out
    assert_close(cupy.asnumpy(y_cp), ref, kernel)


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("case", GPU_CASES[1:5] + GPU_CASES[-2:], ids=GPU_IDS[1:5] + GPU_IDS[-2:])
def test_gpu_backward_matches_torch(case):
    import cupy
    x, w, b, s, p = make(case, seed=1)
    g = geometry(x.shape, w.shape, s, p)
    dy = np.random.default_rng(2).standard_normal(g.y_shape).astype(np.float32)
    dx_ref, dw_ref, db_ref = torch_ref(x, w, b, s, p, dy)
    dyd, xd, wd = cupy.asarray(dy), cupy.asarray(x), cupy.asarray(w)
    for kernel in ("reduce", "im2col"):
        assert_close(cupy.asnumpy(cc.conv2d_backward_weight_gpu(dyd, xd, wd, s, p, kernel=kernel, backend="cupy")),
                     dw_ref, f"dW {kernel}")
    for kernel in ("gather", "col2im"):
        assert_close(cupy.asnumpy(cc.conv2d_backward_input_gpu(dyd, x.shape, wd, s, p, kernel=kernel,
                                                               backend="cupy")), dx_ref, f"dX {kernel}")
    assert_close(cupy.asnumpy(cc.conv2d_backward_bias_gpu(dyd, backend="cupy")), db_ref, "db")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("kernel", cc.FORWARD_KERNELS)
def test_gpu_and_emulator_agree(kernel):
    from course_lib.cuda import CompileError
    x, w, b, s, p = make(CASES[2], seed=7)
    on_gpu = cc.conv2d_gpu(x, w, b, s, p, kernel=kernel, backend="cupy")
    try:
        on_cpu = cc.conv2d_gpu(x, w, b, s, p, kernel=kernel, backend="emulator")
    except CompileError as exc:                     # e.g. no g++ on the GPU machine
        pytest.skip(f"emulator unavailable here: {exc}")
    scale = max(1.0, float(np.abs(on_cpu).max()))
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.gpu
@needs_gpu
def test_gpu_nan_in_device_array_is_rejected():
    import cupy
    x, w, b, s, p = make(CASES[1])
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cc.conv2d_gpu(cupy.asarray(x), cupy.asarray(w), cupy.asarray(b), s, p, backend="cupy")

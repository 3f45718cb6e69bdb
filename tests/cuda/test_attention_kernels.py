"""The attention kernels (softmax, LayerNorm, the unfused attention pipeline) against PyTorch.

References are PyTorch in float64 (``F.softmax``, ``F.layer_norm`` with autograd,
``F.scaled_dot_product_attention``); the kernels run on the CPU emulator under all three thread
schedules, on ragged sizes (rows not a multiple of the rows per block, S not a multiple of 32,
S = 1), and under AddressSanitizer / ThreadSanitizer on small sizes.  ``@pytest.mark.gpu`` tests
run the CuPy backend and skip without a GPU.  NVRTC compiles each ``.cu`` file for four
architectures (skipped when NVRTC cannot load).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.attention import gpu as ag
from course_lib.cuda import RawModule, SanitizerError, gpu_available
from course_lib.memory import peak_memory

SCHEDULES = ("forward", "reverse", "random")
EMU = dict(backend="emulator")


def t64(a):
    return torch.tensor(a) if a.dtype == np.bool_ else torch.tensor(a, dtype=torch.float64)


def assert_close(got, ref, what="", rtol=1e-5, atol=1e-6):
    got = np.asarray(got)
    assert got.dtype == np.float32 and got.shape == ref.shape, (got.dtype, got.shape, ref.shape, what)
    assert np.isfinite(got).all(), f"{what}: NaN/inf in the result"
    scale = max(1.0, float(np.abs(ref).max(initial=0)))
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol * scale, err_msg=what)


# ---------------------------------------------------------------- softmax: reference and cases

def softmax_ref(x, mask=None, is_causal=False):
    """torch.softmax in float64 over the allowed entries; rows with none allowed -> 0."""
    xt = t64(x)
    L, S = x.shape[-2:]
    allowed = torch.ones(x.shape, dtype=torch.bool)
    if mask is not None:
        allowed = allowed & torch.tensor(mask)
    if is_causal:
        allowed = allowed & torch.ones(L, S, dtype=torch.bool).tril()
    y = torch.softmax(xt.masked_fill(~allowed, float("-inf")), dim=-1)
    return torch.nan_to_num(y, nan=0.0).numpy()     # 0/0 rows of the reference -> 0


# (..., L, S): rows = prod(...) * L
SOFTMAX_SHAPES = [
    (1, 1),            # a single element: y = 1
    (3, 5, 1),         # S = 1 everywhere
    (2, 7, 45),        # 14 rows: the last block of 4 warps has 2 idle warps; S not a multiple of 32
    (1, 3, 33),        # S = 32 + 1: one lane has a second column
    (2, 2, 9, 100),    # 4-D, 36 rows
]


def logits(shape, seed=0, scale=3.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("variant", ag.VARIANTS)
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES, ids=str)
def test_softmax_matches_torch(shape, variant, schedule):
    x = logits(shape)
    y = ag.softmax(x, variant=variant, schedule=schedule, **EMU)
    assert_close(y, softmax_ref(x), f"{variant} {schedule}")


@pytest.mark.parametrize("variant", ag.VARIANTS)
@pytest.mark.parametrize("shape", [(3, 2000), (2, 1, 4097)], ids=str)
def test_softmax_long_rows(shape, variant):
    """Rows longer than the block: each thread of the 256-thread block has 8-17 columns."""
    x = logits(shape, seed=1)
    assert_close(ag.softmax(x, variant=variant, schedule="random", **EMU), softmax_ref(x), variant)


@pytest.mark.parametrize("variant", ag.VARIANTS)
def test_softmax_huge_logits_are_stable(variant):
    """+-1e4: exp(1e4) overflows float32 and exp(-1e4) underflows; the max shift avoids both."""
    rng = np.random.default_rng(2)
    x = (rng.choice([-1e4, 1e4], size=(6, 70)) + rng.standard_normal((6, 70))).astype(np.float32)
    x[1] = -1e4 + rng.standard_normal(70).astype(np.float32)    # every entry hugely negative
    y = ag.softmax(x, variant=variant, **EMU)
    assert_close(y, softmax_ref(x), variant)
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("variant", ag.VARIANTS)
def test_softmax_masks_and_fully_masked_rows(variant, schedule):
    rng = np.random.default_rng(3)
    x = logits((2, 3, 6, 40), seed=3)
    plane = rng.random((6, 40)) > 0.4
    plane[2] = False                                    # query 2 may attend to nothing
    padding = np.ones((2, 1, 1, 40), bool)
    padding[1, ..., 17:] = False                        # key padding of batch entry 1
    full = rng.random(x.shape) > 0.5
    full[0, 1, 4] = False
    for mask in (plane, padding, full):
        y = ag.softmax(x, mask=mask, variant=variant, schedule=schedule, **EMU)
        ref = softmax_ref(x, mask)
        assert_close(y, ref, f"mask {mask.shape}")
    y = ag.softmax(x, mask=plane, variant=variant, schedule=schedule, **EMU)
    assert not y[:, :, 2].any(), "a fully masked row must be zeros"


@pytest.mark.parametrize("variant", ag.VARIANTS)
@pytest.mark.parametrize("L,S", [(7, 7), (9, 4), (3, 70)])
def test_softmax_causal(L, S, variant):
    """Top-left aligned: query i sees keys 0..i (L > S: the last rows see every key)."""
    x = logits((2, L, S), seed=4)
    assert_close(ag.softmax(x, is_causal=True, variant=variant, **EMU), softmax_ref(x, None, True))
    m = np.random.default_rng(5).random((L, S)) > 0.3
    assert_close(ag.softmax(x, mask=m, is_causal=True, variant=variant, **EMU), softmax_ref(x, m, True))


@pytest.mark.parametrize("variant", ag.VARIANTS)
def test_softmax_minus_inf_entries_mean_masked(variant):
    x = logits((5, 37), seed=6)
    x[0, ::3] = -np.inf
    x[3, :] = -np.inf                                   # an additive mask of all -inf
    y = ag.softmax(x, variant=variant, **EMU)
    assert_close(y, softmax_ref(x), variant)
    assert not y[3].any() and not y[0, ::3].any()


# ---------------------------------------------------------------- LayerNorm

def layer_norm_ref(x, w, b, dy, eps=1e-5):
    """torch in float64: y, mean, rstd, and (dx, dw, db) by autograd."""
    xt = t64(x).requires_grad_()
    wt = None if w is None else t64(w).requires_grad_()
    bt = None if b is None else t64(b).requires_grad_()
    y = F.layer_norm(xt, (x.shape[-1],), wt, bt, eps)
    y.backward(t64(dy))
    x64 = x.astype(np.float64)
    mean = x64.mean(-1)
    rstd = 1.0 / np.sqrt(x64.var(-1) + eps)
    return (y.detach().numpy(), mean, rstd, xt.grad.numpy(),
            None if wt is None else wt.grad.numpy(), None if bt is None else bt.grad.numpy())


LN_SHAPES = [(13, 1), (5, 3, 77), (9, 32), (3, 300), (2, 1000)]


def ln_data(shape, seed=0, affine=True, shift=0.0):
    rng = np.random.default_rng(seed)
    x = (shift + 2.0 * rng.standard_normal(shape)).astype(np.float32)
    N = shape[-1]
    w = rng.standard_normal(N).astype(np.float32) if affine else None
    b = rng.standard_normal(N).astype(np.float32) if affine else None
    dy = rng.standard_normal(shape).astype(np.float32)
    return x, w, b, dy


def check_layer_norm(x, w, b, dy, what, rtol=1e-4, atol=1e-5, **kw):
    y_ref, m_ref, r_ref, dx_ref, dw_ref, db_ref = layer_norm_ref(x, w, b, dy)
    y, mean, rstd = ag.layer_norm(x, w, b, **kw)
    assert_close(y, y_ref, f"y {what}", rtol, atol)
    assert_close(mean, m_ref, f"mean {what}", rtol, atol)
    assert_close(rstd, r_ref, f"rstd {what}", rtol, atol)
    dx, dw, db = ag.layer_norm_backward(dy, x, w, mean, rstd, **kw)
    assert_close(dx, dx_ref, f"dx {what}", rtol, atol)
    if w is not None:
        assert_close(dw, dw_ref, f"dw {what}", rtol, atol)
        assert_close(db, db_ref, f"db {what}", rtol, atol)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("variant", ag.VARIANTS)
@pytest.mark.parametrize("shape", LN_SHAPES, ids=str)
def test_layer_norm_forward_and_backward_match_torch(shape, variant, schedule):
    x, w, b, dy = ln_data(shape)
    check_layer_norm(x, w, b, dy, f"{variant} {schedule}", variant=variant, schedule=schedule, **EMU)


@pytest.mark.parametrize("variant", ag.VARIANTS)
def test_layer_norm_without_affine_parameters(variant):
    x, _, _, dy = ln_data((6, 50), seed=1, affine=False)
    check_layer_norm(x, None, None, dy, variant, variant=variant, **EMU)


def test_layer_norm_parameter_gradients_over_many_row_groups():
    """600 rows: 3 row groups of the dw/db partial kernel, then column_sum adds them."""
    assert ag.layer_norm_param_groups(600) == 3
    x, w, b, dy = ln_data((600, 40), seed=2)
    check_layer_norm(x, w, b, dy, "600 rows", atol=2e-5, schedule="reverse", **EMU)


@pytest.mark.parametrize("variant", ag.VARIANTS)
def test_layer_norm_two_pass_statistics_survive_a_large_mean(variant):
    """x = 1000 + N(0, 4): E[x^2] - E[x]^2 in float32 would lose the variance to cancellation
    (E[x^2] ~ 1e6 has an ulp of 0.06); the two-pass variance stays accurate."""
    x, w, b, dy = ln_data((4, 256), seed=3, shift=1000.0)
    y_ref, _, r_ref, *_ = layer_norm_ref(x, w, b, dy)
    y, _, rstd = ag.layer_norm(x, w, b, variant=variant, **EMU)
    assert_close(rstd, r_ref, "rstd", rtol=1e-3)
    assert_close(y, y_ref, "y", rtol=1e-3, atol=1e-3)
    x64 = x.astype(np.float64)
    one_pass = (x * x).mean(-1, dtype=np.float32) - x.mean(-1, dtype=np.float32) ** 2
    assert np.abs(one_pass - x64.var(-1)).max() > 50 * np.abs(1 / rstd**2 - 1e-5 - x64.var(-1)).max()


# ---------------------------------------------------------------- attention pipeline

def sdpa_ref(q, k, v, **kw):
    kw = {key: (t64(val) if isinstance(val, np.ndarray) else val) for key, val in kw.items()}
    out = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), **kw)
    return torch.nan_to_num(out, nan=0.0).numpy()       # fully masked queries -> 0, as ours


def qkv(qs, ks, vs, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(s).astype(np.float32) for s in (qs, ks, vs))


ATTN_CASES = [
    ((1, 1, 1, 4), (1, 1, 1, 4), (1, 1, 1, 4)),              # L = S = 1
    ((2, 3, 10, 16), (2, 3, 37, 16), (2, 3, 37, 8)),         # L != S, Ev != E, S ragged
    ((2, 2, 33, 8), (2, 2, 33, 8), (2, 2, 33, 8)),           # 132 rows: ragged for 4 warps/block
    ((2, 3, 5, 6), (3, 9, 6), (3, 9, 6)),                    # k, v broadcast over q's batch axis
    ((7, 12), (20, 12), (20, 5)),                            # no batch axes
]


@pytest.mark.parametrize("variant", ag.VARIANTS)
@pytest.mark.parametrize("case", ATTN_CASES, ids=lambda c: f"q{c[0]}_k{c[1]}_v{c[2]}")
def test_attention_matches_torch_sdpa(case, variant):
    q, k, v = qkv(*case)
    assert_close(ag.attention(q, k, v, variant=variant, **EMU), sdpa_ref(q, k, v), variant)
    assert_close(ag.attention(q, k, v, scale=0.3, variant=variant, **EMU),
                 sdpa_ref(q, k, v, scale=0.3), f"{variant} scale")


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_attention_masks_match_torch_sdpa(schedule):
    rng = np.random.default_rng(7)
    q, k, v = qkv((2, 3, 10, 16), (2, 3, 37, 16), (2, 3, 37, 8), seed=7)
    plane = rng.random((10, 37)) > 0.3
    plane[4] = False                                          # a query with no visible key
    padding = np.ones((2, 1, 1, 37), bool)
    padding[0, ..., 30:] = False
    additive = np.where(rng.random((3, 1, 37)) > 0.2, rng.standard_normal((3, 1, 37)),
                        -np.inf).astype(np.float32)
    kw = dict(schedule=schedule, **EMU)
    for mask in (plane, padding, additive):
        assert_close(ag.attention(q, k, v, attn_mask=mask, **kw), sdpa_ref(q, k, v, attn_mask=mask),
                     f"mask {mask.dtype} {mask.shape}")
    assert not ag.attention(q, k, v, attn_mask=plane, **kw)[:, :, 4].any()
    for qs, ks in (((2, 9, 8), (2, 4, 8)), ((2, 4, 8), (2, 9, 8))):      # L > S and L < S
        q2, k2, v2 = qkv(qs, ks, ks, seed=8)
        assert_close(ag.attention(q2, k2, v2, is_causal=True, **kw),
                     sdpa_ref(q2, k2, v2, is_causal=True), f"causal {qs} {ks}")


def test_attention_agrees_with_the_numpy_library():
    """The kernel pipeline (float32) against course_lib.attention's NumPy SDPA in float64."""
    from course_lib.attention import scaled_dot_product_attention
    rng = np.random.default_rng(11)
    q, k, v = qkv((2, 2, 12, 8), (2, 2, 40, 8), (2, 2, 40, 8), seed=11)
    mask = rng.random((2, 1, 12, 40)) > 0.3
    mask[0, 0, 3] = False
    f64 = [a.astype(np.float64) for a in (q, k, v)]
    for kw in ({"attn_mask": mask}, {"is_causal": True}):
        ref = np.nan_to_num(scaled_dot_product_attention(*f64, **kw), nan=0.0)
        assert_close(ag.attention(q, k, v, **kw, **EMU), ref, str(list(kw)))


def test_attention_intermediate_is_measured_and_grows_as_n_squared():
    """tracemalloc sees the NumPy buffers of the emulator pipeline: the peak extra memory covers
    the two L x S arrays the formula names, and doubling L = S (E fixed, small) about quadruples it."""
    q, k, v = qkv((1, 4, 8), (1, 4, 8), (1, 4, 8))
    ag.attention(q, k, v, **EMU)                # warm-up: the first launch builds the kernels
    peaks = {}
    for n in (128, 256):
        q, k, v = qkv((2, 2, n, 8), (2, 2, n, 8), (2, 2, n, 8), seed=9)
        rep = peak_memory(ag.attention, q, k, v, **EMU)
        want = ag.attention_intermediate_bytes(q.shape, k.shape)
        assert want["scores"] == 2 * 2 * n * n * 4 and want["peak"] == 2 * want["scores"]
        assert rep.peak_bytes >= want["peak"], (n, rep.peak_bytes, want)
        assert rep.peak_bytes <= want["peak"] + 4 * want["qkvo"] + (1 << 16), (n, rep.peak_bytes, want)
        peaks[n] = rep.peak_bytes
    assert 3.5 < peaks[256] / peaks[128] < 4.1, peaks


# ---------------------------------------------------------------- sanitizers (small sizes)

def test_kernels_clean_under_address_sanitizer():
    """Out-of-bounds accesses (the last block's idle warps and rows, S = 33 tails, the 1-byte
    dummy mask, ragged dw/db columns) would be reported.  One sanitized launch costs seconds
    (a subprocess), so each kernel runs once."""
    kw = dict(sanitizer="address", **EMU)
    x = logits((6, 33), seed=10)
    m = np.random.default_rng(10).random((6, 33)) > 0.3
    m[1] = False
    assert_close(ag.softmax(x, mask=m, is_causal=True, variant="warp", **kw), softmax_ref(x, m, True))
    assert_close(ag.softmax(x, variant="block", **kw), softmax_ref(x), "block")
    xs, w, b, dy = ln_data((9, 70), seed=11)
    y_ref, _, _, dx_ref, dw_ref, db_ref = layer_norm_ref(xs, w, b, dy)
    y, mean, rstd = ag.layer_norm(xs, w, b, variant="warp", **kw)
    assert_close(y, y_ref, "y", 1e-4, 1e-5)
    for got, ref in zip(ag.layer_norm_backward(dy, xs, w, mean, rstd, variant="block", **kw),
                        (dx_ref, dw_ref, db_ref)):
        assert_close(got, ref, "backward", 1e-4, 1e-5)


def test_shared_memory_kernels_race_free_under_thread_sanitizer():
    """The kernels that share memory between warps -- softmax_block, the block-per-row LayerNorm
    reduction (row_sum, also used by the dx kernel), the dw/db partials -- under ThreadSanitizer,
    where only barriers and warp operations order the CUDA threads.  Launched one by one: each
    sanitized launch costs seconds."""
    kw = dict(backend="emulator", sanitizer="thread")
    x = logits((3, 100), seed=12)
    assert_close(ag.softmax(x, variant="block", **kw), softmax_ref(x), "softmax_block")
    xs, w, b, dy = ln_data((3, 70), seed=13)
    y_ref, m_ref, r_ref, _, dw_ref, db_ref = layer_norm_ref(xs, w, b, dy)
    y, mean, rstd = ag.layer_norm(xs, w, b, variant="block", **kw)
    assert_close(y, y_ref, "layer_norm_forward", 1e-4, 1e-5)
    part = np.zeros((1, 2, 70), np.float32)
    ag.get_kernel("layer_norm_backward_params", **kw)((3, 1), (32, ag.LN_PARAM_ROWS),
                                                      (dy, xs, mean, rstd, part, *ag._i32(3, 70)))
    assert_close(part[0, 0], dw_ref, "dw partials", 1e-4, 1e-5)
    assert_close(part[0, 1], db_ref, "db partials", 1e-4, 1e-5)


def test_thread_sanitizer_catches_a_missing_barrier():
    """The harness can fail: drop the barrier between writing and reading the warp partials of
    block_max; ThreadSanitizer reports the race on the shared array."""
    src = (ag.KERNELS_DIR / "softmax.cu").read_text()
    needle = "    if (lane == 0) red[warp] = v;\n    __syncthreads();\n    v = warp_max("
    assert src.count(needle) == 1
    broken = src.replace(needle, "    if (lane == 0) red[warp] = v;\n    v = warp_max(")
    x = logits((2, 100), seed=12)
    kern = RawModule(code=broken, backend="emulator", sanitizer="thread").get_function("softmax_block")
    y = np.zeros_like(x)
    with pytest.raises(SanitizerError, match="ThreadSanitizer"):
        kern((2,), (128,), (x, np.zeros(1, np.uint8), y, *ag._i32(2, 2, 100, 0, 0)))


# ---------------------------------------------------------------- launch configuration and registry

@pytest.mark.parametrize("rows,S", [(1, 1), (14, 45), (4, 32), (1000, 4097)])
def test_launch_configs_cover_every_row_once(rows, S):
    cfg = ag.softmax_launch_config(rows, S, "warp")
    per = cfg["block"][0] // 32
    assert cfg["block"][0] % 32 == 0 and (cfg["grid"][0] - 1) * per < rows <= cfg["grid"][0] * per
    cfg = ag.softmax_launch_config(rows, S, "block")
    assert cfg["grid"] == (rows,) and cfg["block"][0] % 32 == 0 and cfg["block"][0] <= 256
    for variant in ag.VARIANTS:
        cfg = ag.layer_norm_launch_config(rows, S, variant)
        T, R = cfg["block"]
        assert T % 32 == 0 and T * R <= 1024 and (cfg["grid"][0] - 1) * R < rows <= cfg["grid"][0] * R


def test_registry_names_existing_kernels():
    for name, info in ag.KERNELS.items():
        src = (ag.KERNELS_DIR / info.file).read_text()
        assert f'extern "C" __global__ void {info.function}(' in src, name
        assert info.description


# ---------------------------------------------------------------- argument checks

def test_bad_input_is_rejected_with_names_and_shapes():
    x = logits((4, 8))
    with pytest.raises(TypeError, match=r"float32 only: x has dtype float64"):
        ag.softmax(x.astype(np.float64), **EMU)
    with pytest.raises(ValueError, match=r"at least 2-D"):
        ag.softmax(x[0], **EMU)
    with pytest.raises(ValueError, match="empty axis"):
        ag.softmax(np.zeros((3, 0), np.float32), **EMU)
    xn = x.copy()
    xn[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ag.softmax(xn, **EMU)
    with pytest.raises(TypeError, match="dtype bool"):
        ag.softmax(x, mask=np.ones((4, 8), np.float32), **EMU)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 8\) does not broadcast"):
        ag.softmax(x, mask=np.ones((3, 8), bool), **EMU)
    with pytest.raises(ValueError, match="variant"):
        ag.softmax(x, variant="tile", **EMU)
    q, k, v = qkv((2, 5, 8), (2, 6, 8), (2, 6, 4))
    with pytest.raises(ValueError, match=r"same last axis E: q \(2, 5, 8\)"):
        ag.attention(q, k[..., :7].copy(), v, **EMU)
    with pytest.raises(ValueError, match="number of keys S"):
        ag.attention(q, k, v[:, :5].copy(), **EMU)
    with pytest.raises(ValueError, match="not both"):
        ag.attention(q, k, v, attn_mask=np.ones((5, 6), bool), is_causal=True, **EMU)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(6, 5\)"):
        ag.attention(q, k, v, attn_mask=np.ones((6, 5), bool), **EMU)
    with pytest.raises(TypeError, match="attn_mask must be bool .* or float32"):
        ag.attention(q, k, v, attn_mask=np.ones((5, 6), np.int64), **EMU)
    xs, w, b, dy = ln_data((3, 10))
    with pytest.raises(ValueError, match=r"weight must have shape \(10,\)"):
        ag.layer_norm(xs, w[:9].copy(), b, **EMU)
    with pytest.raises(ValueError, match="eps"):
        ag.layer_norm(xs, w, b, eps=0.0, **EMU)
    _, mean, rstd = ag.layer_norm(xs, w, b, **EMU)
    with pytest.raises(ValueError, match=r"mean must have shape \(3,\)"):
        ag.layer_norm_backward(dy, xs, w, mean[:2].copy(), rstd, **EMU)
    with pytest.raises(ValueError, match="dy has shape"):
        ag.layer_norm_backward(dy[:2].copy(), xs, w, mean, rstd, **EMU)
    with pytest.raises(ValueError, match="backend"):
        ag.softmax(x, backend="opencl")


# ---------------------------------------------------------------- NVRTC (no GPU needed)

ARCHS = ("sm_75", "sm_80", "sm_89", "sm_90")
EXERCISE_CU = ag.KERNELS_DIR.parents[2] / "exercises" / "ch16_4" / "softmax_warp_kernel.cu"
# This module's own kernels (the FlashAttention files beside them have their tests in
# test_flash_kernels.py, and every .cu file is also compiled by test_nvrtc.py).
CU_FILES = (sorted({ag.KERNELS_DIR / k.file for k in ag.KERNELS.values()})
            + ([EXERCISE_CU] if EXERCISE_CU.exists() else []))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("path", CU_FILES, ids=lambda p: p.name)
def test_nvrtc_compiles_for_each_architecture(path, arch):
    from course_lib.cuda import nvrtc
    ok, why = nvrtc.nvrtc_available()
    if not ok:
        pytest.skip(f"NVRTC unavailable: {why}")
    if arch not in nvrtc.archs_for(path.read_text()):
        pytest.skip(f"{path.name} declares a newer minimum architecture than {arch}")
    result = nvrtc.compile_cuda(path, arch=arch)
    names = {k["kernel"] for k in result.kernels}
    want = {line.split("void ")[1].split("(")[0] for line in path.read_text().splitlines()
            if line.startswith('extern "C" __global__ void ')}
    assert names == want and want, result.log
    for k in result.kernels:
        assert 0 < k["registers"] <= 255 and k["spill_store_bytes"] == 0, k


# ---------------------------------------------------------------- real GPU (CuPy backend)

needs_gpu = pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a CUDA GPU")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("variant", ag.VARIANTS)
def test_gpu_kernels_match_torch(variant):
    import cupy
    x = logits((3, 50, 300), seed=20)
    m = np.random.default_rng(20).random((50, 300)) > 0.3
    m[7] = False
    assert_close(ag.softmax(x, mask=m, variant=variant, backend="cupy"), softmax_ref(x, m))
    yd = ag.softmax(cupy.asarray(x), is_causal=True, variant=variant, backend="cupy")
    assert isinstance(yd, cupy.ndarray)
    assert_close(cupy.asnumpy(yd), softmax_ref(x, None, True))
    xs, w, b, dy = ln_data((257, 768), seed=21)
    check_layer_norm(xs, w, b, dy, f"gpu {variant}", atol=2e-5, variant=variant, backend="cupy")
    q, k, v = qkv((2, 4, 100, 64), (2, 4, 130, 64), (2, 4, 130, 32), seed=22)
    pad = np.ones((2, 1, 1, 130), bool)
    pad[1, ..., 90:] = False
    assert_close(ag.attention(q, k, v, attn_mask=pad, variant=variant, backend="cupy"),
                 sdpa_ref(q, k, v, attn_mask=pad), rtol=1e-4, atol=1e-5)

"""The FlashAttention kernels (``course_lib.attention.flash_gpu``) against PyTorch in float64.

References: ``F.scaled_dot_product_attention`` (and its autograd for the backward) on float64
copies of the inputs -- for the 16-bit kernels, of the inputs rounded to float16 / bfloat16, so
the tolerance covers only what the kernel rounds itself (P and the output); the log-sum-exp is
checked against ``torch.logsumexp`` of the float64 scores.  Everything runs on the CPU emulator:
ragged sizes (L, S not multiples of the tiles, E in {16, 64, 80}), GQA and MQA heads, causal
and not, all three thread schedules, AddressSanitizer and ThreadSanitizer on tiny sizes (each
sanitized launch is a subprocess: seconds).  NVRTC compiles every file for sm_75..sm_90 (what
its min-arch marker allows; skipped without NVRTC).  ``@pytest.mark.gpu`` tests compare with
torch's own SDPA on a real GPU and skip without one.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.attention import flash_gpu as fg
from course_lib.cuda import SanitizerError, gpu_available

SCHEDULES = ("forward", "reverse", "random")
EMU = dict(backend="emulator")
#: output rounding of each dtype: the tolerance is a few units of it, relative to max |ref|
UNIT = {"float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}


def t64(a, requires_grad=False):
    return torch.tensor(np.asarray(a, np.float64), requires_grad=requires_grad)


def assert_close(got, ref, what="", atol=1e-5, rtol=1e-5):
    got = np.asarray(got)
    assert got.dtype == np.float32 and got.shape == ref.shape, (got.dtype, got.shape, ref.shape, what)
    assert np.isfinite(got).all(), f"{what}: NaN/inf in the result"
    scale = max(1.0, float(np.abs(ref).max(initial=0)))
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol * scale, err_msg=what)


def make(B, H, H_kv, L, S, E, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((B, H, L, E)).astype(np.float32)
    k = rng.standard_normal((B, H_kv, S, E)).astype(np.float32)
    v = rng.standard_normal((B, H_kv, S, E)).astype(np.float32)
    return q, k, v


def reference(q, k, v, causal, scale=None, dout=None):
    """torch float64: out, lse and, with dout, (dq, dk, dv) by autograd."""
    tq, tk, tv = (t64(a, dout is not None) for a in (q, k, v))
    out = F.scaled_dot_product_attention(tq, tk, tv, is_causal=causal, scale=scale,
                                         enable_gqa=True)
    H, H_kv, L, S, E = q.shape[1], k.shape[1], q.shape[2], k.shape[2], q.shape[3]
    scale = 1 / np.sqrt(E) if scale is None else scale
    s = (tq @ tk.repeat_interleave(H // H_kv, 1).transpose(-1, -2)).detach() * scale
    if causal:
        s = s.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    lse = torch.logsumexp(s, -1).numpy()
    if dout is None:
        return out.detach().numpy(), lse
    out.backward(t64(dout))
    return out.detach().numpy(), lse, tuple(a.grad.numpy() for a in (tq, tk, tv))


# (B, H, H_kv, L, S, E, causal): L, S ragged against the 64 / 32 tiles, E in {16, 64, 80}
CASES = [
    (1, 1, 1, 1, 1, 16, False),          # one query, one key
    (2, 2, 2, 70, 45, 16, False),        # L > S, two query tiles, ragged key tile
    (1, 4, 2, 37, 100, 64, True),        # GQA, causal with L < S (top-left: keys past L unseen)
    (1, 3, 1, 130, 130, 80, True),       # MQA, causal L = S, three query tiles, E = 80
    (2, 2, 1, 65, 33, 80, True),         # causal L > S: the last rows see every key
]
CASE_IDS = [f"B{c[0]}H{c[1]}kv{c[2]}L{c[3]}S{c[4]}E{c[5]}{'c' if c[6] else ''}" for c in CASES]


# ---------------------------------------------------------------- forward, float32

@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_f32_forward_matches_torch(case):
    *shape, causal = case
    q, k, v = make(*shape)
    out, lse = fg.flash_attention_gpu(q, k, v, is_causal=causal, return_lse=True,
                                      enable_gqa=True, schedule="random", **EMU)
    ref, ref_lse = reference(q, k, v, causal)
    assert_close(out, ref, "out")
    assert_close(lse, ref_lse, "lse")


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_f32_forward_under_every_schedule_and_scale(schedule):
    q, k, v = make(2, 2, 2, 70, 45, 16, seed=1)
    for causal in (False, True):
        out = fg.flash_attention_gpu(q, k, v, is_causal=causal, scale=0.3, schedule=schedule, **EMU)
        assert_close(out, reference(q, k, v, causal, scale=0.3)[0], f"causal={causal}")


def test_f32_forward_survives_huge_scores():
    """Scores of +-1e4 (scale 1e3): exp overflows float32 without the running-max shift."""
    q, k, v = make(1, 1, 1, 20, 40, 16, seed=2)
    out, lse = fg.flash_attention_gpu(q, k, v, scale=1e3, return_lse=True, **EMU)
    ref, ref_lse = reference(q, k, v, False, scale=1e3)
    assert_close(out, ref, "out", atol=1e-4)
    assert_close(lse, ref_lse, "lse", rtol=1e-5)


def test_causal_tiles_past_the_diagonal_are_never_read():
    """L = S = 128, causal: the first query block (rows 0..63) must skip key tiles 64.. whole.
    Those rows of v hold NaN (the launcher refuses NaN, so the kernel is launched directly): had
    block 0 read them, even with probability 0, 0 * NaN would poison rows 0..63."""
    q, k, v = make(1, 1, 1, 128, 128, 16, seed=21)
    v_nan = v.copy()
    v_nan[..., 64:, :] = np.nan
    out, lse = fg.launch_flash_fwd_f32(q, k, v_nan, H=1, H_kv=1, L=128, S=128, E=16, causal=True,
                                       scale=0.25, backend="emulator")
    ref = reference(q, k, v, True, scale=0.25)[0]
    assert_close(out[0, :64], ref[0, 0, :64], "rows 0..63")
    assert np.isnan(out[0, 64:]).all()      # rows 64.. do see keys 64..: the test can fail


def test_decode_never_reads_past_the_length():
    """Cache rows past a sequence's length hold NaN; the result must not notice them."""
    q = np.random.default_rng(22).standard_normal((2, 2, 16)).astype(np.float32)
    _, k, v = make(2, 2, 2, 1, 300, 16, seed=22)
    lens = np.array([5, 200], np.int32)
    kn, vn = k.copy(), v.copy()
    for b, n in enumerate(lens):
        kn[b, :, n:] = np.nan
        vn[b, :, n:] = np.nan
    out, _ = fg.launch_flash_decode(q, kn, vn, lens, H=2, H_kv=2, S=300, E=16, scale=0.25,
                                    backend="emulator")
    want = np.stack([F.scaled_dot_product_attention(
        t64(q[b][:, None]), t64(k[b, :, :n]), t64(v[b, :, :n]), scale=0.25)[:, 0].numpy()
        for b, n in enumerate(lens)])
    assert_close(out.reshape(2, 2, 16), want, "decode")


def test_wmma_bfloat16_needs_ampere(monkeypatch):
    """On an sm_75 GPU (a T4) the tensor-core path is float16; asking for bfloat16 says why."""
    monkeypatch.setattr(fg, "_device_cc", lambda backend: 75)
    assert fg._pick_half_dtype(None, "wmma", "cupy") == "float16"
    assert fg._pick_half_dtype("bfloat16", "half", "cupy") == "bfloat16"   # conversions only
    with pytest.raises(ValueError, match="compute capability 8.0"):
        fg._pick_half_dtype("bfloat16", "wmma", "cupy")
    monkeypatch.setattr(fg, "_device_cc", lambda backend: 90)
    assert fg._pick_half_dtype("bfloat16", "wmma", "cupy") == "bfloat16"


# ---------------------------------------------------------------- forward, 16-bit and tensor cores

HALF_CASES = [(2, 2, 2, 70, 45, 16, False), (1, 4, 2, 37, 50, 80, True)]


def check_half(variant, dtype, case, schedule="forward", **kw):
    *shape, causal = case
    q, k, v = make(*shape, seed=3)
    out, lse = fg.flash_attention_gpu(q, k, v, is_causal=causal, return_lse=True, dtype=dtype,
                                      variant=variant, enable_gqa=True, schedule=schedule,
                                      **kw, **EMU)
    r = [fg.round_to(a, dtype) for a in (q, k, v)]        # what the kernel sees
    ref, ref_lse = reference(*r, causal)
    # out: one rounding of the output plus P rounded to dtype (wmma) -> a few units
    assert_close(out, ref, f"{variant} {dtype} out", atol=8 * UNIT[dtype], rtol=0)
    assert_close(lse, ref_lse, f"{variant} {dtype} lse", atol=1e-5)


@pytest.mark.parametrize("dtype", fg.HALF_DTYPES)
@pytest.mark.parametrize("case", HALF_CASES, ids=str)
def test_half_forward_matches_torch_on_rounded_inputs(case, dtype):
    check_half("half", dtype, case, schedule="random")


@pytest.mark.parametrize("schedule", ("forward", "reverse"))
def test_half_forward_other_schedules(schedule):
    check_half("half", "bfloat16", HALF_CASES[0], schedule)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_wmma_forward_float16_under_every_schedule(schedule):
    check_half("wmma", "float16", HALF_CASES[0], schedule)


@pytest.mark.parametrize("dtype", fg.HALF_DTYPES)
def test_wmma_forward_gqa_causal_padded_head_dim(dtype):
    """E = 80 = 5 fragments; E = 20 is padded to 32 with zero columns."""
    check_half("wmma", dtype, HALF_CASES[1])
    if dtype == "float16":
        check_half("wmma", dtype, (1, 2, 2, 20, 19, 20, True))


def test_half_accumulates_in_float():
    """A long sum of small terms: 2000 equal keys, v = 1 + tiny; the mean stays ~1.  A half
    accumulator would stall at 2048 ulp steps; the float one keeps the full value."""
    S = 2000
    q = np.zeros((1, 1, 3, 16), np.float32)
    k = np.zeros((1, 1, S, 16), np.float32)
    v = np.full((1, 1, S, 16), 1.0 + 2.0**-10, np.float32)
    out = fg.flash_attention_gpu(q, k, v, variant="half", **EMU)
    assert np.abs(out - (1.0 + 2.0**-10)).max() <= 2.0**-11


# ---------------------------------------------------------------- backward

BWD_CASES = [(1, 2, 2, 70, 45, 16, False), (2, 4, 2, 37, 50, 80, True), (1, 3, 1, 40, 20, 64, True)]


@pytest.mark.parametrize("case", BWD_CASES, ids=str)
def test_backward_matches_torch_autograd(case):
    *shape, causal = case
    q, k, v = make(*shape, seed=4)
    dout = np.random.default_rng(5).standard_normal(q.shape).astype(np.float32)
    out, lse = fg.flash_attention_gpu(q, k, v, is_causal=causal, return_lse=True,
                                      enable_gqa=True, **EMU)
    grads = fg.flash_attention_backward_gpu(dout, q, k, v, out, lse, is_causal=causal,
                                            enable_gqa=True, schedule="random", **EMU)
    _, _, ref = reference(q, k, v, causal, dout=dout)
    for name, g, r in zip(("dq", "dk", "dv"), grads, ref):
        assert_close(g, r, name, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("schedule", ("forward", "reverse"))
def test_backward_schedules_and_the_numpy_backward(schedule):
    """Also against course_lib.attention.flash's NumPy recomputation backward (float64)."""
    from course_lib.attention import flash
    q, k, v = make(1, 2, 2, 33, 40, 16, seed=6)
    dout = np.random.default_rng(6).standard_normal(q.shape).astype(np.float32)
    out, lse = fg.flash_attention_gpu(q, k, v, is_causal=True, return_lse=True, **EMU)
    grads = fg.flash_attention_backward_gpu(dout, q, k, v, out, lse, is_causal=True,
                                            schedule=schedule, **EMU)
    f64 = [a.astype(np.float64) for a in (q, k, v, dout)]
    o64, lse64 = flash.flash_attention(*f64[:3], is_causal=True, return_lse=True)
    ref = flash.flash_attention_backward(f64[3], *f64[:3], o64, lse64, is_causal=True)
    for name, g, r in zip(("dq", "dk", "dv"), grads, ref):
        assert_close(g, r, name, atol=2e-5, rtol=1e-4)


# ---------------------------------------------------------------- decode

def decode_reference(q, k, v, lengths):
    out = []
    for b, n in enumerate(lengths):
        o = F.scaled_dot_product_attention(t64(q[b][:, None]), t64(k[b, :, :n]), t64(v[b, :, :n]),
                                           enable_gqa=True)
        out.append(o[:, 0].numpy())
    return np.stack(out)


DECODE_CASES = [
    (2, 4, 2, 300, 16, [300, 129]),      # GQA; 3 chunks, the second sequence ends in chunk 2
    (1, 3, 1, 50, 80, None),             # MQA, one partial chunk
    (3, 2, 2, 257, 64, [1, 256, 130]),   # a cache of one token; empty trailing chunks
]


@pytest.mark.parametrize("case", DECODE_CASES, ids=str)
def test_decode_matches_torch(case):
    B, H, H_kv, S, E, lens = case
    q = np.random.default_rng(7).standard_normal((B, H, E)).astype(np.float32)
    _, k, v = make(B, H, H_kv, 1, S, E, seed=7)
    lengths = None if lens is None else np.array(lens)
    out, lse = fg.flash_decode_gpu(q, k, v, lengths=lengths, return_lse=True,
                                   schedule="random", **EMU)
    lens = [S] * B if lens is None else lens
    assert_close(out, decode_reference(q, k, v, lens), "out")
    for b, n in enumerate(lens):
        _, ref_lse = reference(q[b:b + 1, :, None], k[b:b + 1, :, :n], v[b:b + 1, :, :n], False)
        assert_close(lse[b], ref_lse[0, :, 0], "lse")


@pytest.mark.parametrize("schedule", ("forward", "reverse"))
def test_decode_equals_the_forward_kernel_on_the_last_query(schedule):
    """A decode step is the last row of causal attention over the whole cache."""
    q, k, v = make(1, 4, 2, 1, 200, 16, seed=8)
    q_all = np.random.default_rng(8).standard_normal((1, 4, 200, 16)).astype(np.float32)
    q_all[:, :, -1] = q[:, :, 0]
    full = fg.flash_attention_gpu(q_all, k, v, is_causal=True, enable_gqa=True, **EMU)
    out = fg.flash_decode_gpu(q[:, :, 0], k, v, schedule=schedule, **EMU)
    assert_close(out, decode_reference(q[:, :, 0], k, v, [200]), "vs torch")
    np.testing.assert_allclose(out, full[:, :, -1], atol=1e-5)


# ---------------------------------------------------------------- sanitizers (tiny sizes)

def test_kernels_clean_under_address_sanitizer():
    """Ragged tiles, padded rows past L, keys past S, chunks past the cache length: any read
    or write outside the arrays or the shared tiles would be reported."""
    kw = dict(sanitizer="address", **EMU)
    q, k, v = make(1, 2, 1, 5, 7, 16, seed=9)
    out, lse = fg.flash_attention_gpu(q, k, v, is_causal=True, return_lse=True, enable_gqa=True,
                                      **kw)
    ref, ref_lse = reference(q, k, v, True)
    assert_close(out, ref, "f32")
    dout = np.ones_like(q)
    grads = fg.flash_attention_backward_gpu(dout, q, k, v, out, lse, is_causal=True,
                                            enable_gqa=True, **kw)
    for g, r in zip(grads, reference(q, k, v, True, dout=dout)[2]):
        assert_close(g, r, "backward", atol=2e-5, rtol=1e-4)
    check_half("wmma", "float16", (1, 1, 1, 5, 7, 16, True), sanitizer="address")
    check_half("half", "float16", (1, 2, 1, 5, 7, 16, True), sanitizer="address")
    qd = q[:, :, 0].copy()
    kc, vc = make(1, 2, 1, 1, 130, 16, seed=10)[1:]
    assert_close(fg.flash_decode_gpu(qd, kc, vc, lengths=np.array([129]), **kw),
                 decode_reference(qd, kc, vc, [129]), "decode")


def test_shared_tiles_race_free_under_thread_sanitizer():
    """Every kernel that stages tiles in shared memory, with two tiles (so the barrier that
    protects a tile from the next iteration's staging matters)."""
    kw = dict(sanitizer="thread", **EMU)
    q, k, v = make(1, 1, 1, 3, 40, 16, seed=11)
    out, lse = fg.flash_attention_gpu(q, k, v, return_lse=True, **kw)
    assert_close(out, reference(q, k, v, False)[0], "f32")
    dout = np.ones_like(q)
    grads = fg.flash_attention_backward_gpu(dout, q, k, v, out, lse, **kw)
    for g, r in zip(grads, reference(q, k, v, False, dout=dout)[2]):
        assert_close(g, r, "backward", atol=2e-5, rtol=1e-4)
    # two key tiles each; the wmma kernel also shares its per-warp S, P and O tiles across lanes
    check_half("wmma", "float16", (1, 1, 1, 5, 40, 16, False), sanitizer="thread")
    check_half("half", "bfloat16", (1, 1, 1, 5, 40, 16, False), sanitizer="thread")
    qd = q[:, :, 0].copy()
    kc, vc = make(1, 1, 1, 1, 200, 16, seed=12)[1:]
    assert_close(fg.flash_decode_gpu(qd, kc, vc, **kw), decode_reference(qd, kc, vc, [200]), "decode")


def test_thread_sanitizer_catches_a_missing_barrier():
    """The harness can fail: without the barrier after a tile is used, the next tile's staging
    overwrites K/V while slower threads still read them."""
    from course_lib.cuda import RawModule
    src = (fg.KERNELS_DIR / "flash_fwd_f32.cu").read_text()
    needle = "        __syncthreads();                   // the tile is overwritten"
    assert src.count(needle) == 1
    kern = RawModule(code=src.replace(needle, "        //"), backend="emulator", sanitizer="thread",
                     options=("-DFLASH_EMAX=32",)).get_function("flash_fwd_f32")
    q, k, v = make(1, 1, 1, 3, 40, 16, seed=13)
    out, lse = np.zeros_like(q), np.zeros((1, 1, 3), np.float32)
    with pytest.raises(SanitizerError, match="ThreadSanitizer"):
        kern((1, 1), (fg.BLOCK_Q,), (q, k, v, out, lse, *fg._i32(1, 1, 3, 40, 16, 0),
                                     np.float32(0.25)))


# ---------------------------------------------------------------- argument checks and helpers

def test_bad_input_is_rejected_with_names_and_shapes():
    q, k, v = make(1, 4, 2, 5, 6, 16)
    with pytest.raises(ValueError, match="enable_gqa=True"):
        fg.flash_attention_gpu(q, k, v, **EMU)
    with pytest.raises(ValueError, match=r"multiple of the key/value heads H_kv = 3"):
        fg.flash_attention_gpu(q, *make(1, 4, 3, 5, 6, 16)[1:], enable_gqa=True, **EMU)
    with pytest.raises(TypeError, match="q must have dtype float32, got float64"):
        fg.flash_attention_gpu(q.astype(np.float64), k, v, enable_gqa=True, **EMU)
    with pytest.raises(ValueError, match=r"q must be 4-D \(B, H, L, E\)"):
        fg.flash_attention_gpu(q[0], k, v, enable_gqa=True, **EMU)
    with pytest.raises(ValueError, match="k and v must have the same shape"):
        fg.flash_attention_gpu(q, k, v[..., :8].copy(), enable_gqa=True, **EMU)
    with pytest.raises(ValueError, match="head dim E = 130"):
        fg.flash_attention_gpu(*make(1, 1, 1, 2, 2, 130), **EMU)
    bad = q.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="q .* NaN"):
        fg.flash_attention_gpu(bad, k, v, enable_gqa=True, **EMU)
    with pytest.raises(ValueError, match="variant"):
        fg.flash_attention_gpu(q, k, v, variant="tiles", enable_gqa=True, **EMU)
    with pytest.raises(ValueError, match="dtype must be one of"):
        fg.flash_attention_gpu(q, k, v, variant="half", dtype="int8", enable_gqa=True, **EMU)
    with pytest.raises(ValueError, match="scale"):
        fg.flash_attention_gpu(q, k, v, scale=float("nan"), enable_gqa=True, **EMU)
    with pytest.raises(ValueError, match=r"lse must have shape \(1, 4, 5\)"):
        fg.flash_attention_backward_gpu(q, q, k, v, q, np.zeros((1, 4, 6), np.float32),
                                        enable_gqa=True, **EMU)
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, S = 6\]"):
        fg.flash_decode_gpu(q[:, :, 0].copy(), k, v, lengths=np.array([7]), **EMU)
    with pytest.raises(ValueError, match="multiple of the cache heads"):
        fg.flash_decode_gpu(q[:, :3, 0].copy(), k, v, **EMU)


def test_bf16_rounding_helpers_agree_with_torch():
    x = np.random.default_rng(14).standard_normal(1000).astype(np.float32) * 100
    x[:3] = [1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8, -0.0]       # ties to even both ways
    want = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(fg.to_bf16_bits(x), want)
    np.testing.assert_array_equal(fg.from_bf16_bits(want), torch.from_numpy(x).to(
        torch.bfloat16).float().numpy())


def test_registry_names_existing_kernels():
    for name, info in fg.KERNELS.items():
        src = (fg.KERNELS_DIR / info.file).read_text()
        assert re.search(r'extern "C" __global__ void\s+(?:__launch_bounds__\([^)]*\)\s*)?'
                         + info.function + r"\(", src), name
        assert info.description


# ---------------------------------------------------------------- NVRTC (no GPU needed)

ARCHS = ("sm_75", "sm_80", "sm_89", "sm_90")
EXERCISE_CU = fg.KERNELS_DIR.parents[2] / "exercises" / "ch16_5" / "flash_forward_kernel.cu"
CU_FILES = (sorted(fg.KERNELS_DIR.glob("flash_*.cu")) + [fg.KERNELS_DIR / "decode.cu"]
            + ([EXERCISE_CU] if EXERCISE_CU.exists() else []))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("path", CU_FILES, ids=lambda p: p.name)
def test_nvrtc_compiles_for_each_architecture(path, arch):
    from course_lib.cuda import nvrtc
    ok, why = nvrtc.nvrtc_available()
    if not ok:
        pytest.skip(f"NVRTC unavailable: {why}")
    need = nvrtc.min_arch(path.read_text())
    if need and int(arch[3:]) < need:
        pytest.skip(f"{path.name} needs sm_{need} (min-arch marker)")
    result = nvrtc.compile_cuda(path, arch=arch)
    names = {kk["kernel"] for kk in result.kernels}
    want = set(re.findall(r'extern "C" __global__ void\s+(?:__launch_bounds__\([^)]*\)\s*)?(\w+)\s*\(',
                          path.read_text()))
    assert names == want and want, (names, want, result.log)
    for kk in result.kernels:
        assert 0 < kk["registers"] <= 255, kk


# ---------------------------------------------------------------- real GPU (CuPy backend)

needs_gpu = pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a CUDA GPU")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("variant", fg.VARIANTS)
def test_gpu_kernels_match_torch(variant):
    q, k, v = make(2, 8, 2, 300, 333, 64, seed=20)
    dtype = None if variant == "f32" else "float16"
    out = fg.flash_attention_gpu(q, k, v, is_causal=True, variant=variant, dtype=dtype,
                                 enable_gqa=True, backend="cupy")
    r = [a if dtype is None else fg.round_to(a, dtype) for a in (q, k, v)]
    tol = 1e-5 if dtype is None else 8 * UNIT["float16"]
    assert_close(out, reference(*r, True)[0], variant, atol=tol, rtol=0 if dtype else 1e-5)

"""nvcuda::wmma (16x16x16 tensor-core fragments) on the CPU emulator.

References: float64 matrix products of the 16-bit-rounded inputs (to float32 tolerance), exact
integer products (integer-valued inputs, sums below 2^24, so float accumulation is exact in any
order), the fragment mapping documented in simt_wmma.h, and the warp-collective rules of CUDA's
programming guide (all 32 lanes, converged, same pointer / ldm / layout). The example kernels
(course_lib/cuda/examples/wmma_gemm*.cu) also compile with NVRTC: __half from sm_75, bfloat16
from sm_80.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib import cuda
from course_lib.cuda import nvrtc

SCHEDULES = ["forward", "reverse", "random"]
EXAMPLES = Path(cuda.__file__).resolve().parent / "examples"
LAYOUTS = ["rr", "rc", "cr", "cc"]          # (A, B): row- or column-major


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (torch's rounding, independent of the emulator)."""
    t = torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(torch.bfloat16)
    return t.view(torch.int16).numpy().view(np.uint16)


def bf16_values(b: np.ndarray) -> np.ndarray:
    return (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def inputs(dtype: str, A: np.ndarray, B: np.ndarray):
    """(A, B) as the kernel takes them and their exact values in float64."""
    if dtype == "half":
        a, b = A.astype(np.float16), B.astype(np.float16)
        return a, b, a.astype(np.float64), b.astype(np.float64)
    a, b = bf16_bits(A), bf16_bits(B)
    return a, b, bf16_values(a), bf16_values(b)


def gemm(dtype, layout, A, B, C, alpha=1.0, beta=0.0, c_col_major=False, backend="emulator", **opts):
    """Run wmma_gemm_<dtype>_<layout>; A, B as inputs() returns them, C float32 M x N (row-major)."""
    (M, K), N = A.shape, B.shape[1]
    fname = "wmma_gemm.cu" if dtype == "half" else "wmma_gemm_bf16.cu"
    mod = cuda.RawModule(path=EXAMPLES / fname, backend=backend, **opts)
    a = np.ascontiguousarray(A if layout[0] == "r" else A.T)
    b = np.ascontiguousarray(B if layout[1] == "r" else B.T)
    c = np.array(C.T if c_col_major else C, np.float32, order="C")      # a copy: C is not changed
    mod.get_function(f"wmma_gemm_{dtype}_{layout}")(
        ((N + 31) // 32, (M + 31) // 32), (128,),
        (a, b, c, np.int32(M), np.int32(N), np.int32(K), np.float32(alpha), np.float32(beta),
         np.int32(c_col_major)))
    return c.T if c_col_major else c


def wmma_kernel(body: str, name="k", **opts):
    src = "#include <mma.h>\nusing namespace nvcuda;\n" + body
    return cuda.RawKernel(src, name, backend="emulator", **opts), src


def line_of(src: str, marker: str) -> int:
    return next(i for i, line in enumerate(src.splitlines(), 1) if marker in line)


# ---------------------------------------------------------------- results
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("dtype", ["half", "bf16"])
def test_single_tile_matches_float64(dtype, schedule):
    rng = np.random.default_rng(0)
    a, b, ad, bd = inputs(dtype, rng.standard_normal((16, 16)), rng.standard_normal((16, 16)))
    c = gemm(dtype, "rr", a, b, np.full((16, 16), np.nan, np.float32), schedule=schedule, seed=3)
    # 16 exact products summed in float32: error below 16 float32 ulps of the sum of |terms|
    bound = 16 * np.finfo(np.float32).eps * (np.abs(ad) @ np.abs(bd))
    assert (np.abs(c - ad @ bd) <= bound).all()


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["half", "bf16"])
def test_tiled_matmul_all_layouts(dtype, layout, schedule):
    # 64x48 @ 48x80: 4 x 5 tiles of C, 3 k-steps each; blocks of 2x2 warps, so the last block
    # column has warps past N that return before any wmma call
    rng = np.random.default_rng(10 * LAYOUTS.index(layout) + (dtype == "bf16"))
    M, K, N = 64, 48, 80
    a, b, ad, bd = inputs(dtype, rng.standard_normal((M, K)), rng.standard_normal((K, N)))
    C0 = rng.standard_normal((M, N)).astype(np.float32)
    for c_col in (False, True):
        c = gemm(dtype, layout, a, b, C0, alpha=0.5, beta=-2.0, c_col_major=c_col, schedule=schedule, seed=11)
        ref = 0.5 * (ad @ bd) - 2.0 * C0.astype(np.float64)
        # K exact products summed in float32, then the float32 epilogue: a few ulps per term
        bound = (K + 4) * np.finfo(np.float32).eps * (0.5 * np.abs(ad) @ np.abs(bd) + 2 * np.abs(C0))
        assert (np.abs(c - ref) <= bound).all(), np.abs(c - ref).max()


@pytest.mark.parametrize("dtype", ["half", "bf16"])
def test_integer_inputs_are_exact(dtype):
    rng = np.random.default_rng(1)
    M, K, N = 32, 64, 48
    A = rng.integers(-8, 9, (M, K)).astype(np.float32)
    B = rng.integers(-8, 9, (K, N)).astype(np.float32)
    a, b, _, _ = inputs(dtype, A, B)
    C0 = rng.integers(-100, 100, (M, N)).astype(np.float32)
    c = gemm(dtype, "rc", a, b, C0, alpha=1.0, beta=1.0)
    np.testing.assert_array_equal(c, A.astype(np.int64) @ B.astype(np.int64) + C0.astype(np.int64))


def test_beta_zero_never_reads_c():
    rng = np.random.default_rng(2)
    a, b, ad, bd = inputs("half", rng.standard_normal((32, 16)), rng.standard_normal((16, 32)))
    c = gemm("half", "rr", a, b, np.full((32, 32), np.nan, np.float32), alpha=2.0, beta=0.0)
    np.testing.assert_allclose(c, 2 * ad @ bd, rtol=1e-5, atol=1e-5)


MAPPING = r'''
extern "C" __global__ void lanes(const half* h, const unsigned short* bf, const float* f, float* out) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> ha;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::row_major> hb;
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> ba;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> bb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::load_matrix_sync(ha, h, 16);
    wmma::load_matrix_sync(hb, h, 16);
    wmma::load_matrix_sync(ba, (const __nv_bfloat16*)bf, 16);
    wmma::load_matrix_sync(bb, (const __nv_bfloat16*)bf, 16);
    wmma::load_matrix_sync(acc, f, 16, wmma::mem_row_major);
    const int l = threadIdx.x;
    float* o = out + l * 64;
    for (int i = 0; i < 16; ++i) o[i] = i < ha.num_elements ? (float)ha.x[i] : -1.f;
    for (int i = 0; i < 16; ++i) o[16 + i] = i < hb.num_elements ? (float)hb.x[i] : -1.f;
    for (int i = 0; i < 8; ++i) o[32 + i] = i < ba.num_elements ? (float)ba.x[i] : -1.f;
    for (int i = 0; i < 8; ++i) o[40 + i] = i < bb.num_elements ? (float)bb.x[i] : -1.f;
    for (int i = 0; i < 8; ++i) o[48 + i] = i < acc.num_elements ? acc.x[i] : -1.f;
    o[56] = ha.num_elements; o[57] = hb.num_elements; o[58] = ba.num_elements; o[59] = bb.num_elements;
    o[60] = acc.num_elements;
}'''


def test_fragment_mapping_is_the_documented_one():
    # element (r, c) of the tile holds 16 r + c; simt_wmma.h says which lane holds which
    tile = np.arange(256, dtype=np.float32).reshape(16, 16)
    out = np.zeros((32, 64), np.float32)
    k, _ = wmma_kernel(MAPPING, "lanes")
    k((1,), (32,), (tile.astype(np.float16), bf16_bits(tile), tile, out))
    lanes = np.arange(32)[:, None]
    i16, i8 = np.arange(16)[None, :], np.arange(8)[None, :]
    np.testing.assert_array_equal(out[:, 0:16], 16 * (lanes % 16) + i16)       # half A: row l%16
    np.testing.assert_array_equal(out[:, 16:32], 16 * i16 + lanes % 16)        # half B: column l%16
    np.testing.assert_array_equal(out[:, 32:40], 16 * (lanes // 2) + 8 * (lanes % 2) + i8)
    np.testing.assert_array_equal(out[:, 40:48], 16 * (8 * (lanes % 2) + i8) + lanes // 2)
    np.testing.assert_array_equal(out[:, 48:56], 16 * (lanes // 2) + 8 * (lanes % 2) + i8)
    # num_elements as CUDA's <mma.h> declares them for sm_70+ / sm_80+
    np.testing.assert_array_equal(out[0, 56:61], [16, 16, 8, 8, 8])
    # every element of A and C is held: twice (half A/B) or once (the others)
    for cols, times in ((slice(0, 16), 2), (slice(16, 32), 2), (slice(32, 40), 1), (slice(48, 56), 1)):
        np.testing.assert_array_equal(np.bincount(out[:, cols].astype(int).ravel(), minlength=256), times)


def test_forgotten_fill_gives_nan():
    body = r'''
extern "C" __global__ void k(const half* a, float* c) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;      // never filled
    wmma::load_matrix_sync(fa, a, 16);
    wmma::load_matrix_sync(fb, a, 16);
    wmma::mma_sync(acc, fa, fb, acc);
    wmma::store_matrix_sync(c, acc, 16, wmma::mem_row_major);
}'''
    c = np.zeros((16, 16), np.float32)
    wmma_kernel(body)[0]((1,), (32,), (np.ones((16, 16), np.float16), c))
    assert np.isnan(c).all()


def test_half_accumulator_rounds_the_float_sum_once():
    body = r'''
extern "C" __global__ void k(const half* a, const half* b, half* c) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::row_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, half> acc;
    wmma::fill_fragment(acc, __float2half(0.25f));
    wmma::load_matrix_sync(fa, a, 16);
    wmma::load_matrix_sync(fb, b, 16);
    wmma::mma_sync(acc, fa, fb, acc);
    wmma::store_matrix_sync(c, acc, 16, wmma::mem_col_major);
}'''
    rng = np.random.default_rng(3)
    a = rng.integers(-4, 5, (16, 16)).astype(np.float16)
    b = rng.integers(-4, 5, (16, 16)).astype(np.float16)
    c = np.zeros((16, 16), np.float16)
    wmma_kernel(body)[0]((1,), (32,), (a, b, c))
    want = (a.astype(np.float64) @ b.astype(np.float64) + 0.25).astype(np.float16)
    np.testing.assert_array_equal(c.T, want)          # stored column-major


# ---------------------------------------------------------------- warp-collective rules
def expect_error(body, match, block=32, exc=cuda.KernelError):
    k, src = wmma_kernel(body)
    a = np.ones(16 * 32, np.float16)
    c = np.zeros(16 * 32, np.float32)
    with pytest.raises(exc, match=match.format(line=line_of(src, "HERE"))) as info:
        k((1,), (block,), (a, c))
    return info


PROLOGUE = r'''
extern "C" __global__ void k(const half* a, float* c) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
    const int lane = threadIdx.x % 32;
'''


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_diverged_lanes_are_reported(schedule):
    body = PROLOGUE + r'''
    wmma::load_matrix_sync(fa, a, 16);
    wmma::load_matrix_sync(fb, a, 16);
    if (lane < 16) wmma::mma_sync(acc, fa, fb, acc);   // HERE
    else __syncwarp();
}'''
    k, src = wmma_kernel(body, schedule=schedule)
    with pytest.raises(cuda.KernelError, match=rf"k: wmma::mma_sync is a warp-wide operation.*lane \d+ did not"
                                               rf".*<kernel>\.cu:{line_of(src, 'HERE')}"):
        k((1,), (32,), (np.ones(512, np.float16), np.zeros(512, np.float32)))


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_lanes_that_returned_are_reported(schedule):
    body = PROLOGUE + r'''
    if (lane >= 20) return;
    wmma::load_matrix_sync(fa, a, 16);   // HERE
}'''
    k, src = wmma_kernel(body, schedule=schedule)
    with pytest.raises(cuda.KernelError, match=rf"wmma::load_matrix_sync.*lane 2\d.*<kernel>\.cu:{line_of(src, 'HERE')}"):
        k((1,), (32,), (np.ones(512, np.float16), np.zeros(512, np.float32)))


def test_block_smaller_than_a_warp_is_reported():
    body = PROLOGUE + "    wmma::load_matrix_sync(fa, a, 16);   // HERE\n}"
    expect_error(body, r"wmma::load_matrix_sync is a warp-wide operation.*block has 16 threads, so warp 0 has "
                       r"only 16 lane.*<kernel>\.cu:{line}", block=16)


def test_different_pointers_are_reported():
    body = PROLOGUE + "    wmma::load_matrix_sync(fa, a + 16 * (lane % 2), 16);   // HERE\n}"
    expect_error(body, r"wmma::load_matrix_sync: lane \d+ passed pointer .* but lane \d+ passed pointer .*"
                       r"same ones at <kernel>\.cu:{line}")


def test_different_ldm_is_reported():
    body = PROLOGUE + "    wmma::load_matrix_sync(fb, a, lane < 8 ? 16 : 24);   // HERE\n}"
    expect_error(body, r"lane \d+ passed pointer \S+, ldm (16|24), layout 1 but lane \d+ passed pointer \S+, "
                       r"ldm (24|16), layout 1; every lane.*<kernel>\.cu:{line}")


def test_different_calls_are_reported():
    body = PROLOGUE + r'''
    if (lane < 16) wmma::load_matrix_sync(fa, a, 16);   // HERE
    else wmma::load_matrix_sync(fb, a, 16);
}'''
    expect_error(body, r"lane \d+ called wmma::load_matrix_sync at <kernel>\.cu:\d+ instead")


def test_ldm_must_be_a_multiple_of_16_bytes():
    body = PROLOGUE + "    wmma::load_matrix_sync(fa, a, 12);   // HERE\n}"
    expect_error(body, r"ldm=12 must be a multiple of 8 for 2-byte elements.*<kernel>\.cu:{line}")


def test_other_shapes_need_a_real_gpu():
    body = "extern \"C\" __global__ void k(float* x) {\n" \
           "    wmma::fragment<wmma::matrix_a, 32, 8, 16, half, wmma::row_major> fa;\n}"
    with pytest.raises(cuda.UnsupportedFeatureError, match=r"needs a real GPU: .*other than 16x16x16.*<kernel>\.cu:4"):
        wmma_kernel(body)[0]((1,), (32,), (np.zeros(1, np.float32),))


def test_other_shapes_through_constants_fail_to_compile_with_the_reason():
    body = "constexpr int M = 8, N = 32, K = 16;\n" \
           "extern \"C\" __global__ void k(float* x) {\n" \
           "    wmma::fragment<wmma::matrix_a, M, N, K, half, wmma::row_major> fa;\n}"
    with pytest.raises(cuda.CompileError, match=r"not supported by the CPU emulator: it runs m16n16k16"):
        wmma_kernel(body)[0]((1,), (32,), (np.zeros(1, np.float32),))


@pytest.mark.parametrize("snippet,what", [
    ("wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> f;", "16x16x16"),
    ('asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, '
     '{%0,%1,%2,%3};" : "+f"(x[0]), "+f"(x[1]), "+f"(x[2]), "+f"(x[3]) : "r"(0u), "r"(0u), "r"(0u));',
     "inline PTX"),
    ('asm volatile("cp.async.ca.shared.global [%0], [%1], 16;" :: "r"(0), "l"(x));', "inline PTX"),
])
def test_ptx_mma_cp_async_and_tf32_stay_gpu_only(snippet, what):
    with pytest.raises(cuda.UnsupportedFeatureError, match=rf"needs a real GPU: .*{what}"):
        wmma_kernel(f'extern "C" __global__ void k(float* x) {{ {snippet} }}')[0](
            (1,), (32,), (np.zeros(1, np.float32),))


# ---------------------------------------------------------------- sanitizers
@pytest.mark.parametrize("sanitizer", ["address", "thread"])
def test_gemm_is_clean_under_sanitizers(sanitizer):
    rng = np.random.default_rng(4)
    a, b, ad, bd = inputs("half", rng.standard_normal((32, 32)), rng.standard_normal((32, 48)))
    c = gemm("half", "rc", a, b, np.zeros((32, 48), np.float32), sanitizer=sanitizer)
    np.testing.assert_allclose(c, ad @ bd, rtol=1e-5, atol=1e-4)


def test_address_sanitizer_finds_a_tile_read_past_the_end():
    body = r'''
extern "C" __global__ void k(const half* a, float* c) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
    wmma::load_matrix_sync(fa, a, 16);              // a holds 16 x 8 halves only
    c[threadIdx.x] = __half2float(fa.x[0]);
}'''
    k, src = wmma_kernel(body, sanitizer="address")
    with pytest.raises(cuda.SanitizerError, match=rf"heap-buffer-overflow in kernel 'k' READ of 2 bytes at "
                                                 rf"<kernel>\.cu:{line_of(src, '16 x 8')} .*array passed as 'a'"):
        k((1,), (32,), (np.ones(16 * 8, np.float16), np.zeros(32, np.float32)))


# ---------------------------------------------------------------- NVRTC
MIN_ARCH = re.compile(r"//\s*nvrtc:\s*min-arch\s+sm_(\d+)")


@pytest.mark.parametrize("name", ["wmma_gemm.cu", "wmma_gemm_bf16.cu"])
@pytest.mark.parametrize("arch", ["sm_75", "sm_80", "sm_89", "sm_90"])
def test_wmma_examples_compile_with_nvrtc_from_their_min_arch(name, arch):
    ok, why = nvrtc.nvrtc_available()
    if not ok:
        pytest.skip(f"NVRTC unavailable: {why}")
    path = EXAMPLES / name
    m = MIN_ARCH.search(path.read_text())
    min_arch = int(m.group(1)) if m else 0
    if int(arch[3:]) >= min_arch:
        kernels = {k["kernel"] for k in nvrtc.compile_cuda(path, arch=arch).kernels}
        assert kernels == {f"wmma_gemm_{'half' if min_arch == 0 else 'bf16'}_{lay}" for lay in LAYOUTS}
    else:     # the marker is not stale: bfloat16 fragments do not exist before sm_80
        with pytest.raises(nvrtc.NvrtcError, match="incomplete type"):
            nvrtc.compile_cuda(path, arch=arch)


# ---------------------------------------------------------------- on a GPU
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["half", "bf16"])
def test_gpu_tensor_cores_agree_with_the_emulator(dtype):
    import cupy
    if dtype == "bf16" and int(cupy.cuda.Device().compute_capability) < 80:
        pytest.skip("bfloat16 wmma needs sm_80")
    rng = np.random.default_rng(5)
    M, K, N = 64, 48, 80
    a, b, ad, bd = inputs(dtype, rng.standard_normal((M, K)), rng.standard_normal((K, N)))
    ai, bi, _, _ = inputs(dtype, rng.integers(-8, 9, (M, K)), rng.integers(-8, 9, (K, N)))
    C0 = rng.standard_normal((M, N)).astype(np.float32)
    for layout in LAYOUTS:
        res = {bk: gemm(dtype, layout, a, b, C0, alpha=0.5, beta=-2.0, backend=bk) for bk in ("cupy", "emulator")}
        # the tensor cores' own summation order and internal precision: close, not bit-equal
        bound = (K + 4) * np.finfo(np.float32).eps * (0.5 * np.abs(ad) @ np.abs(bd) + 2 * np.abs(C0))
        assert (np.abs(res["cupy"] - res["emulator"]) <= 2 * bound).all()
        exact = {bk: gemm(dtype, layout, ai, bi, C0 * 0, backend=bk) for bk in ("cupy", "emulator")}
        np.testing.assert_array_equal(exact["cupy"], exact["emulator"])

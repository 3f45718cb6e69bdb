"""AddressSanitizer and ThreadSanitizer builds catch out-of-bounds accesses and missing barriers.

Each launch runs in a subprocess with the sanitizer runtime preloaded (a few seconds each, the
first time including the sanitized build), so these tests are few and marked slow.

Every test runs with the default compiler (g++, or $CXX) and again with clang++ when one is
installed: clang 14+ ships the newer sanitizer runtimes that GCC 13+ also carries (TSan "v3", the
newer ASan report wording), so the emulator is checked against both generations here.
"""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from course_lib import cuda
from course_lib.cuda.emulator import build, sanitize

pytestmark = pytest.mark.slow


def _clang() -> str | None:
    for name in ["clang++"] + [f"clang++-{v}" for v in range(21, 13, -1)]:
        path = shutil.which(name)
        if path:
            return path
    return None


def _use_compiler(cxx: str | None) -> None:
    if cxx is None:
        os.environ.pop("CXX", None)
    else:
        os.environ["CXX"] = cxx
    for f in (build.compiler, build.compiler_version, sanitize.sanitizer_runtime, sanitize._self_test_verdict):
        f.cache_clear()


@pytest.fixture(params=["default", "clang"], autouse=True)
def toolchain(request):
    """Run the test with the default compiler, then with clang++ (skipped when not installed)."""
    old = os.environ.get("CXX")
    if request.param == "clang":
        clang = _clang()
        if clang is None:
            pytest.skip("clang++ is not installed (apt-get install clang-16 libclang-rt-16-dev)")
        _use_compiler(clang)
        try:
            sanitize.sanitizer_runtime("address"), sanitize.sanitizer_runtime("thread")
        except cuda.KernelError as exc:
            _use_compiler(old)
            pytest.skip(f"clang's sanitizer runtimes are not installed: {exc}")
    yield request.param
    _use_compiler(old)


def test_runtime_matches_compiler(toolchain):
    # clang must preload its own runtime: asked for "libtsan.so" it may answer with GCC's.
    for mode in ("address", "thread"):
        name = os.path.basename(sanitize.sanitizer_runtime(mode))
        assert ("libclang_rt" in name) == (toolchain == "clang" or "clang" in build.compiler()), name


def test_asan_reports_out_of_bounds_read_with_line_and_argument(examples):
    mod = cuda.RawModule(path=examples / "planted_bugs.cu", backend="emulator", sanitizer="address")
    x, out = np.ones(100, np.float32), np.zeros(100, np.float32)
    with pytest.raises(cuda.SanitizerError,
                       match=r"heap-buffer-overflow in kernel 'scale_no_bounds_check'.*planted_bugs\.cu:29"
                             r".*passed as 'x'"):
        mod.get_function("scale_no_bounds_check")((1,), (128,), (x, out, np.float32(2), np.int32(100)))


def test_asan_clean_kernel_runs_and_copies_back(examples):
    mod = cuda.RawModule(path=examples / "dynamic_smem.cu", backend="emulator", sanitizer="address")
    x = np.arange(64, dtype=np.float32)
    y = np.zeros_like(x)
    mod.get_function("reverse_blocks")((2,), (32,), (x, y, np.int32(64)), shared_mem=128)
    np.testing.assert_array_equal(y, x.reshape(2, 32)[:, ::-1].ravel())
    # dynamic shared memory is an exact-size buffer too: 31 floats for 32 threads overflows
    with pytest.raises(cuda.SanitizerError, match="dynamic shared memory"):
        mod.get_function("reverse_blocks")((2,), (32,), (x, y, np.int32(64)), shared_mem=124)


STATIC_SMEM = r"""
#define N 64
extern "C" __global__ void shift_tile(const float* x, float* y) {
    __shared__ float tile[N];
    __shared__ __align__(16) float rows[2][N];             // a 2-D array with an alignment
    tile[threadIdx.x] = x[threadIdx.x];
    rows[1][threadIdx.x] = 2.0f * x[threadIdx.x];
    __syncthreads();
    y[threadIdx.x] = tile[(threadIdx.x + 1) % N] + rows[1][threadIdx.x];
}
extern "C" __global__ void shift_tile_past_end(const float* x, float* y) {
    __shared__ float tile[N];
    tile[threadIdx.x] = x[threadIdx.x];
    __syncthreads();
    y[threadIdx.x] = tile[threadIdx.x + 1];                // BUG: thread N-1 reads tile[N]
}
extern "C" __global__ void rows_past_end(float* y) {
    __shared__ float rows[2][N];
    rows[threadIdx.x / N][threadIdx.x % N] = 1.0f;          // BUG: 2N+ threads write past rows[1]
    y[0] = rows[1][N - 1];
}
"""


def test_asan_catches_static_shared_memory_out_of_bounds():
    # static __shared__ arrays are exact-size blocks in the ASan build, so a read or write one
    # element past the end is reported with the array's name (before: only dynamic smem / arguments)
    mod = cuda.RawModule(STATIC_SMEM, backend="emulator", sanitizer="address")
    x = np.arange(64, dtype=np.float32)
    y = np.zeros_like(x)
    mod.get_function("shift_tile")((2,), (64,), (x, y))
    np.testing.assert_array_equal(y, np.roll(x, -1) + 2 * x)
    with pytest.raises(cuda.SanitizerError, match=r"heap-buffer-overflow in kernel 'shift_tile_past_end' READ "
                                                  r"of 4 bytes at <kernel>\.cu:15 .*0 bytes to the right of the "
                                                  r"static __shared__ array 'tile' \(256 bytes\)"):
        mod.get_function("shift_tile_past_end")((1,), (64,), (x, y))
    with pytest.raises(cuda.SanitizerError, match=r"WRITE of 4 bytes at <kernel>\.cu:19 .*static __shared__ "
                                                  r"array 'rows' \(512 bytes\)"):
        mod.get_function("rows_past_end")((1,), (129,), (np.zeros(1, np.float32),))


def test_plain_build_keeps_static_shared_sizes():
    impl = cuda.RawModule(STATIC_SMEM, backend="emulator").compile()._backend_module()
    assert impl.static_shared_bytes("shift_tile") == 4 * 64 * 3
    assert impl.static_shared_bytes("rows_past_end") == 4 * 64 * 2


def _matmul_args(M=32, N=32, K=48):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((M, K)).astype(np.float32)
    B = rng.standard_normal((K, N)).astype(np.float32)
    return A, B, np.zeros((M, N), np.float32), np.int32(M), np.int32(N), np.int32(K)


def test_tsan_reports_missing_syncthreads_as_race(examples):
    mod = cuda.RawModule(path=examples / "planted_bugs.cu", backend="emulator", sanitizer="thread")
    with pytest.raises(cuda.SanitizerError, match=r"data race in kernel 'matmul_missing_sync'.*planted_bugs\.cu"
                                                  r".*__shared__ memory"):
        mod.get_function("matmul_missing_sync")((2, 2), (16, 16), _matmul_args())


def test_tsan_quiet_on_correct_kernel(examples):
    mod = cuda.RawModule(path=examples / "matmul_tiled.cu", backend="emulator", sanitizer="thread")
    A, B, C, M, N, K = _matmul_args()
    mod.get_function("matmul_tiled")((2, 2), (16, 16), (A, B, C, M, N, K))
    np.testing.assert_allclose(C, A.astype(np.float64) @ B, rtol=1e-5, atol=1e-4)


REDUCE_MISSING_SYNC = r"""
extern "C" __global__ void block_sum_missing_sync(const float* x, float* out) {
    __shared__ float s[1024];
    int t = threadIdx.x;
    s[t] = x[blockIdx.x * blockDim.x + t];
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (t < stride) s[t] += s[t + stride];
        // __syncthreads();   <- missing
    }
    if (t == 0) out[blockIdx.x] = s[0];
}
"""


def test_tsan_reports_race_in_block_larger_than_tsan_thread_slots():
    # 1024 CUDA threads per block on 2 workers: far more than TSan v3's 255 thread slots.
    mod = cuda.RawModule(code=REDUCE_MISSING_SYNC, backend="emulator", sanitizer="thread")
    x = np.ones(2048, np.float32)
    with pytest.raises(cuda.SanitizerError, match=r"data race in kernel 'block_sum_missing_sync'.*:8\b"):
        mod.get_function("block_sum_missing_sync")((2,), (1024,), (x, np.zeros(2, np.float32)))

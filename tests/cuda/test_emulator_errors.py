"""Planted bugs and bad launches give clear errors (or visibly wrong results) on the emulator."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import cuda


@pytest.fixture(scope="module")
def bugs(examples):
    return cuda.RawModule(path=examples / "planted_bugs.cu", backend="emulator")


@pytest.fixture(scope="module")
def good(examples):
    return cuda.RawModule(path=examples / "matmul_tiled.cu", backend="emulator")


def run_matmul(kernel, M=40, N=40, K=48, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((M, K)).astype(np.float32)
    B = rng.standard_normal((K, N)).astype(np.float32)
    C = np.zeros((M, N), np.float32)
    kernel(((N + 15) // 16, (M + 15) // 16), (16, 16), (A, B, C, np.int32(M), np.int32(N), np.int32(K)))
    return C, A.astype(np.float64) @ B.astype(np.float64)


@pytest.mark.parametrize("schedule", ["forward", "reverse"])
def test_missing_syncthreads_gives_wrong_results(examples, schedule):
    mod = cuda.RawModule(path=examples / "planted_bugs.cu", backend="emulator", schedule=schedule)
    C, ref = run_matmul(mod.get_function("matmul_missing_sync"))
    assert np.abs(C - ref).max() > 1e-2          # the race is visible
    good = cuda.RawModule(path=examples / "matmul_tiled.cu", backend="emulator", schedule=schedule)
    C2, _ = run_matmul(good.get_function("matmul_tiled"))
    np.testing.assert_allclose(C2, ref, rtol=1e-5, atol=1e-4)


def test_barrier_divergence_names_file_and_lines(bugs):
    data = np.zeros(256, np.float32)
    with pytest.raises(cuda.BarrierDivergenceError, match=r"planted_bugs\.cu:38.*planted_bugs\.cu:41"):
        bugs.get_function("divergent_barrier")((1,), (256,), (data,))


def test_early_return_before_barrier_is_a_deadlock(bugs):
    x, out = np.ones(100, np.float32), np.zeros(100, np.float32)
    with pytest.raises(cuda.DeadlockError, match=r"planted_bugs\.cu:52.*already returned"):
        bugs.get_function("early_return_barrier")((1,), (128,), (x, out, np.int32(100)))


def test_shuffle_reading_an_exited_lane(bugs):
    # lanes 100..127 returned; in warp 3, lane 0 (thread 96) reads lane 16 (thread 112)
    x, out = np.ones(100, np.float32), np.zeros(100, np.float32)
    with pytest.raises(cuda.WarpSyncError, match=r"shuffle_after_return: __shfl_down_sync.*planted_bugs\.cu:61"
                                                 r".*thread \(96,0,0\).*reads lane 16, which has already returned"):
        bugs.get_function("shuffle_after_return")((1,), (128,), (x, out, np.int32(100)))


def test_out_of_bounds_write_faults_instead_of_corrupting(bugs):
    x, out = np.ones(100, np.float32), np.zeros(100, np.float32)
    with pytest.raises(cuda.KernelFaultError, match="out of bounds"):
        bugs.get_function("scale_no_bounds_check")((8,), (1024,), (x, out, np.float32(2), np.int32(100)))


def test_full_mask_read_of_a_lane_that_does_not_exist():
    # a 16-thread block: lanes 16..31 do not exist; xor 16 reads them
    src = r'''extern "C" __global__ void k(float* x) {
        x[threadIdx.x] = __shfl_xor_sync(0xffffffffu, x[threadIdx.x], 16); }'''
    with pytest.raises(cuda.WarpSyncError, match=r"k: __shfl_xor_sync.*<kernel>\.cu:2.*lane 0\) reads lane 16, "
                                                 r"which does not exist \(the block has 16 threads\)"):
        cuda.RawKernel(src, "k", backend="emulator")((1,), (16,), (np.zeros(16, np.float32),))


def test_wrong_dtype(good):
    A = np.zeros((16, 16))
    C = np.zeros((16, 16), np.float32)
    with pytest.raises(cuda.ArgumentTypeError, match=r"'const float\* __restrict__ A' needs a float32"):
        good.get_function("matmul_tiled")((1, 1), (16, 16), (A, C, C, np.int32(16), np.int32(16), np.int32(16)))
    with pytest.raises(TypeError):     # ArgumentTypeError is a TypeError, as the project's checks
        good.get_function("matmul_tiled")((1, 1), (16, 16), (A, C, C, np.int32(16), np.int32(16), np.int32(16)))


def test_non_contiguous_array(good):
    A = np.zeros((16, 32), np.float32)[:, ::2]
    C = np.zeros((16, 16), np.float32)
    with pytest.raises(cuda.ArgumentTypeError, match="'A' got a non-contiguous"):
        good.get_function("matmul_tiled")((1, 1), (16, 16), (A, C, C, np.int32(16), np.int32(16), np.int32(16)))


def test_python_int_and_float_for_4_byte_parameters(good, bugs):
    C = np.zeros((16, 16), np.float32)
    with pytest.raises(cuda.ArgumentTypeError, match=r"np\.int32\(M\)"):
        good.get_function("matmul_tiled")((1, 1), (16, 16), (C, C, C, 16, np.int32(16), np.int32(16)))
    with pytest.raises(cuda.ArgumentTypeError, match=r"np\.float32\(alpha\)"):
        bugs.get_function("scale_no_bounds_check")((1,), (16,), (C, C, 2.0, np.int32(16)))
    with pytest.raises(cuda.ArgumentTypeError, match=r"numpy\.int64"):
        good.get_function("matmul_tiled")((1, 1), (16, 16), (C, C, C, np.int64(16), np.int32(16), np.int32(16)))


def test_argument_count(good):
    with pytest.raises(cuda.ArgumentTypeError, match="takes 6 argument"):
        good.get_function("matmul_tiled")((1,), (16, 16), (np.zeros(4, np.float32),))


@pytest.mark.parametrize("grid,block,shared,match", [
    ((1,), (2048,), 0, "at most 1024 threads"),
    ((1,), (1, 1, 65), 0, "at most 1024 threads"),
    ((1,), (32, 32, 2), 0, "2048 threads"),
    ((1, 70000), (32,), 0, "exceeds the limits"),
    ((0,), (32,), 0, ">= 1"),
    ((1,), (1, 2, 3, 4), 0, "1-3 ints"),
    ((1,), (32,), 48 * 1024, "default limit"),       # 2 KiB static + 48 KiB dynamic
])
def test_bad_launch_configuration(good, grid, block, shared, match):
    C = np.zeros((16, 16), np.float32)
    with pytest.raises(cuda.LaunchConfigError, match=match):
        good.get_function("matmul_tiled")(grid, block, (C, C, C, np.int32(16), np.int32(16), np.int32(16)),
                                          shared_mem=shared)


def test_shared_memory_opt_in(examples):
    k = cuda.RawModule(path=examples / "dynamic_smem.cu", backend="emulator").get_function("reverse_blocks")
    x = np.arange(64, dtype=np.float32)
    y = np.zeros_like(x)
    with pytest.raises(cuda.LaunchConfigError):
        k((1,), (64,), (x, y, np.int32(64)), shared_mem=100 * 1024)
    k.max_dynamic_shared_size_bytes = 100 * 1024
    k((1,), (64,), (x, y, np.int32(64)), shared_mem=100 * 1024)
    np.testing.assert_array_equal(y, x[::-1])


@pytest.mark.parametrize("snippet,what", [
    ('asm volatile("bar.sync 0;");', "inline PTX"),
    ("nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 32, 8, 16, half, nvcuda::wmma::row_major> f;", "16x16x16"),
    ("__pipeline_commit();", "cp.async"),
    ("cooperative_groups::this_cluster().sync();", "thread block clusters"),
])
def test_unsupported_features_need_a_real_gpu(snippet, what):
    src = f'extern "C" __global__ void k(float* x) {{ {snippet} }}'
    with pytest.raises(cuda.UnsupportedFeatureError, match=rf"needs a real GPU: .*{what}"):
        cuda.RawKernel(src, "k", backend="emulator")((1,), (1,), (np.zeros(1, np.float32),))


def test_compile_error_names_the_file(tmp_path):
    f = tmp_path / "oops.cu"
    f.write_text('extern "C" __global__ void k(float* x) {\n x[0] = undeclared_name; }\n')
    # NVRTC's front end answers first when installed ("oops.cu(2)"), else g++ ("oops.cu:2")
    with pytest.raises(cuda.CompileError, match=r"oops\.cu[:(]2.*undeclared_name"):
        cuda.RawModule(path=f, backend="emulator").compile()


def test_device_assert_and_trap():
    src = r'''extern "C" __global__ void k(const float* x) {
        assert(x[threadIdx.x] >= 0.0f);
        if (threadIdx.x == 99) __trap(); }'''
    k = cuda.RawKernel(src, "k", backend="emulator")
    with pytest.raises(cuda.KernelFaultError, match=r"assertion failed: x\[threadIdx.x\] >= 0.0f at <kernel>\.cu:2"):
        k((1,), (8,), (np.array([1, 2, -3, 4, 5, 6, 7, 8], np.float32),))
    k((1,), (8,), (np.ones(8, np.float32),))           # fine
    with pytest.raises(cuda.KernelFaultError, match="__trap"):
        k((1,), (128,), (np.ones(128, np.float32),))

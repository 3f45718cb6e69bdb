"""AddressSanitizer and ThreadSanitizer builds catch out-of-bounds accesses and missing barriers.

Each launch runs in a subprocess with the sanitizer runtime preloaded (a few seconds each, the
first time including the sanitized build), so these tests are few and marked slow.
"""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import cuda

pytestmark = pytest.mark.slow


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

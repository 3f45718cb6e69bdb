"""Backend selection, kernel discovery, signature parsing and the CuPy backend (GPU only)."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import cuda
from course_lib.cuda.emulator.signature import find_kernels


def test_default_backend_is_emulator_without_gpu(monkeypatch):
    monkeypatch.delenv("COURSE_LIB_CUDA_BACKEND", raising=False)
    assert cuda.default_backend() == ("cupy" if cuda.gpu_available() else "emulator")
    monkeypatch.setenv("COURSE_LIB_CUDA_BACKEND", "emulator")
    assert cuda.default_backend() == "emulator"
    monkeypatch.setenv("COURSE_LIB_CUDA_BACKEND", "tpu")
    with pytest.raises(ValueError, match="COURSE_LIB_CUDA_BACKEND"):
        cuda.default_backend()


def test_bad_backend_and_options():
    with pytest.raises(ValueError, match="backend"):
        cuda.RawModule("", backend="opencl")
    with pytest.raises(TypeError, match="unknown RawModule option"):
        cuda.RawModule("", backend="emulator", schedul="reverse")
    with pytest.raises(TypeError, match="exactly one of"):
        cuda.RawModule()
    if not cuda.gpu_available():
        with pytest.raises(cuda.KernelError, match="needs CuPy and a CUDA GPU"):
            cuda.RawModule("", backend="cupy")


def test_signature_parser():
    src = '''
    // extern "C" __global__ void commented_out(int x) {}
    #define N 4
    extern "C" __global__ void __launch_bounds__(256, 2)
    k1(const float* __restrict__ a, float *b, int n, unsigned int m, float x[], const __half* h,
       const float4* __restrict__ v, long long big, size_t s, double) { }
    template <int T> __global__ void templated(int a) {}
    extern "C" {
    __global__ void k2(void) {}
    }
    '''
    ks = find_kernels(src)
    assert list(ks) == ["k1", "k2"]
    p = ks["k1"].params
    assert [q.name for q in p] == ["a", "b", "n", "m", "x", "h", "v", "big", "s", "arg9"]
    assert [q.pointer for q in p] == [1, 1, 0, 0, 1, 1, 1, 0, 0, 0]
    assert [str(q.dtype) for q in p] == ["float32", "float32", "int32", "uint32", "float32", "float16",
                                         "float32", "int64", "uint64", "float64"]
    assert p[0].const and not p[1].const
    assert ks["k2"].params == ()


def test_unknown_kernel_name(examples):
    mod = cuda.RawModule(path=examples / "warp_reduce.cu", backend="emulator")
    assert set(mod.kernel_names) == {"block_sum", "warp_allreduce", "warp_scan"}
    with pytest.raises(cuda.KernelError, match="no __global__ function 'nope'"):
        mod.get_function("nope")


def test_load_module_and_kernel_path(examples):
    mod = cuda.load_module(examples / "matmul_tiled.cu", backend="emulator")
    assert mod.kernel_names == ["matmul_tiled"]
    with pytest.raises(FileNotFoundError, match="no kernel file"):
        cuda.kernel_path("does_not_exist.cu")


def test_a_package_finds_its_own_kernels(examples):
    # a relative name: the runtime's own examples, or a package's kernels/ folder
    assert cuda.kernel_path("warp_reduce.cu") == examples / "warp_reduce.cu"
    conv_dir = examples.parents[1] / "conv" / "kernels"
    assert cuda.kernel_path("conv2d_naive.cu", package="course_lib.conv") == conv_dir / "conv2d_naive.cu"
    mod = cuda.load_module("conv2d_naive.cu", package="course_lib.conv", backend="emulator")
    assert mod.kernel_names == ["conv2d_naive"]
    # the runtime holds no course kernels, and a package does not see the runtime's examples
    with pytest.raises(FileNotFoundError, match="conv2d_naive.cu"):
        cuda.kernel_path("conv2d_naive.cu")
    with pytest.raises(FileNotFoundError, match=r"package 'course_lib.conv'.*available: \[.*im2col.cu"):
        cuda.kernel_path("warp_reduce.cu", package="course_lib.conv")
    with pytest.raises(ValueError, match="package='course_lib.nope'"):
        cuda.kernel_path("x.cu", package="course_lib.nope")
    # an absolute path is used as given, whatever the package
    assert cuda.kernel_path(conv_dir / "im2col.cu", package="course_lib.cuda") == conv_dir / "im2col.cu"


def test_rawkernel_and_python_scalars_of_the_right_width():
    src = r'''extern "C" __global__ void k(double* out, double a, long long b, int c) {
        out[0] = a + (double)b + c; }'''
    out = np.zeros(1)
    # Python float -> double and Python int -> long long are what CuPy passes: allowed
    cuda.RawKernel(src, "k", backend="emulator")((1,), (1,), (out, 0.5, 2**40, np.int32(3)))
    assert out[0] == 0.5 + 2**40 + 3


def test_schedules_agree_on_race_free_kernel(examples):
    x = np.random.default_rng(0).standard_normal(1920).astype(np.float32)
    results = []
    for sched in ("forward", "reverse", "random"):
        mod = cuda.RawModule(path=examples / "warp_reduce.cu", backend="emulator", schedule=sched, seed=11)
        s, mx, pos = np.zeros_like(x), np.zeros_like(x), np.zeros(x.size, np.int32)
        mod.get_function("warp_allreduce")((x.size // 160,), (160,), (x, s, mx, pos))
        results.append((s, mx, pos))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(results[0][1], np.repeat(x.reshape(-1, 32).max(1), 32))


# --------------------------------------------------------------------------- GPU: cupy vs emulator
@pytest.mark.gpu
@pytest.mark.parametrize("M,N,K", [(64, 64, 64), (37, 50, 23)])
def test_cupy_matches_emulator_matmul(examples, M, N, K):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((M, K)).astype(np.float32)
    B = rng.standard_normal((K, N)).astype(np.float32)
    out = {}
    for backend in ("cupy", "emulator"):
        C = np.zeros((M, N), np.float32)
        k = cuda.load_module(examples / "matmul_tiled.cu", backend=backend).get_function("matmul_tiled")
        k(((N + 15) // 16, (M + 15) // 16), (16, 16), (A, B, C, np.int32(M), np.int32(N), np.int32(K)))
        out[backend] = C
    np.testing.assert_allclose(out["cupy"], out["emulator"], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(out["cupy"], A.astype(np.float64) @ B, rtol=1e-5, atol=1e-4)


@pytest.mark.gpu
def test_cupy_matches_emulator_reductions_and_half(examples):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(128).astype(np.float32)
    res = {}
    for backend in ("cupy", "emulator"):
        mod = cuda.load_module(examples / "warp_reduce.cu", backend=backend)
        s, m, p = np.zeros_like(x), np.zeros_like(x), np.zeros(128, np.int32)
        mod.get_function("warp_allreduce")((2,), (64,), (x, s, m, p))
        xh = rng.standard_normal(300).astype(np.float16) if backend == "cupy" else res["xh"]
        yh = np.zeros_like(xh)
        hm = cuda.load_module(examples / "half_precision.cu", backend=backend)
        hm.get_function("half_affine")((2,), (256,), (xh, yh, np.float32(1.7), np.float32(0.1), np.int32(300)))
        res.update({f"{backend}_s": s, f"{backend}_m": m, f"{backend}_p": p, f"{backend}_y": yh, "xh": xh})
    np.testing.assert_allclose(res["cupy_s"], res["emulator_s"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(res["cupy_m"], res["emulator_m"])
    np.testing.assert_array_equal(res["cupy_p"], res["emulator_p"])
    np.testing.assert_array_equal(res["cupy_y"], res["emulator_y"])


@pytest.mark.gpu
def test_cupy_backend_checks_arguments_too(examples):
    k = cuda.load_module(examples / "matmul_tiled.cu", backend="cupy").get_function("matmul_tiled")
    C = np.zeros((16, 16), np.float32)
    with pytest.raises(cuda.ArgumentTypeError, match=r"np\.int32"):
        k((1, 1), (16, 16), (C, C, C, 16, np.int32(16), np.int32(16)))

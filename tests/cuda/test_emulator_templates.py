"""Template kernels through name expressions, as CuPy: ``RawModule(code, name_expressions=[...])``
then ``get_function("reduce<float, 256>")``. References: NumPy."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import cuda
from course_lib.cuda import nvrtc

SCHEDULES = ["forward", "reverse", "random"]
NVRTC_OK, _ = nvrtc.nvrtc_available()

REDUCE = r'''
// BLOCK threads fold their values in shared memory by halving; one result per block.
template <typename T, int BLOCK>
__global__ void __launch_bounds__(BLOCK) block_max(const T* __restrict__ x, T* __restrict__ out, int n) {
    __shared__ T s[BLOCK];
    const int t = threadIdx.x, i = blockIdx.x * BLOCK + t;
    s[t] = i < n ? x[i] : x[blockIdx.x * BLOCK];        // pad with a value of the block
    __syncthreads();
    for (int h = BLOCK / 2; h > 0; h /= 2) {
        if (t < h) s[t] = s[t] > s[t + h] ? s[t] : s[t + h];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}

// A default template argument: scale<float> is scale<float, 2>.
template <typename T, int FACTOR = 2>
__global__ void scale(T* y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = y[i] * (T)FACTOR;
}

extern "C" __global__ void plain(float* y) { y[threadIdx.x] = 1.0f; }
'''
EXPRS = ["block_max<float, 128>", "block_max<double, 64>", "block_max<int,256>"]
DTYPES = [np.float32, np.float64, np.int32]
BLOCKS = [128, 64, 256]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_template_instances_match_numpy(schedule):
    mod = cuda.RawModule(REDUCE, backend="emulator", schedule=schedule, seed=1,
                         name_expressions=EXPRS + ["scale<float>", "scale<int, 3>"])
    assert set(EXPRS) <= set(mod.kernel_names) and "plain" in mod.kernel_names
    n = 1000
    for expr, dt, block in zip(EXPRS, DTYPES, BLOCKS):
        x = (np.random.default_rng(block).standard_normal(n) * 100).astype(dt)
        grid = (n + block - 1) // block
        out = np.zeros(grid, dt)
        mod.get_function(expr)((grid,), (block,), (x, out, np.int32(n)))
        np.testing.assert_array_equal(out, [x[b * block:(b + 1) * block].max() for b in range(grid)])
    y = np.arange(10, dtype=np.float32)
    mod.get_function("scale<float>")((1,), (32,), (y, np.int32(10)))
    np.testing.assert_array_equal(y, 2 * np.arange(10))
    k = np.arange(10, dtype=np.int32)
    mod.get_function("scale<int, 3>")((1,), (32,), (k, np.int32(10)))
    np.testing.assert_array_equal(k, 3 * np.arange(10))


def test_each_instance_has_its_own_static_shared_memory_and_argument_types():
    mod = cuda.RawModule(REDUCE, backend="emulator", name_expressions=EXPRS).compile()
    impl = mod._backend_module()
    assert [impl.static_shared_bytes(e) for e in EXPRS] == [4 * 128, 8 * 64, 4 * 256]
    with pytest.raises(cuda.ArgumentTypeError, match=r"block_max<float, 128>: parameter 'const float \* "
                                                     r"__restrict__ x' needs a float32 array, got dtype float64"):
        mod.get_function(EXPRS[0])((1,), (128,), (np.zeros(128), np.zeros(1), np.int32(1)))


@pytest.mark.parametrize("sanitizer", ["address", "thread"])
def test_a_template_instance_under_sanitizers(sanitizer):
    mod = cuda.RawModule(REDUCE, backend="emulator", sanitizer=sanitizer, name_expressions=EXPRS[:1])
    x = np.random.default_rng(0).standard_normal(300).astype(np.float32)
    out = np.zeros(3, np.float32)
    mod.get_function(EXPRS[0])((3,), (128,), (x, out, np.int32(300)))
    np.testing.assert_array_equal(out, [x[:128].max(), x[128:256].max(), x[256:].max()])


def test_a_template_kernel_without_name_expressions_says_why():
    mod = cuda.RawModule(REDUCE, backend="emulator")
    with pytest.raises(cuda.KernelError, match=r"'block_max' in <kernel>\.cu is a template kernel "
                                               r"\(template <typename T, int BLOCK>\).*name_expressions="
                                               r"\['block_max<float, 16>'\]\) and call get_function"):
        mod.get_function("block_max")
    with pytest.raises(cuda.KernelError, match="is a template kernel"):
        cuda.RawKernel(REDUCE, "block_max", backend="emulator")
    with_exprs = cuda.RawModule(REDUCE, backend="emulator", name_expressions=EXPRS)
    with pytest.raises(cuda.KernelError, match=r"'block_max<float,128>' is not one of the name_expressions"):
        with_exprs.get_function("block_max<float,128>")           # not the same string
    with pytest.raises(cuda.KernelError, match="name expression 'nothing<int>' names no __global__"):
        cuda.RawModule(REDUCE, backend="emulator", name_expressions=["nothing<int>"])
    with pytest.raises(TypeError, match="list of strings"):
        cuda.RawModule(REDUCE, backend="emulator", name_expressions="scale<float>")


@pytest.mark.skipif(not NVRTC_OK, reason="NVRTC unavailable")
def test_nvrtc_instantiates_the_same_name_expressions():
    for arch in nvrtc.ARCHS:
        result = nvrtc.compile_cuda(REDUCE, arch=arch, name_expressions=EXPRS)
        assert set(result.lowered_names) == set(EXPRS)
        assert set(result.lowered_names.values()) <= {k["kernel"] for k in result.kernels}
        smem = {k["kernel"]: k["smem_static_bytes"] for k in result.kernels}
        assert smem[result.lowered_names["block_max<double, 64>"]] == 8 * 64


@pytest.mark.gpu
def test_template_instances_on_the_gpu():
    mod = cuda.RawModule(REDUCE, backend="cupy", name_expressions=EXPRS)
    x = np.random.default_rng(3).standard_normal(1000).astype(np.float32)
    out = np.zeros(8, np.float32)
    mod.get_function(EXPRS[0])((8,), (128,), (x, out, np.int32(1000)))
    np.testing.assert_array_equal(out, [x[b * 128:(b + 1) * 128].max() for b in range(8)])


def test_the_tile_sums_example(examples):
    # the template example of the chapter: emulator vs NumPy, and NVRTC instantiates it everywhere
    exprs = ["tile_sums<float, 8>", "tile_sums<int, 32>"]
    mod = cuda.RawModule(path=examples / "tile_sums.cu", backend="emulator", name_expressions=exprs)
    x = np.arange(100, dtype=np.float32)
    out = np.zeros(13, np.float32)
    mod.get_function(exprs[0])((1,), (104,), (x, out, np.int32(100)))
    np.testing.assert_array_equal(out, np.add.reduceat(x, np.arange(0, 100, 8)))
    if NVRTC_OK:
        for arch in nvrtc.ARCHS:
            result = nvrtc.compile_cuda(examples / "tile_sums.cu", arch=arch, name_expressions=exprs)
            assert len(result.kernels) == 2

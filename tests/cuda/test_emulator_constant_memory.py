"""``__constant__`` and ``__device__`` variables filled and read from Python with
``RawModule.get_global(name)`` (CuPy's name), on every schedule and under both sanitizers.
References: NumPy (np.polyval, a 3x3 correlation written with slices)."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import cuda
from course_lib.cuda import nvrtc

SCHEDULES = ["forward", "reverse", "random"]
NVRTC_OK, _ = nvrtc.nvrtc_available()

SRC = r'''
#define K 3
__constant__ float coeffs[5];          // a polynomial, highest power first (np.polyval's order)
__constant__ float filt[K][K];         // a 3x3 filter; extents through a macro
__constant__ float4 shift[1];          // a vector type: a trailing axis of 4
__device__ unsigned int calls;          // written by the kernel, read back from Python

extern "C" __global__ void poly(const float* __restrict__ x, float* __restrict__ y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float acc = 0.0f;
    for (int k = 0; k < 5; ++k) acc = acc * x[i] + coeffs[k];      // Horner
    y[i] = acc + shift[0].w;
    atomicAdd(&calls, 1u);
}

extern "C" __global__ void correlate3x3(const float* __restrict__ img, float* __restrict__ out, int h, int w) {
    // valid correlation: out is (h - 2, w - 2)
    const int c = blockIdx.x * blockDim.x + threadIdx.x, r = blockIdx.y;
    if (c >= w - 2) return;
    float acc = 0.0f;
    for (int a = 0; a < K; ++a)
        for (int b = 0; b < K; ++b) acc += filt[a][b] * img[(r + a) * w + c + b];
    out[r * (w - 2) + c] = acc;
}
'''


def _module(**opts):
    return cuda.RawModule(SRC, backend="emulator", **opts)


def test_views_have_the_declared_shapes_and_dtypes():
    mod = _module()
    assert (mod.get_global("coeffs").shape, mod.get_global("coeffs").dtype) == ((5,), np.float32)
    assert mod.get_global("filt").shape == (3, 3)
    assert mod.get_global("shift").shape == (1, 4)
    assert (mod.get_global("calls").shape, mod.get_global("calls").dtype) == ((), np.uint32)
    with pytest.raises(cuda.KernelError, match=r"no __constant__ or __device__ variable 'nope'.*"
                                               r"\['calls', 'coeffs', 'filt', 'shift'\]"):
        mod.get_global("nope")


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("sanitizer", [None, "address", "thread"])
def test_constant_memory_filled_from_python(schedule, sanitizer):
    if sanitizer and schedule != "forward":
        pytest.skip("sanitizer runs: one schedule is enough")
    mod = _module(schedule=schedule, sanitizer=sanitizer, seed=3)
    n = 70
    x = np.linspace(-1.5, 1.5, n).astype(np.float32)
    k = mod.get_function("poly")
    mod.get_global("calls")[...] = 0
    for coeffs, w in (([1, -2, 0.5, 3, -1], 10.0), ([0, 0, 2, 0, 1], -4.0)):
        # a second launch sees the new values: constant memory persists between launches
        mod.get_global("coeffs")[...] = coeffs
        mod.get_global("shift")[0, 3] = w
        y = np.zeros(n, np.float32)
        k((3,), (32,), (x, y, np.int32(n)))
        ref = np.polyval(np.array(coeffs, np.float64), x.astype(np.float64)) + w
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    assert int(mod.get_global("calls")) == 2 * n, "device writes come back to Python"


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_constant_filter(schedule):
    rng = np.random.default_rng(4)
    h, w = 9, 40
    img = rng.standard_normal((h, w)).astype(np.float32)
    f = rng.standard_normal((3, 3)).astype(np.float32)
    mod = _module(schedule=schedule)
    mod.get_global("filt")[...] = f
    out = np.zeros((h - 2, w - 2), np.float32)
    mod.get_function("correlate3x3")((2, h - 2), (32,), (img, out, np.int32(h), np.int32(w)))
    ref = sum(f[a, b] * img[a:a + h - 2, b:b + w - 2].astype(np.float64) for a in range(3) for b in range(3))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_const_initialised_constants_are_read_only_views():
    src = r'''__constant__ const float table[3] = {1.0f, 2.5f, -4.0f};
    extern "C" __global__ void lookup(float* y) { y[threadIdx.x] = table[threadIdx.x]; }'''
    mod = cuda.RawModule(src, backend="emulator")
    t = mod.get_global("table")
    np.testing.assert_array_equal(t, [1.0, 2.5, -4.0])
    assert not t.flags.writeable
    y = np.zeros(3, np.float32)
    mod.get_function("lookup")((1,), (3,), (y,))
    np.testing.assert_array_equal(y, t)


def test_address_sanitizer_catches_a_read_past_a_constant_array():
    src = r'''__constant__ float coeffs[4];
    extern "C" __global__ void past_end(float* y) { y[threadIdx.x] = coeffs[threadIdx.x]; }'''
    mod = cuda.RawModule(src, backend="emulator", sanitizer="address")
    with pytest.raises(cuda.SanitizerError, match=r"global-buffer-overflow in kernel 'past_end' READ of 4 bytes "
                                                  r"at <kernel>\.cu:2.*variable 'coeffs' \(16 bytes\)"):
        mod.get_function("past_end")((1,), (5,), (np.zeros(5, np.float32),))


@pytest.mark.skipif(not NVRTC_OK, reason="NVRTC unavailable")
def test_the_module_compiles_with_nvrtc():
    for arch in nvrtc.ARCHS:
        result = nvrtc.compile_cuda(SRC, arch=arch)
        assert {k["kernel"] for k in result.kernels} == {"poly", "correlate3x3"}


@pytest.mark.gpu
def test_get_global_on_the_gpu():
    import cupy
    mod = cuda.RawModule(SRC, backend="cupy")
    c = mod.get_global("coeffs")
    assert isinstance(c, cupy.ndarray) and c.shape == (5,)
    c[...] = cupy.asarray([1, -2, 0.5, 3, -1], dtype=cupy.float32)
    mod.get_global("shift")[...] = 0
    mod.get_global("calls")[...] = 0
    x = np.linspace(-1.5, 1.5, 70).astype(np.float32)
    y = np.zeros(70, np.float32)
    mod.get_function("poly")((3,), (32,), (x, y, np.int32(70)))
    np.testing.assert_allclose(y, np.polyval([1, -2, 0.5, 3, -1], x.astype(np.float64)), rtol=1e-5, atol=1e-5)
    assert int(mod.get_global("calls").get()) == 70

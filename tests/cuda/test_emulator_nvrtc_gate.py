"""The emulator refuses what NVRTC (the GPU's compiler under CuPy) refuses, with NVRTC's message.

g++ alone accepts these kernels (the emulator even defines atomicMax on float); on a GPU they do
not compile. The verdict is cached per source, and COURSE_LIB_NVRTC_CHECK=0 turns the gate off.
"""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import cuda
from course_lib.cuda import nvrtc
from course_lib.cuda.emulator import frontend

OK, WHY = nvrtc.nvrtc_available()
pytestmark = pytest.mark.skipif(not OK, reason=f"NVRTC unavailable: {WHY}")

ATOMIC_MAX_FLOAT = r'''extern "C" __global__ void running_max(const float* x, float* m, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicMax(m, x[i]);
}'''
LIMITS = r'''#include <limits>
extern "C" __global__ void fill_max(float* y) { y[threadIdx.x] = std::numeric_limits<float>::max(); }'''


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("course_lib_cache")     # one emulator runtime build for the file


@pytest.fixture
def fresh_cache(cache_root, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(cache_root))
    monkeypatch.delenv("COURSE_LIB_NVRTC_CHECK", raising=False)
    return cache_root


def test_atomic_max_on_float_is_refused_with_nvrtcs_message(fresh_cache):
    with pytest.raises(cuda.CompileError, match=r"NVRTC.*rejects <kernel>\.cu.*\n<kernel>\.cu\(3\): error: no "
                                                r"instance of overloaded function \"atomicMax\""):
        cuda.RawModule(ATOMIC_MAX_FLOAT, backend="emulator").compile()


def test_host_library_in_device_code_is_refused(fresh_cache):
    with pytest.raises(cuda.CompileError, match=r'cannot open source file "limits"'):
        cuda.RawModule(LIMITS, backend="emulator").compile()


def test_a_template_instance_is_checked_through_its_name_expression(fresh_cache):
    src = r'''template <typename T> __global__ void amax(T* m, T v) { atomicMax(m, v); }'''
    cuda.RawModule(src, backend="emulator", name_expressions=["amax<int>"]).compile()
    with pytest.raises(cuda.CompileError, match=r"atomicMax"):
        cuda.RawModule(src, backend="emulator", name_expressions=["amax<float>"]).compile()


def test_the_verdict_is_cached_per_source(fresh_cache, monkeypatch):
    good = 'extern "C" __global__ void k(float* y) { y[threadIdx.x] = 2.0f; }   // cached'
    verdicts = fresh_cache / "emulator" / "nvrtc"
    before = set(verdicts.glob("*.json"))
    cuda.RawModule(good, backend="emulator").compile()
    with pytest.raises(cuda.CompileError):
        cuda.RawModule(ATOMIC_MAX_FLOAT + "  // cached", backend="emulator").compile()
    assert len(set(verdicts.glob("*.json")) - before) == 2

    def no_nvrtc(*args, **kwargs):
        raise AssertionError("NVRTC ran although the verdict was cached")
    monkeypatch.setattr(nvrtc, "compile_cuda", no_nvrtc)
    y = np.zeros(4, np.float32)
    cuda.RawKernel(good, "k", backend="emulator")((1,), (4,), (y,))
    np.testing.assert_array_equal(y, 2.0)
    with pytest.raises(cuda.CompileError, match="atomicMax"):     # the refusal is cached too
        cuda.RawModule(ATOMIC_MAX_FLOAT + "  // cached", backend="emulator").compile()


def test_the_gate_can_be_turned_off(fresh_cache, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_NVRTC_CHECK", "0")
    assert not frontend.enabled()
    x = np.array([3.0, -1.0, 7.5, 2.0], np.float32)
    m = np.array([-1e30], np.float32)
    cuda.RawKernel(ATOMIC_MAX_FLOAT, "running_max", backend="emulator")((1,), (4,), (x, m, np.int32(4)))
    assert m[0] == 7.5          # g++ builds it: the emulator's own atomicMax(float*)


def test_options_and_include_folders_reach_nvrtc(fresh_cache, tmp_path):
    (tmp_path / "helper.cuh").write_text("__device__ inline float twice(float v) { return 2.0f * v; }\n")
    src = tmp_path / "uses_helper.cu"
    src.write_text('#include "helper.cuh"\n'
                   'extern "C" __global__ void k(float* y) { y[threadIdx.x] = twice(SCALE); }\n')
    y = np.zeros(2, np.float32)
    cuda.RawModule(path=src, backend="emulator", options=("-DSCALE=3.0f",)).get_function("k")((1,), (2,), (y,))
    np.testing.assert_array_equal(y, 6.0)
    with pytest.raises(cuda.CompileError, match=r'identifier "SCALE" is undefined'):
        cuda.RawModule(path=src, backend="emulator").compile()

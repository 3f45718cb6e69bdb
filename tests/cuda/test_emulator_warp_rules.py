"""CUDA's rules for warp operations, as the emulator applies them.

The *_sync intrinsics take part only with the lanes named in the mask that have not exited: a full
mask is fine in a 16-thread block or after ``if (i >= n) return;``. Reading a lane that does not take
part gives an undefined value on a GPU, so the emulator reports it (kernel, line, lane).
``__activemask()`` names the lanes that reach it together; exited lanes are not among them.
References: NumPy, with the lanes that take part worked out independently in Python.
"""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import cuda

SCHEDULES = ["forward", "reverse", "random"]


def kernel(src, name, **opts):
    return cuda.RawKernel(src, name, backend="emulator", **opts)


SYNCWARP = r'''extern "C" __global__ void k(float* x) { x[threadIdx.x] = 1.f; __syncwarp(); }'''


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_syncwarp_without_argument(schedule):
    # the reproducer of the issue: the no-argument form compiled to a trailing comma before
    x = np.zeros(48, np.float32)
    kernel(SYNCWARP, "k", schedule=schedule)((1,), (48,), (x,))
    np.testing.assert_array_equal(x, np.ones(48, np.float32))


SWAP = r'''
extern "C" __global__ void swap_pairs(const float* x, float* y) {
    // each lane writes its value to shared memory, the warp syncs, each lane reads its partner's
    __shared__ float s[64];
    int t = threadIdx.x;
    s[t] = x[t];
    __syncwarp();
    y[t] = s[t ^ 1];
}
'''


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("sanitizer", [None, "thread"])
def test_syncwarp_orders_shared_memory(schedule, sanitizer):
    x = np.arange(64, dtype=np.float32)
    y = np.zeros(64, np.float32)
    kernel(SWAP, "swap_pairs", schedule=schedule, sanitizer=sanitizer)((1,), (64,), (x, y))
    np.testing.assert_array_equal(y, x.reshape(-1, 2)[:, ::-1].ravel())


HALF_WARP = r'''
extern "C" __global__ void half_warp_sum(const float* x, float* out) {
    // a 16-thread block with a full mask: lanes 16..31 do not exist and do not take part
    float v = x[threadIdx.x];
    for (int off = 8; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    out[threadIdx.x] = v;
}
'''


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_full_mask_in_a_16_thread_block(schedule):
    x = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    out = np.zeros(16, np.float32)
    kernel(HALF_WARP, "half_warp_sum", schedule=schedule)((1,), (16,), (x, out))
    np.testing.assert_allclose(out, np.full(16, x.astype(np.float64).sum()), rtol=1e-5, atol=1e-5)


EARLY_RETURN = r'''
extern "C" __global__ void after_return(const float* x, float* sum4, unsigned* ballot,
                                        int* all_pos, int* count, int n) {
    // lanes past n return first; the rest use full masks
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = x[i];
    v += __shfl_xor_sync(0xffffffffu, v, 1);       // groups of 4 consecutive lanes
    v += __shfl_xor_sync(0xffffffffu, v, 2);
    sum4[i] = v;
    ballot[i] = __ballot_sync(0xffffffffu, x[i] > 0.f);
    all_pos[i] = __all_sync(0xffffffffu, x[i] > -100.f);
    count[i] = __reduce_add_sync(0xffffffffu, 1);
    __syncwarp();
}
'''


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("n", [100, 64, 7])
def test_full_mask_after_early_return(schedule, n):
    block, grid = 64, (n + 63) // 64
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32)
    sum4, ballot = np.zeros(n, np.float32), np.zeros(n, np.uint32)
    all_pos, count = np.zeros(n, np.int32), np.zeros(n, np.int32)
    n4 = n - n % 4                     # the test only reads groups of 4 that are complete
    k = kernel(EARLY_RETURN, "after_return", schedule=schedule, seed=n)
    if n % 4:
        with pytest.raises(cuda.WarpSyncError, match="which has already returned"):
            k((grid,), (block,), (x, sum4, ballot, all_pos, count, np.int32(n)))
        return
    k((grid,), (block,), (x, sum4, ballot, all_pos, count, np.int32(n)))
    np.testing.assert_allclose(sum4[:n4], np.repeat(x[:n4].reshape(-1, 4).sum(1), 4), rtol=1e-5, atol=1e-6)
    for w0 in range(0, n, 32):
        lanes = range(w0, min(n, w0 + 32))
        want_ballot = sum(1 << (i - w0) for i in lanes if x[i] > 0)
        assert set(ballot[list(lanes)]) == {want_ballot}
        assert set(count[list(lanes)]) == {len(lanes)}
    assert all_pos.all()


def test_reading_an_exited_lane_is_reported_with_kernel_line_and_lane():
    src = r'''extern "C" __global__ void sum_after_return(const float* x, float* out, int n) {
        int i = threadIdx.x;
        if (i >= n) return;
        float v = x[i];
        for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
        if (i == 0) out[0] = v;
    }'''
    x, out = np.ones(20, np.float32), np.zeros(1, np.float32)
    with pytest.raises(cuda.WarpSyncError,
                       match=r"sum_after_return: __shfl_down_sync\(mask=0xffffffff\) at <kernel>\.cu:5 .*"
                             r"thread \(4,0,0\) \(warp 0, lane 4\) reads lane 20, which has already returned"):
        kernel(src, "sum_after_return")((1,), (32,), (x, out, np.int32(20)))


def test_reading_a_lane_outside_the_mask_is_reported():
    src = r'''extern "C" __global__ void k(float* x) {
        if (threadIdx.x < 16) x[threadIdx.x] = __shfl_sync(0x0000ffffu, x[threadIdx.x], 20);
    }'''
    with pytest.raises(cuda.WarpSyncError, match=r"reads lane 20, which is not in the mask"):
        kernel(src, "k")((1,), (32,), (np.zeros(32, np.float32),))


def test_a_live_lane_missing_from_the_operation_still_deadlocks():
    src = r'''extern "C" __global__ void k(float* x) {
        __shared__ float s[32];
        if (threadIdx.x < 16) x[threadIdx.x] = __shfl_xor_sync(0xffffffffu, x[threadIdx.x], 1);
        __syncthreads();
        s[threadIdx.x] = 0.f;
    }'''
    with pytest.raises(cuda.WarpSyncError, match=r"the mask names lane 16, which waits at __syncthreads\(\)"):
        kernel(src, "k")((1,), (32,), (np.zeros(32, np.float32),))


ACTIVEMASK = r'''
extern "C" __global__ void active(unsigned* out, int n) {
    int t = threadIdx.x;
    if (t >= n) return;
    unsigned m;
    if (t % 2 == 0) m = __activemask();         // two branches: two groups of converged lanes
    else m = __activemask();
    out[t] = m;
}
'''


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_activemask_excludes_exited_lanes(schedule):
    n = 20
    out = np.zeros(64, np.uint32)
    kernel(ACTIVEMASK, "active", schedule=schedule, seed=5)((1,), (64,), (out, np.int32(n)))
    even = sum(1 << t for t in range(0, n, 2))
    odd = sum(1 << t for t in range(1, n, 2))
    want = np.array([even if t % 2 == 0 else odd for t in range(n)], np.uint32)
    np.testing.assert_array_equal(out[:n], want)
    assert not out[n:].any(), "returned lanes write nothing"

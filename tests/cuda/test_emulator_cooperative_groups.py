"""Cooperative groups on the emulator: blocks, tiles, cg::reduce, coalesced groups and grid sync.

References are NumPy (sums in float64, ranks and masks worked out in Python from the definitions),
never the kernels' own output. Every kernel here also compiles with NVRTC (the examples through
test_nvrtc.py, the inline ones below).
"""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import cuda
from course_lib.cuda import nvrtc
from course_lib.cuda.emulator import checks

SCHEDULES = ["forward", "reverse", "random"]
NVRTC_OK, _ = nvrtc.nvrtc_available()


def example(examples, name, **opts):
    return cuda.RawModule(path=examples / name, backend="emulator", **opts)


# ------------------------------------------------------------------ block reductions with tiles

@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("n, block", [(1000, 256), (64, 64), (77, 96), (5, 32)])
def test_block_reduce_sum_max_min(examples, schedule, n, block):
    rng = np.random.default_rng(n + block)
    x = rng.standard_normal(n).astype(np.float32)
    grid = (n + block - 1) // block
    sums, maxes, mins = (np.full(grid, np.nan, np.float32) for _ in range(3))
    k = example(examples, "cg_block_reduce.cu", schedule=schedule, seed=1).get_function("block_reduce")
    k((grid,), (block,), (x, sums, maxes, mins, np.int32(n)))
    pad = np.full(grid * block - n, np.nan)
    rows = np.concatenate([x.astype(np.float64), pad]).reshape(grid, block)
    np.testing.assert_allclose(sums, np.nansum(rows, 1), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(maxes, np.nanmax(rows, 1).astype(np.float32))
    np.testing.assert_array_equal(mins, np.nanmin(rows, 1).astype(np.float32))


@pytest.mark.parametrize("sanitizer", ["address", "thread"])
def test_block_reduce_is_clean_under_sanitizers(examples, sanitizer):
    x = np.random.default_rng(3).standard_normal(300).astype(np.float32)
    sums, maxes, mins = (np.zeros(2, np.float32) for _ in range(3))
    k = example(examples, "cg_block_reduce.cu", sanitizer=sanitizer).get_function("block_reduce")
    k((2,), (160,), (x, sums, maxes, mins, np.int32(300)))
    np.testing.assert_allclose(sums, [x[:160].sum(dtype=np.float64), x[160:].sum(dtype=np.float64)],
                               rtol=1e-5, atol=1e-5)


def _tile8_reference(x):
    """Column k of the expected (threads, 10) table, from the definitions of each operation."""
    n = x.size
    out = np.zeros((n, 10), np.int64)
    for t in range(n):
        base, r = t - t % 8, t % 8
        tile = x[base:base + 8]
        out[t, 0], out[t, 1] = r, t // 8
        out[t, 2] = tile[3]
        out[t, 3] = tile[r - 1] if r >= 1 else tile[r]          # shfl_up: own value below delta
        out[t, 4] = tile[r + 2] if r + 2 < 8 else tile[r]       # shfl_down: own value past the end
        out[t, 5] = tile[r ^ 5]
        out[t, 6] = int((tile > 0).any())
        out[t, 7] = int((tile > 0).all())
        out[t, 8] = sum(1 << j for j in range(8) if tile[j] > 0)  # bit j = rank j of the tile
        out[t, 9] = tile[:r + 1].sum()
    return out


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("threads", [64, 40])
def test_tile_operations(examples, schedule, threads):
    rng = np.random.default_rng(threads)
    x = rng.integers(-5, 20, threads).astype(np.int32)
    x[8:16] = np.abs(x[8:16]) + 1                  # one tile of positives: all() is true there
    out = np.full((threads, 10), -999, np.int32)
    k = example(examples, "cg_block_reduce.cu", schedule=schedule, seed=4).get_function("tile8_ops")
    k((1,), (threads,), (x, out))
    np.testing.assert_array_equal(out, _tile8_reference(x.astype(np.int64)))


# ------------------------------------------------------------------ inline kernels

TILES = r'''
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
#include <cooperative_groups/scan.h>
namespace cg = cooperative_groups;

__device__ void stamp(cg::thread_group g, int* out) {      // any group through one parameter
    out[0] = (int)g.size();
    out[1] = (int)g.thread_rank();
    g.sync();
}

extern "C" __global__ void tiles(const int* x, int* out) {
    // out is (threads, 8): size and rank seen through thread_group for the block and a tile of
    // 16, the tile-of-4-in-a-tile-of-16 ranks, the xor-max over the tile of 16 and its scans
    cg::thread_block block = cg::this_thread_block();
    auto t16 = cg::tiled_partition<16>(block);
    auto t4 = cg::tiled_partition<4>(t16);
    int r = block.thread_rank();
    int* o = out + 8 * r;
    stamp(block, o);
    stamp(t16, o + 2);
    o[4] = t4.meta_group_rank() * 100 + t4.meta_group_size();
    o[5] = cg::reduce(t16, x[r], cg::greater<int>());
    o[6] = cg::inclusive_scan(t16, x[r]);
    o[7] = cg::exclusive_scan(t16, x[r], cg::plus<int>());
}

extern "C" __global__ void coalesced(const int* x, int* out) {
    // lanes whose index is a multiple of 3 form a coalesced group: size, rank, sum, ballot
    int t = threadIdx.x;
    out[4 * t] = -1;
    if (t % 3 == 0) {
        cg::coalesced_group g = cg::coalesced_threads();
        out[4 * t + 0] = g.size();
        out[4 * t + 1] = g.thread_rank();
        out[4 * t + 2] = cg::reduce(g, x[t], cg::plus<int>());
        out[4 * t + 3] = (int)g.ballot(x[t] > 0);
    }
}
'''


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_tiles_of_tiles_scans_and_thread_group_parameters(schedule):
    threads = 48
    x = np.random.default_rng(8).integers(-9, 9, threads).astype(np.int32)
    out = np.zeros((threads, 8), np.int32)
    cuda.RawKernel(TILES, "tiles", backend="emulator", schedule=schedule, seed=2)((1,), (threads,), (x, out))
    r = np.arange(threads)
    np.testing.assert_array_equal(out[:, 0], threads)
    np.testing.assert_array_equal(out[:, 1], r)
    np.testing.assert_array_equal(out[:, 2], 16)
    np.testing.assert_array_equal(out[:, 3], r % 16)
    np.testing.assert_array_equal(out[:, 4], (r % 16) // 4 * 100 + 4)
    tiles = x.reshape(-1, 16)
    np.testing.assert_array_equal(out[:, 5], np.repeat(tiles.max(1), 16))
    inc = np.cumsum(tiles, 1).ravel()
    np.testing.assert_array_equal(out[:, 6], inc)
    np.testing.assert_array_equal(out[:, 7], inc - x)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_coalesced_group(schedule):
    threads = 40
    x = np.random.default_rng(9).integers(-9, 9, threads).astype(np.int32)
    out = np.zeros((threads, 4), np.int32)
    cuda.RawKernel(TILES, "coalesced", backend="emulator", schedule=schedule, seed=3)((1,), (threads,), (x, out))
    for w0 in (0, 32):
        members = [t for t in range(w0, min(threads, w0 + 32)) if t % 3 == 0]
        for rank, t in enumerate(members):
            assert list(out[t]) == [len(members), rank, x[members].sum(),
                                    sum(1 << j for j, m in enumerate(members) if x[m] > 0)]
    assert (out[[t for t in range(threads) if t % 3], 0] == -1).all()


@pytest.mark.skipif(not NVRTC_OK, reason="NVRTC unavailable")
def test_inline_kernels_compile_with_nvrtc():
    for arch in nvrtc.ARCHS:
        names = {k["kernel"] for k in nvrtc.compile_cuda(TILES, arch=arch).kernels}
        assert names == {"tiles", "coalesced"}


def test_a_tile_shuffle_from_an_exited_lane_names_the_kernel_line():
    src = r'''#include <cooperative_groups.h>
namespace cg = cooperative_groups;
extern "C" __global__ void k(float* x, int n) {
    auto tile = cg::tiled_partition<32>(cg::this_thread_block());
    if ((int)threadIdx.x >= n) return;
    x[threadIdx.x] = tile.shfl_down(x[threadIdx.x], 4);
}'''
    with pytest.raises(cuda.WarpSyncError, match=r"k: __shfl_down_sync.*<kernel>\.cu:6 .*lane 6\) reads lane 10, "
                                                 r"which has already returned"):
        cuda.RawKernel(src, "k", backend="emulator")((1,), (32,), (np.zeros(32, np.float32), np.int32(10)))


# ------------------------------------------------------------------ grid-wide synchronisation

@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("n, grid, block", [(1000, 4, 64), (37, 3, 32), (5000, 6, 128)])
def test_grid_sync_normalize(examples, schedule, n, grid, block):
    x = np.random.default_rng(n).random(n).astype(np.float32) + 0.5
    y = x.copy()
    partials = np.full(grid, np.nan, np.float32)
    mod = example(examples, "grid_sync.cu", schedule=schedule, seed=n, enable_cooperative_groups=True)
    mod.get_function("normalize_sum")((grid,), (block,), (y, partials, np.int32(n)))
    np.testing.assert_allclose(y, x / x.sum(dtype=np.float64), rtol=2e-5)
    assert np.isclose(partials.sum(dtype=np.float64), x.sum(dtype=np.float64), rtol=1e-5)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_grid_sync_between_smoothing_rounds(examples, schedule):
    n, steps = 300, 7
    a = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    ref = a.astype(np.float64)
    for _ in range(steps):
        nxt = ref.copy()
        nxt[1:-1] = (ref[:-2] + ref[1:-1] + ref[2:]) / 3
        ref = nxt
    a_dev, b_dev = a.copy(), np.zeros_like(a)
    mod = example(examples, "grid_sync.cu", schedule=schedule, seed=7, enable_cooperative_groups=True)
    mod.get_function("smooth")((3,), (32,), (a_dev, b_dev, np.int32(n), np.int32(steps)))
    np.testing.assert_allclose(b_dev if steps % 2 else a_dev, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sanitizer", ["address", "thread"])
def test_grid_sync_is_clean_under_sanitizers(examples, sanitizer):
    n = 200
    a0 = np.random.default_rng(2).standard_normal(n).astype(np.float32)
    a, b = a0.copy(), np.zeros_like(a0)
    mod = example(examples, "grid_sync.cu", sanitizer=sanitizer, enable_cooperative_groups=True)
    mod.get_function("smooth")((2,), (32,), (a, b, np.int32(n), np.int32(2)))
    ref = a0.astype(np.float64)
    for _ in range(2):
        nxt = ref.copy()
        nxt[1:-1] = (ref[:-2] + ref[1:-1] + ref[2:]) / 3
        ref = nxt
    np.testing.assert_allclose(a, ref, rtol=1e-5, atol=1e-6)


RACY = r'''#include <cooperative_groups.h>
extern "C" __global__ void shift_left(float* x, int n) {
    // BUG when `sync` is 0: reads a neighbour block's element that it may already have changed
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float right = i + 1 < n ? x[i + 1] : 0.f;
    if (SYNC) cooperative_groups::this_grid().sync();
    if (i < n) x[i] = right;
}'''


def test_thread_sanitizer_sees_a_missing_grid_sync_between_blocks():
    n = 64
    for sync, clean in ((1, True), (0, False)):
        x = np.arange(n, dtype=np.float32)
        k = cuda.RawKernel(RACY, "shift_left", options=(f"-DSYNC={sync}",), backend="emulator",
                           sanitizer="thread", enable_cooperative_groups=True)
        if clean:
            k((2,), (32,), (x, np.int32(n)))
            np.testing.assert_array_equal(x, np.r_[np.arange(1, n), 0].astype(np.float32))
        else:
            with pytest.raises(cuda.SanitizerError, match="data race in kernel 'shift_left'"):
                k((2,), (32,), (x, np.int32(n)))


def test_grid_sync_needs_a_cooperative_launch(examples):
    x = np.ones(64, np.float32)
    k = example(examples, "grid_sync.cu").get_function("normalize_sum")
    with pytest.raises(cuda.CooperativeLaunchError,
                       match=r"this_grid\(\)\.sync\(\) at grid_sync\.cu:\d+ .*enable_cooperative_groups=True"):
        k((2,), (32,), (x, np.zeros(2, np.float32), np.int32(64)))
    assert issubclass(cuda.CooperativeLaunchError, cuda.LaunchConfigError)


def test_a_grid_no_device_holds_is_refused_with_the_numbers(examples):
    k = example(examples, "grid_sync.cu", enable_cooperative_groups=True).get_function("normalize_sum")
    x = np.ones(64, np.float32)
    # 1024 threads: 2 blocks per SM of 2048 threads, 132 SMs -> 264 blocks resident on an H100
    per_sm = checks.resident_blocks_per_sm(1024, 4 * 32)
    assert per_sm == 2048 // 1024
    with pytest.raises(cuda.LaunchConfigError, match=r"265 blocks of 1024 threads.* 2 such block\(s\).*"
                                                     r"132 SMs holds 264 \(a T4 \(sm_75\): 40\)"):
        k((265,), (1024,), (x, np.zeros(265, np.float32), np.int32(64)))
    # within a device but beyond the emulator's fibers
    with pytest.raises(cuda.LaunchConfigError, match=r"17 blocks x 1024 threads = 17408 threads .* 16384"):
        k((17,), (1024,), (x, np.zeros(17, np.float32), np.int32(64)))


def test_shared_memory_limits_the_resident_grid():
    # 100 KiB of shared memory per block: two fit in an SM's 228 KiB, so 264 on 132 SMs
    assert checks.resident_blocks_per_sm(128, 100 * 1024) == 2
    assert checks.resident_blocks_per_sm(128, 0) == 16       # 2048 threads / 128
    assert checks.resident_blocks_per_sm(32, 0) == 32        # the 32-blocks-per-SM slot limit


def test_a_block_that_returns_before_the_grid_sync_is_a_deadlock():
    src = r'''#include <cooperative_groups.h>
extern "C" __global__ void k(float* x) {
    if (blockIdx.x == 1) return;
    cooperative_groups::this_grid().sync();
    x[threadIdx.x] = 1.f;
}'''
    with pytest.raises(cuda.DeadlockError, match=r"wait at this_grid\(\)\.sync\(\) at <kernel>\.cu:4.*"
                                                 r"1 block\(s\) of the grid have already returned"):
        cuda.RawKernel(src, "k", backend="emulator", enable_cooperative_groups=True)(
            (3,), (32,), (np.zeros(32, np.float32),))


def test_a_thread_that_returns_before_the_grid_sync_is_a_deadlock():
    src = r'''#include <cooperative_groups.h>
extern "C" __global__ void k(float* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    cooperative_groups::this_grid().sync();
    x[i] = 1.f;
}'''
    with pytest.raises(cuda.DeadlockError, match=r"31 thread\(s\) of block \(1,0,0\) wait at this_grid\(\)\.sync\(\) "
                                                 r"at <kernel>\.cu:5 .* 1 have already returned"):
        cuda.RawKernel(src, "k", backend="emulator", enable_cooperative_groups=True)(
            (2,), (32,), (np.zeros(64, np.float32), np.int32(63)))


def test_grid_group_ranks_and_validity():
    src = r'''#include <cooperative_groups.h>
namespace cg = cooperative_groups;
extern "C" __global__ void k(long long* out) {
    cg::grid_group g = cg::this_grid();
    long long* o = out + 4 * g.thread_rank();
    o[0] = g.thread_rank(); o[1] = g.size(); o[2] = g.block_rank(); o[3] = g.is_valid();
}'''
    grid, block = (3, 2), (4, 2)
    out = np.zeros((48, 4), np.int64)
    for coop in (True, False):
        cuda.RawKernel(src, "k", backend="emulator", enable_cooperative_groups=coop)(grid, block, (out,))
        np.testing.assert_array_equal(out[:, 0], np.arange(48))
        np.testing.assert_array_equal(out[:, 1], 48)
        np.testing.assert_array_equal(out[:, 2], np.arange(48) // 8)
        np.testing.assert_array_equal(out[:, 3], int(coop))


# ------------------------------------------------------------------ the same kernels on a GPU

@pytest.mark.gpu
def test_cooperative_examples_on_the_gpu_match_the_emulator(examples):
    n, grid, block = 5000, 6, 128
    x = np.random.default_rng(5).random(n).astype(np.float32) + 0.5
    got = {}
    for backend in ("cupy", "emulator"):
        y = x.copy()
        mod = cuda.RawModule(path=examples / "grid_sync.cu", backend=backend, enable_cooperative_groups=True)
        mod.get_function("normalize_sum")((grid,), (block,), (y, np.zeros(grid, np.float32), np.int32(n)))
        got[backend] = y
    np.testing.assert_allclose(got["cupy"], x / x.sum(dtype=np.float64), rtol=2e-5)
    np.testing.assert_allclose(got["cupy"], got["emulator"], rtol=1e-6)
    xs = np.random.default_rng(6).standard_normal(1000).astype(np.float32)
    outs = {}
    for backend in ("cupy", "emulator"):
        res = [np.zeros(4, np.float32) for _ in range(3)]
        cuda.RawModule(path=examples / "cg_block_reduce.cu", backend=backend).get_function("block_reduce")(
            (4,), (256,), (xs, *res, np.int32(1000)))
        outs[backend] = res
    for a, b in zip(outs["cupy"], outs["emulator"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)

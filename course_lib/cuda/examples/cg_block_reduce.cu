// Block reductions written with cooperative groups: the block is split into warp-sized tiles, each
// tile folds its values with cg::reduce, the tile results meet in shared memory and the first
// tile folds them. Compared with warp_reduce.cu the group objects carry the masks, widths and
// ranks that the raw intrinsics leave to the programmer.
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
namespace cg = cooperative_groups;

// Sum of x[blockIdx.x * blockDim.x ... + blockDim.x) into sums[blockIdx.x]; maxima and minima of
// the same slice into maxes / mins (cg::greater picks the larger of two values, cg::less the
// smaller). Any blockDim.x that is a multiple of 32, up to 1024; x may end inside the last block.
extern "C" __global__ void block_reduce(const float* __restrict__ x, float* __restrict__ sums,
                                        float* __restrict__ maxes, float* __restrict__ mins, int n) {
    __shared__ float part_sum[32], part_max[32], part_min[32];
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    const int i = blockIdx.x * blockDim.x + block.thread_rank();
    const bool in = i < n;                  // idle threads stay: every lane of a tile must take part
    float s = cg::reduce(warp, in ? x[i] : 0.0f, cg::plus<float>());
    float hi = cg::reduce(warp, in ? x[i] : -__int_as_float(0x7f800000), cg::greater<float>());
    float lo = cg::reduce(warp, in ? x[i] : __int_as_float(0x7f800000), cg::less<float>());
    if (warp.thread_rank() == 0) {
        part_sum[warp.meta_group_rank()] = s;
        part_max[warp.meta_group_rank()] = hi;
        part_min[warp.meta_group_rank()] = lo;
    }
    block.sync();
    if (warp.meta_group_rank() == 0) {
        const bool have = warp.thread_rank() < warp.meta_group_size();
        s = cg::reduce(warp, have ? part_sum[warp.thread_rank()] : 0.0f, cg::plus<float>());
        hi = cg::reduce(warp, have ? part_max[warp.thread_rank()] : -__int_as_float(0x7f800000),
                        cg::greater<float>());
        lo = cg::reduce(warp, have ? part_min[warp.thread_rank()] : __int_as_float(0x7f800000),
                        cg::less<float>());
        if (block.thread_rank() == 0) {
            sums[blockIdx.x] = s;
            maxes[blockIdx.x] = hi;
            mins[blockIdx.x] = lo;
        }
    }
}

// What a tile of 8 threads offers, one column of `out` per operation (out is (threads, 10)):
// thread rank, meta group rank, shfl from rank 3, shfl_up by 1, shfl_down by 2, shfl_xor 5,
// any / all of (value > 0), the tile-relative ballot of (value > 0), and an inclusive
// sum computed with shfl_up (a scan by hand).
extern "C" __global__ void tile8_ops(const int* __restrict__ x, int* __restrict__ out) {
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<8> tile = cg::tiled_partition<8>(block);
    const int t = block.thread_rank();
    const int v = x[t];
    int* o = out + 10 * t;
    o[0] = tile.thread_rank();
    o[1] = tile.meta_group_rank();
    o[2] = tile.shfl(v, 3);
    o[3] = tile.shfl_up(v, 1);
    o[4] = tile.shfl_down(v, 2);
    o[5] = tile.shfl_xor(v, 5);
    o[6] = tile.any(v > 0);
    o[7] = tile.all(v > 0);
    o[8] = (int)tile.ballot(v > 0);
    int scan = v;
    for (unsigned d = 1; d < tile.size(); d *= 2) {
        const int before = tile.shfl_up(scan, d);
        if (tile.thread_rank() >= d) scan += before;
    }
    o[9] = scan;
}

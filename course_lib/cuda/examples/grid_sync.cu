// Grid-wide synchronisation: this_grid().sync() waits until every thread of every block has
// arrived, which is only possible when all blocks are resident at once -- a cooperative launch
// (RawKernel(..., enable_cooperative_groups=True), at most as many blocks as the GPU holds).
// Both kernels loop over their data with a grid stride, so a small grid covers any n.
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
namespace cg = cooperative_groups;

// x /= sum(x), in one launch: every block writes its partial sum, the grid syncs, then every
// block adds the partial sums in the same order (no atomics: the result is the same under any
// schedule) and scales its elements. partials holds gridDim.x floats.
extern "C" __global__ void normalize_sum(float* __restrict__ x, float* __restrict__ partials, int n) {
    __shared__ float warp_sums[32];
    cg::grid_group grid = cg::this_grid();
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    float s = 0.0f;
    for (long long i = grid.thread_rank(); i < n; i += grid.size()) s += x[i];
    s = cg::reduce(warp, s, cg::plus<float>());
    if (warp.thread_rank() == 0) warp_sums[warp.meta_group_rank()] = s;
    block.sync();
    if (block.thread_rank() == 0) {
        float b = 0.0f;
        for (unsigned w = 0; w < warp.meta_group_size(); ++w) b += warp_sums[w];
        partials[grid.block_rank()] = b;
    }
    grid.sync();                           // every partial sum is written
    float total = 0.0f;
    for (unsigned long long b = 0; b < grid.num_blocks(); ++b) total += partials[b];
    for (long long i = grid.thread_rank(); i < n; i += grid.size()) x[i] /= total;
}

// `steps` rounds of a three-point average with fixed ends, a[i] <- (a[i-1] + a[i] + a[i+1]) / 3,
// ping-ponging between a and b; the grid syncs after each round so no block reads a neighbour's
// value before it is written. The result is in a when steps is even, else in b.
extern "C" __global__ void smooth(float* __restrict__ a, float* __restrict__ b, int n, int steps) {
    cg::grid_group grid = cg::this_grid();
    for (int s = 0; s < steps; ++s) {
        const float* src = (s % 2 == 0) ? a : b;
        float* dst = (s % 2 == 0) ? b : a;
        for (long long i = grid.thread_rank(); i < n; i += grid.size())
            dst[i] = (i == 0 || i == n - 1) ? src[i] : (src[i - 1] + src[i] + src[i + 1]) * (1.0f / 3.0f);
        grid.sync();
    }
}

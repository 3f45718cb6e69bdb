// A template kernel: the element type T and the tile width TILE are compile-time parameters, so
// one source gives a kernel per (T, TILE) pair. A template has no code until it is instantiated:
// launch it with RawModule(code, name_expressions=["tile_sums<float, 8>"]) and
// get_function("tile_sums<float, 8>"), as in CuPy.
// out[g] = sum of x over the g-th group of TILE consecutive threads (x padded with zeros).
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
namespace cg = cooperative_groups;

template <typename T, int TILE>
__global__ void tile_sums(const T* __restrict__ x, T* __restrict__ out, int n) {
    cg::thread_block_tile<TILE> tile = cg::tiled_partition<TILE>(cg::this_thread_block());
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const T s = cg::reduce(tile, i < n ? x[i] : T(0), cg::plus<T>());
    if (tile.thread_rank() == 0) out[i / TILE] = s;
}

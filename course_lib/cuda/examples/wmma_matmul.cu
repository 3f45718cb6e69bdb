// Tensor cores through nvcuda::wmma: C = A B for half A (M, K) and B (K, N), float C (M, N),
// M, N, K multiples of 16. One warp per 16x16 tile of C: it walks K in steps of 16, loading a
// 16x16 slice of A and of B into fragments and accumulating their product with mma_sync.
// Every wmma call is warp-collective: all 32 lanes call it with the same pointer and stride.
// The layout of a fragment's elements across the lanes is unspecified: only load/store touch it.
#include <mma.h>
#include <cuda_fp16.h>
using namespace nvcuda;

extern "C" __global__ void wmma_matmul(const __half* __restrict__ A, const __half* __restrict__ B,
                                       float* __restrict__ C, int M, int N, int K) {
    const int tile_row = blockIdx.y, tile_col = blockIdx.x;     // one warp (32 threads) per block
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> b;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
    for (int k = 0; k < K; k += 16) {
        wmma::load_matrix_sync(a, A + (tile_row * 16) * K + k, K);      // 16x16 slice of A
        wmma::load_matrix_sync(b, B + k * N + tile_col * 16, N);        // 16x16 slice of B
        wmma::mma_sync(acc, a, b, acc);                                 // acc += a b
    }
    wmma::store_matrix_sync(C + (tile_row * 16) * N + tile_col * 16, acc, N, wmma::mem_row_major);
}

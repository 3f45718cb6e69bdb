// The body of the wmma matrix-product examples (wmma_gemm.cu: __half, wmma_gemm_bf16.cu:
// __nv_bfloat16): C = alpha * A @ B + beta * C with tensor-core fragments of 16x16x16.
//
// Shapes: A is M x K, B is K x N, C is M x N; M, N and K must be multiples of 16 (the launcher's
// job to check or pad). A and B are row- or column-major (the fragment layouts), C row-major or,
// with c_col_major = 1, column-major. Each warp computes one 16x16 tile of C from global memory;
// a block of WMMA_WARPS_X * WMMA_WARPS_Y warps covers a 32 x 32 tile, so the grid is
// (ceil(N / 32), ceil(M / 32)) blocks of 128 threads. Cost: 2*M*N*K flops, K/16 mma_sync per tile.
#pragma once
#include <mma.h>

#define WMMA_WARPS_X 2
#define WMMA_WARPS_Y 2

// Where element (r, c) of a rows x cols matrix is, and its leading dimension, for each layout
// tag (the tags are incomplete types: they only select a specialisation).
template <class L> struct WmmaLayout;
template <> struct WmmaLayout<nvcuda::wmma::row_major> {
    __device__ static size_t at(int r, int c, int rows, int cols) { return (size_t)r * cols + c; }
    __device__ static unsigned ld(int rows, int cols) { return cols; }
};
template <> struct WmmaLayout<nvcuda::wmma::col_major> {
    __device__ static size_t at(int r, int c, int rows, int cols) { return (size_t)c * rows + r; }
    __device__ static unsigned ld(int rows, int cols) { return rows; }
};

template <class T, class LA, class LB>
__device__ void wmma_gemm_tile(const T* A, const T* B, float* C, int M, int N, int K, float alpha,
                               float beta, int c_col_major) {
    using namespace nvcuda;
    const int warp = threadIdx.x / 32;
    const int m0 = (blockIdx.y * WMMA_WARPS_Y + warp / WMMA_WARPS_X) * 16;
    const int n0 = (blockIdx.x * WMMA_WARPS_X + warp % WMMA_WARPS_X) * 16;
    if (m0 >= M || n0 >= N) return;          // the whole warp leaves: wmma needs all 32 lanes

    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, LA> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, LB> b;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
    for (int k0 = 0; k0 < K; k0 += 16) {
        wmma::load_matrix_sync(a, A + WmmaLayout<LA>::at(m0, k0, M, K), WmmaLayout<LA>::ld(M, K));
        wmma::load_matrix_sync(b, B + WmmaLayout<LB>::at(k0, n0, K, N), WmmaLayout<LB>::ld(K, N));
        wmma::mma_sync(acc, a, b, acc);
    }
    // The epilogue works element by element on x[]: acc and c map elements to lanes the same
    // way (both are accumulators), whatever that mapping is.
    const wmma::layout_t cl = c_col_major ? wmma::mem_col_major : wmma::mem_row_major;
    float* Ct = C + (c_col_major ? (size_t)n0 * M + m0 : (size_t)m0 * N + n0);
    const unsigned ldc = c_col_major ? M : N;
    if (beta != 0.0f) {                      // BLAS convention: beta = 0 never reads C
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> c;
        wmma::load_matrix_sync(c, Ct, ldc, cl);
        for (int i = 0; i < acc.num_elements; ++i) acc.x[i] = alpha * acc.x[i] + beta * c.x[i];
    } else {
        for (int i = 0; i < acc.num_elements; ++i) acc.x[i] = alpha * acc.x[i];
    }
    wmma::store_matrix_sync(Ct, acc, ldc, cl);
}

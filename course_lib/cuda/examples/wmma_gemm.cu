// Tensor-core matrix product on __half inputs with float accumulation, C = alpha * A @ B + beta * C,
// one kernel per (A layout, B layout): _rr, _rc, _cr, _cc (r: row-major, c: column-major).
// Shapes and launch configuration: wmma_gemm_tile.cuh. Half-precision wmma runs from sm_70 (T4 included).
#include <cuda_fp16.h>
#include "wmma_gemm_tile.cuh"

extern "C" __global__ void wmma_gemm_half_rr(const __half* A, const __half* B, float* C, int M, int N,
                                        int K, float alpha, float beta, int c_col_major) {
    wmma_gemm_tile<__half, nvcuda::wmma::row_major, nvcuda::wmma::row_major>(A, B, C, M, N, K, alpha, beta, c_col_major);
}

extern "C" __global__ void wmma_gemm_half_rc(const __half* A, const __half* B, float* C, int M, int N,
                                        int K, float alpha, float beta, int c_col_major) {
    wmma_gemm_tile<__half, nvcuda::wmma::row_major, nvcuda::wmma::col_major>(A, B, C, M, N, K, alpha, beta, c_col_major);
}

extern "C" __global__ void wmma_gemm_half_cr(const __half* A, const __half* B, float* C, int M, int N,
                                        int K, float alpha, float beta, int c_col_major) {
    wmma_gemm_tile<__half, nvcuda::wmma::col_major, nvcuda::wmma::row_major>(A, B, C, M, N, K, alpha, beta, c_col_major);
}

extern "C" __global__ void wmma_gemm_half_cc(const __half* A, const __half* B, float* C, int M, int N,
                                        int K, float alpha, float beta, int c_col_major) {
    wmma_gemm_tile<__half, nvcuda::wmma::col_major, nvcuda::wmma::col_major>(A, B, C, M, N, K, alpha, beta, c_col_major);
}

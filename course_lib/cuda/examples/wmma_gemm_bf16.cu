// Tensor-core matrix product on __nv_bfloat16 inputs with float accumulation, as wmma_gemm.cu.
// NumPy has no bfloat16: A and B travel as uint16 bit patterns.
// nvrtc: min-arch sm_80  (bfloat16 wmma fragments need an Ampere or newer GPU)
#include <cuda_bf16.h>
#include "wmma_gemm_tile.cuh"

extern "C" __global__ void wmma_gemm_bf16_rr(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                                        int K, float alpha, float beta, int c_col_major) {
    wmma_gemm_tile<__nv_bfloat16, nvcuda::wmma::row_major, nvcuda::wmma::row_major>(A, B, C, M, N, K, alpha, beta, c_col_major);
}

extern "C" __global__ void wmma_gemm_bf16_rc(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                                        int K, float alpha, float beta, int c_col_major) {
    wmma_gemm_tile<__nv_bfloat16, nvcuda::wmma::row_major, nvcuda::wmma::col_major>(A, B, C, M, N, K, alpha, beta, c_col_major);
}

extern "C" __global__ void wmma_gemm_bf16_cr(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                                        int K, float alpha, float beta, int c_col_major) {
    wmma_gemm_tile<__nv_bfloat16, nvcuda::wmma::col_major, nvcuda::wmma::row_major>(A, B, C, M, N, K, alpha, beta, c_col_major);
}

extern "C" __global__ void wmma_gemm_bf16_cc(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                                        int K, float alpha, float beta, int c_col_major) {
    wmma_gemm_tile<__nv_bfloat16, nvcuda::wmma::col_major, nvcuda::wmma::col_major>(A, B, C, M, N, K, alpha, beta, c_col_major);
}

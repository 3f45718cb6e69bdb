// Tensor-core FlashAttention forward on __half inputs (float accumulators): the body is in
// flash_fwd_wmma_tile.cuh.  __half wmma fragments exist from sm_70, so a T4 (sm_75) runs this
// file; the bfloat16 twin is flash_fwd_wmma_bf16.cu (sm_80+).
#include <cuda_fp16.h>
#include "flash_fwd_wmma_tile.cuh"

extern "C" __global__ void flash_fwd_wmma_f16(
    const __half* __restrict__ q, const __half* __restrict__ k, const __half* __restrict__ v,
    __half* __restrict__ out, float* __restrict__ lse, int H, int H_kv, int L, int S,
    int causal, float scale)
{
    __shared__ __align__(32) FlashWmmaSmem<__half> sm;   // wmma pointers need 32-byte alignment
    flash_fwd_wmma_tile<__half>(q, k, v, out, lse, H, H_kv, L, S, causal, scale, sm);
}

// Tensor-core FlashAttention forward on __nv_bfloat16 inputs (float accumulators): the body is
// in flash_fwd_wmma_tile.cuh; NumPy passes bfloat16 as uint16 bit patterns.
// nvrtc: min-arch sm_80  (bfloat16 wmma fragments need an Ampere or newer GPU)
#include <cuda_bf16.h>
#include "flash_fwd_wmma_tile.cuh"

extern "C" __global__ void flash_fwd_wmma_bf16(
    const __nv_bfloat16* __restrict__ q, const __nv_bfloat16* __restrict__ k,
    const __nv_bfloat16* __restrict__ v, __nv_bfloat16* __restrict__ out,
    float* __restrict__ lse, int H, int H_kv, int L, int S, int causal, float scale)
{
    __shared__ __align__(32) FlashWmmaSmem<__nv_bfloat16> sm;
    flash_fwd_wmma_tile<__nv_bfloat16>(q, k, v, out, lse, H, H_kv, L, S, causal, scale, sm);
}

// FlashAttention forward with 16-bit inputs (__half or __nv_bfloat16) and float32 arithmetic.
//
// The algorithm, layout and launch are those of flash_fwd_f32.cu (read that file first): grid
// (ceil(L / FLASH_BQ), B*H), one thread per query row, K/V tiles of FLASH_BK rows in shared
// memory, online softmax.  What changes:
//   * q, k, v and out are 16-bit: half the bytes to read and write, which is what bounds this
//     loop on a GPU; the tiles are widened to float once, when staged in shared memory;
//   * scores, the running max / sum and the accumulator stay float32: a half accumulator would
//     lose the small terms of a long sum (11 significant bits), and exp() of half scores loses
//     precision where the softmax is most sensitive;
//   * the output is rounded once, at the end, to the input's type; lse is float32.
// Two entry points: flash_fwd_f16 (__half) and flash_fwd_bf16 (__nv_bfloat16; NumPy passes
// bfloat16 as uint16 bit patterns).  Only conversions are used on bfloat16, which cuda_bf16.h
// provides from sm_75 on, so this file needs no min-arch marker.
#include <cuda_fp16.h>
#include <cuda_bf16.h>

#ifndef FLASH_EMAX
#define FLASH_EMAX 64
#endif
#define FLASH_BQ 64
#define FLASH_BK 32
#define NEG_INF (-__int_as_float(0x7f800000))

__device__ __forceinline__ float widen(__half x) { return __half2float(x); }
__device__ __forceinline__ float widen(__nv_bfloat16 x) { return __bfloat162float(x); }
template <class T> __device__ __forceinline__ T narrow(float x);
template <> __device__ __forceinline__ __half narrow<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 narrow<__nv_bfloat16>(float x)
{
    return __float2bfloat16_rn(x);
}

template <class T>
__device__ void flash_fwd_16bit(const T* __restrict__ q, const T* __restrict__ k,
                                const T* __restrict__ v, T* __restrict__ out,
                                float* __restrict__ lse, int H, int H_kv, int L, int S, int E,
                                int causal, float scale, float (*Ks)[FLASH_EMAX],
                                float (*Vs)[FLASH_EMAX], float (*Ss)[FLASH_BQ])
{
    const int bh = blockIdx.y;
    const int kvh = (bh / H) * H_kv + (bh % H) / (H / H_kv);
    const int q0 = blockIdx.x * FLASH_BQ;
    const int i = q0 + threadIdx.x;
    const bool row_ok = i < L;
    const T* qi = q + ((size_t)bh * L + (row_ok ? i : 0)) * E;
    const T* kb = k + (size_t)kvh * S * E;
    const T* vb = v + (size_t)kvh * S * E;

    float qr[FLASH_EMAX], acc[FLASH_EMAX];
#pragma unroll
    for (int d = 0; d < FLASH_EMAX; ++d) {
        qr[d] = (row_ok && d < E) ? widen(qi[d]) * scale : 0.0f;
        acc[d] = 0.0f;
    }
    float m = NEG_INF, l = 0.0f;
    const int kend = causal ? min(S, q0 + FLASH_BQ) : S;

    for (int k0 = 0; k0 < kend; k0 += FLASH_BK) {
        const int nk = min(FLASH_BK, kend - k0);
        for (int t = threadIdx.x; t < FLASH_BK * FLASH_EMAX; t += blockDim.x) {
            const int r = t / FLASH_EMAX, d = t % FLASH_EMAX;
            const bool in = r < nk && d < E;
            Ks[r][d] = in ? widen(kb[(size_t)(k0 + r) * E + d]) : 0.0f;
            Vs[r][d] = in ? widen(vb[(size_t)(k0 + r) * E + d]) : 0.0f;
        }
        __syncthreads();
        float m_new = m;
        for (int j = 0; j < nk; ++j) {     // scores of row i against the tile's keys
            float dot = 0.0f;
#pragma unroll
            for (int d = 0; d < FLASH_EMAX; ++d) dot += qr[d] * Ks[j][d];
            const float s = (!causal || k0 + j <= i) ? dot : NEG_INF;
            Ss[j][threadIdx.x] = s;
            m_new = fmaxf(m_new, s);
        }
        if (m_new != NEG_INF) {            // a row that has seen no key yet has nothing to add
            const float alpha = __expf(m - m_new);           // exp(-inf) = 0 on the first tile
            l *= alpha;
#pragma unroll
            for (int d = 0; d < FLASH_EMAX; ++d) acc[d] *= alpha;
            for (int j = 0; j < nk; ++j) {
                const float p = __expf(Ss[j][threadIdx.x] - m_new);   // hidden: exp(-inf) = 0
                l += p;
#pragma unroll
                for (int d = 0; d < FLASH_EMAX; ++d) acc[d] += p * Vs[j][d];
            }
            m = m_new;
        }
        __syncthreads();
    }
    if (!row_ok) return;
    const float inv = 1.0f / l;
    T* oi = out + ((size_t)bh * L + i) * E;
#pragma unroll
    for (int d = 0; d < FLASH_EMAX; ++d)
        if (d < E) oi[d] = narrow<T>(acc[d] * inv);
    lse[(size_t)bh * L + i] = m + __logf(l);
}

extern "C" __global__ void flash_fwd_f16(
    const __half* __restrict__ q, const __half* __restrict__ k, const __half* __restrict__ v,
    __half* __restrict__ out, float* __restrict__ lse, int H, int H_kv, int L, int S, int E,
    int causal, float scale)
{
    __shared__ float Ks[FLASH_BK][FLASH_EMAX];   // the tiles, widened to float
    __shared__ float Vs[FLASH_BK][FLASH_EMAX];
    __shared__ float Ss[FLASH_BK][FLASH_BQ];     // the scores of a tile, a column per thread
    flash_fwd_16bit<__half>(q, k, v, out, lse, H, H_kv, L, S, E, causal, scale, Ks, Vs, Ss);
}

extern "C" __global__ void flash_fwd_bf16(
    const __nv_bfloat16* __restrict__ q, const __nv_bfloat16* __restrict__ k,
    const __nv_bfloat16* __restrict__ v, __nv_bfloat16* __restrict__ out,
    float* __restrict__ lse, int H, int H_kv, int L, int S, int E, int causal, float scale)
{
    __shared__ float Ks[FLASH_BK][FLASH_EMAX];
    __shared__ float Vs[FLASH_BK][FLASH_EMAX];
    __shared__ float Ss[FLASH_BK][FLASH_BQ];
    flash_fwd_16bit<__nv_bfloat16>(q, k, v, out, lse, H, H_kv, L, S, E, causal, scale, Ks, Vs,
                                   Ss);
}

// The body of the tensor-core FlashAttention forward (flash_fwd_wmma.cu: __half,
// flash_fwd_wmma_bf16.cu: __nv_bfloat16): the algorithm of flash_fwd_f32.cu with both matrix
// products on wmma 16x16x16 fragments (16-bit inputs, float accumulators).
//
// Layout: q (B*H, L, D), k and v (B*H_kv, S, D), out (B*H, L, D) in T; lse (B*H, L) float.
// D = FLASH_EMAX is the head dim padded by the launcher to a multiple of 16 (zero columns).
// Grid (ceil(L / WQ_BLOCK), B*H), WQ_WARPS (4 or 2) warps per block; warp w owns the 16 query rows
// q0 + 16 w .. q0 + 16 w + 15 (WQ_BLOCK = 16 * WQ_WARPS rows per block).
//
// Per key tile of WK keys (staged in shared memory by the whole block, as T):
//   1. S = Q K^T on tensor cores: Q's fragments stay in registers for the whole kernel
//      (matrix_a, D / 16 of them); K^T is K read as a column-major matrix_b; the scores go to a
//      per-warp float tile Sw (16 x WK) in shared memory, because CUDA does not say which lane
//      holds which element of an accumulator fragment, and the softmax needs whole rows.
//   2. online softmax on Sw, two lanes per row (16 columns each, combined by one shuffle):
//      scale, causal / ragged mask, new max, P = exp(S - m) rounded to T into Pw, row sum l;
//      the running output row in Ow (16 x D floats) is multiplied by exp(m_old - m_new).
//   3. O += P V on tensor cores: Ow is loaded as an accumulator fragment, P (matrix_a) times
//      V (matrix_b, row-major) added, and stored back.
// The end: out = Ow / l rounded to T, lse = m + log(l).
//
// Shared memory at D = 128, WK = 32, two warps: K, V 2 * 32 * 128 * 2 = 16 KiB, Sw 4 KiB,
// Pw 2 KiB, Ow 16 KiB (the Q staging area at the start): 38 KiB.
// Cost: 4 L S D flops per head on tensor cores, plus O(L S) exponentials on the CUDA cores.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <mma.h>

#ifndef FLASH_EMAX
#define FLASH_EMAX 64
#endif
// Four warps (64 query rows) per block while the shared memory allows it (D <= 64: 36 KiB),
// two above (38 KiB at D = 128): more rows per block means fewer reads of each K/V tile.
// The launcher's wmma_warps() must agree.
#if FLASH_EMAX <= 64
#define WQ_WARPS 4
#else
#define WQ_WARPS 2
#endif
#define WQ_BLOCK (16 * WQ_WARPS)
#define WK 32
#define NEG_INF (-__int_as_float(0x7f800000))

template <class T> __device__ __forceinline__ T to_t(float x);
template <> __device__ __forceinline__ __half to_t<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 to_t<__nv_bfloat16>(float x)
{
    return __float2bfloat16_rn(x);
}

template <class T> struct FlashWmmaSmem {
    T Ks[WK][FLASH_EMAX];
    T Vs[WK][FLASH_EMAX];
    float Sw[WQ_WARPS][16][WK];
    T Pw[WQ_WARPS][16][WK];
    float Ow[WQ_WARPS][16][FLASH_EMAX];
};

template <class T>
__device__ void flash_fwd_wmma_tile(const T* __restrict__ q, const T* __restrict__ k,
                                    const T* __restrict__ v, T* __restrict__ out,
                                    float* __restrict__ lse, int H, int H_kv, int L, int S,
                                    int causal, float scale, FlashWmmaSmem<T>& sm)
{
    using namespace nvcuda;
    constexpr int D = FLASH_EMAX;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int bh = blockIdx.y;
    const int kvh = (bh / H) * H_kv + (bh % H) / (H / H_kv);
    const int q0 = blockIdx.x * WQ_BLOCK;
    const int r0 = q0 + 16 * warp;            // this warp's first query row
    const T* kb = k + (size_t)kvh * S * D;
    const T* vb = v + (size_t)kvh * S * D;
    const T zero = to_t<T>(0.0f);

    // Q: stage the warp's 16 rows (zeros past L) in its Ow area, then into fragments
    T* qst = reinterpret_cast<T*>(&sm.Ow[warp][0][0]);
    for (int t = lane; t < 16 * D; t += 32) {
        const int r = t / D, d = t % D;
        qst[t] = r0 + r < L ? q[((size_t)bh * L + r0 + r) * D + d] : zero;
    }
    __syncwarp();
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> qf[D / 16];
#pragma unroll
    for (int c = 0; c < D / 16; ++c) wmma::load_matrix_sync(qf[c], qst + 16 * c, D);
    __syncwarp();
    for (int t = lane; t < 16 * D; t += 32) (&sm.Ow[warp][0][0])[t] = 0.0f;

    // two lanes per row: lane 2r and 2r + 1 own row r, columns 16 * (lane % 2) + 0..15 of a tile
    const int row = lane / 2, half = lane % 2;
    const int i = r0 + row;                   // this lane's query position
    float m = NEG_INF, l = 0.0f;
    const int kend = causal ? min(S, q0 + WQ_BLOCK) : S;

    for (int k0 = 0; k0 < kend; k0 += WK) {
        const int nk = min(WK, kend - k0);
        for (int t = threadIdx.x; t < WK * D; t += blockDim.x) {
            const int r = t / D, d = t % D;
            sm.Ks[r][d] = r < nk ? kb[(size_t)(k0 + r) * D + d] : zero;
            sm.Vs[r][d] = r < nk ? vb[(size_t)(k0 + r) * D + d] : zero;
        }
        __syncthreads();

        // 1. S = Q K^T, 16 x WK, in 16 x 16 pieces
#pragma unroll
        for (int n = 0; n < WK / 16; ++n) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> sf;
            wmma::fill_fragment(sf, 0.0f);
#pragma unroll
            for (int c = 0; c < D / 16; ++c) {
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> kf;
                wmma::load_matrix_sync(kf, &sm.Ks[16 * n][16 * c], D);   // (d, j) at j * D + d
                wmma::mma_sync(sf, qf[c], kf, sf);
            }
            wmma::store_matrix_sync(&sm.Sw[warp][0][16 * n], sf, WK, wmma::mem_row_major);
        }
        __syncwarp();

        // 2. online softmax on the warp's 16 rows
        float* srow = sm.Sw[warp][row];
        float mt = m;
        for (int jj = 0; jj < 16; ++jj) {
            const int j = 16 * half + jj;
            const bool vis = j < nk && (!causal || k0 + j <= i);
            srow[j] = vis ? srow[j] * scale : NEG_INF;
            mt = fmaxf(mt, srow[j]);
        }
        mt = fmaxf(mt, __shfl_xor_sync(0xffffffffu, mt, 1));   // the row's other half
        const float alpha = mt == NEG_INF ? 1.0f : __expf(m - mt);
        float ps = 0.0f;
        for (int jj = 0; jj < 16; ++jj) {
            const int j = 16 * half + jj;
            const float p = mt == NEG_INF ? 0.0f : __expf(srow[j] - mt);
            ps += p;
            sm.Pw[warp][row][j] = to_t<T>(p);
        }
        ps += __shfl_xor_sync(0xffffffffu, ps, 1);
        l = l * alpha + ps;
        m = mt;
        for (int d = half; d < D; d += 2) sm.Ow[warp][row][d] *= alpha;
        __syncwarp();

        // 3. O += P V
#pragma unroll
        for (int c = 0; c < D / 16; ++c) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> of;
            wmma::load_matrix_sync(of, &sm.Ow[warp][0][16 * c], D, wmma::mem_row_major);
#pragma unroll
            for (int n = 0; n < WK / 16; ++n) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pf;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vf;
                wmma::load_matrix_sync(pf, &sm.Pw[warp][0][16 * n], WK);
                wmma::load_matrix_sync(vf, &sm.Vs[16 * n][16 * c], D);
                wmma::mma_sync(of, pf, vf, of);
            }
            wmma::store_matrix_sync(&sm.Ow[warp][0][16 * c], of, D, wmma::mem_row_major);
        }
        __syncthreads();                      // K, V (and Sw, Pw) are overwritten next
    }

    if (i >= L) return;
    const float inv = 1.0f / l;               // every row sees key 0: l >= 1
    T* oi = out + ((size_t)bh * L + i) * D;
    for (int d = half; d < D; d += 2) oi[d] = to_t<T>(sm.Ow[warp][row][d] * inv);
    if (half == 0) lse[(size_t)bh * L + i] = m + __logf(l);
}

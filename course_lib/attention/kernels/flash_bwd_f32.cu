// FlashAttention backward, float32, in the order of FlashAttention-2: nothing of size L x S is
// stored; the probabilities are recomputed from q, k and the forward's log-sum-exp.
//
//   P_ij  = exp(scale q_i.k_j - lse_i)               (exactly the forward's softmax)
//   D_i   = sum_d dO_id O_id   (= sum_j P_ij dP_ij, the softmax backward's row term)
//   dV_j  = sum_i P_ij dO_i
//   dS_ij = P_ij (dO_i.v_j - D_i)
//   dK_j  = scale sum_i dS_ij q_i,      dQ_i = scale sum_j dS_ij k_j
//
// Layout (contiguous): q, dout, out, dq (B*H, L, E); k, v, dk, dv (B*H_kv, S, E); lse, delta
// (B*H, L).  Query head h of batch entry b uses key/value head h / (H / H_kv) (GQA).
//
// Three kernels:
//   flash_bwd_preprocess -- delta = D, one thread per query row.
//   flash_bwd_dkdv       -- grid (ceil(S / BWD_BK), B*H_kv), one thread per key j: dK_j and dV_j
//                           in registers; k_j, v_j in shared memory; the block walks over every
//                           query tile of every query head that reads this key/value head (the
//                           GQA group), staging q, dO, lse, D of BWD_BQ rows at a time.  Each key
//                           belongs to one block, so dK, dV need no atomics.  Causal: query tiles
//                           that end before the block's first key are skipped.
//   flash_bwd_dq         -- grid (ceil(L / FLASH_BQ), B*H), one thread per query row i: dQ_i in
//                           registers, K/V tiles in shared memory as in the forward.
// FlashAttention-2 adds dQ with atomicAdd from the K/V blocks instead of the third kernel (one
// pass less, but float atomics make the result depend on their order); here dQ has its own pass,
// which recomputes P once more and is deterministic.
// FLASH_EMAX (-D, default 64) >= E.  Shared memory: dkdv 2 * 32 * (EMAX + 1) * 4 + 2 * 8 * EMAX
// * 4 bytes (41 KiB at 128), dq 2 * 32 * EMAX * 4 (32 KiB at 128).

#ifndef FLASH_EMAX
#define FLASH_EMAX 64
#endif
#define FLASH_BQ 64
#define FLASH_BK 32
#define BWD_BK 32
#define BWD_BQ 8
#define NEG_INF (-__int_as_float(0x7f800000))

extern "C" __global__ void flash_bwd_preprocess(
    const float* __restrict__ dout, const float* __restrict__ out, float* __restrict__ delta,
    int rows, int E)
{
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    float acc = 0.0f;
    for (int d = 0; d < E; ++d) acc += dout[(size_t)r * E + d] * out[(size_t)r * E + d];
    delta[r] = acc;
}

extern "C" __global__ void flash_bwd_dkdv(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ dout, const float* __restrict__ lse,
    const float* __restrict__ delta, float* __restrict__ dk, float* __restrict__ dv, int H,
    int H_kv, int L, int S, int E, int causal, float scale)
{
    // +1: thread t reads row t of Ks / Vs; an odd row length puts the 32 rows in 32 banks
    __shared__ float Ks[BWD_BK][FLASH_EMAX + 1];
    __shared__ float Vs[BWD_BK][FLASH_EMAX + 1];
    __shared__ float Qs[BWD_BQ][FLASH_EMAX];
    __shared__ float dOs[BWD_BQ][FLASH_EMAX];
    __shared__ float lse_s[BWD_BQ], D_s[BWD_BQ];
    const int kvh = blockIdx.y;                      // b * H_kv + key/value head
    const int b = kvh / H_kv, group = H / H_kv;
    const int k0 = blockIdx.x * BWD_BK;
    const int j = k0 + threadIdx.x;
    const bool key_ok = j < S;
    for (int t = threadIdx.x; t < BWD_BK * FLASH_EMAX; t += blockDim.x) {
        const int r = t / FLASH_EMAX, d = t % FLASH_EMAX;
        const bool in = k0 + r < S && d < E;
        Ks[r][d] = in ? k[((size_t)kvh * S + k0 + r) * E + d] : 0.0f;
        Vs[r][d] = in ? v[((size_t)kvh * S + k0 + r) * E + d] : 0.0f;
    }
    float dk_acc[FLASH_EMAX], dv_acc[FLASH_EMAX];
#pragma unroll
    for (int d = 0; d < FLASH_EMAX; ++d) dk_acc[d] = dv_acc[d] = 0.0f;
    // causal: query i sees key j iff j <= i, so queries before k0 see none of this tile's keys
    const int i_start = causal ? (min(k0, L) / BWD_BQ) * BWD_BQ : 0;

    for (int g = 0; g < group; ++g) {
        const int bh = b * H + (kvh % H_kv) * group + g;      // a query head of this group
        for (int i0 = i_start; i0 < L; i0 += BWD_BQ) {
            __syncthreads();                 // the previous tile (and, first, Ks / Vs) is done
            for (int t = threadIdx.x; t < BWD_BQ * FLASH_EMAX; t += blockDim.x) {
                const int r = t / FLASH_EMAX, d = t % FLASH_EMAX;
                const bool in = i0 + r < L && d < E;
                Qs[r][d] = in ? q[((size_t)bh * L + i0 + r) * E + d] : 0.0f;
                dOs[r][d] = in ? dout[((size_t)bh * L + i0 + r) * E + d] : 0.0f;
            }
            if (threadIdx.x < BWD_BQ) {
                const int i = i0 + threadIdx.x;
                lse_s[threadIdx.x] = i < L ? lse[(size_t)bh * L + i] : 0.0f;
                D_s[threadIdx.x] = i < L ? delta[(size_t)bh * L + i] : 0.0f;
            }
            __syncthreads();
            for (int r = 0; r < BWD_BQ; ++r) {
                const int i = i0 + r;
                if (i >= L || !key_ok || (causal && j > i)) continue;
                float s = 0.0f, dp = 0.0f;
#pragma unroll
                for (int d = 0; d < FLASH_EMAX; ++d) {
                    s += Qs[r][d] * Ks[threadIdx.x][d];
                    dp += dOs[r][d] * Vs[threadIdx.x][d];
                }
                const float p = __expf(s * scale - lse_s[r]);
                const float ds = p * (dp - D_s[r]);
#pragma unroll
                for (int d = 0; d < FLASH_EMAX; ++d) {
                    dv_acc[d] += p * dOs[r][d];
                    dk_acc[d] += ds * Qs[r][d];
                }
            }
        }
    }
    if (!key_ok) return;
#pragma unroll
    for (int d = 0; d < FLASH_EMAX; ++d)
        if (d < E) {
            dk[((size_t)kvh * S + j) * E + d] = scale * dk_acc[d];
            dv[((size_t)kvh * S + j) * E + d] = dv_acc[d];
        }
}

extern "C" __global__ void flash_bwd_dq(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ dout, const float* __restrict__ lse,
    const float* __restrict__ delta, float* __restrict__ dq, int H, int H_kv, int L, int S,
    int E, int causal, float scale)
{
    __shared__ float Ks[FLASH_BK][FLASH_EMAX];
    __shared__ float Vs[FLASH_BK][FLASH_EMAX];
    const int bh = blockIdx.y;
    const int kvh = (bh / H) * H_kv + (bh % H) / (H / H_kv);
    const int q0 = blockIdx.x * FLASH_BQ;
    const int i = q0 + threadIdx.x;
    const bool row_ok = i < L;
    const size_t row = (size_t)bh * L + (row_ok ? i : 0);
    float qr[FLASH_EMAX], dor[FLASH_EMAX], dq_acc[FLASH_EMAX];
#pragma unroll
    for (int d = 0; d < FLASH_EMAX; ++d) {
        qr[d] = (row_ok && d < E) ? q[row * E + d] : 0.0f;
        dor[d] = (row_ok && d < E) ? dout[row * E + d] : 0.0f;
        dq_acc[d] = 0.0f;
    }
    const float lse_i = row_ok ? lse[row] : 0.0f;
    const float D_i = row_ok ? delta[row] : 0.0f;
    const int kend = causal ? min(S, q0 + FLASH_BQ) : S;

    for (int k0 = 0; k0 < kend; k0 += FLASH_BK) {
        const int nk = min(FLASH_BK, kend - k0);
        for (int t = threadIdx.x; t < FLASH_BK * FLASH_EMAX; t += blockDim.x) {
            const int r = t / FLASH_EMAX, d = t % FLASH_EMAX;
            const bool in = r < nk && d < E;
            Ks[r][d] = in ? k[((size_t)kvh * S + k0 + r) * E + d] : 0.0f;
            Vs[r][d] = in ? v[((size_t)kvh * S + k0 + r) * E + d] : 0.0f;
        }
        __syncthreads();
        for (int j = 0; j < nk; ++j) {
            if (causal && k0 + j > i) break;              // later keys of the tile are hidden too
            float s = 0.0f, dp = 0.0f;
#pragma unroll
            for (int d = 0; d < FLASH_EMAX; ++d) {
                s += qr[d] * Ks[j][d];
                dp += dor[d] * Vs[j][d];
            }
            const float ds = __expf(s * scale - lse_i) * (dp - D_i);
#pragma unroll
            for (int d = 0; d < FLASH_EMAX; ++d) dq_acc[d] += ds * Ks[j][d];
        }
        __syncthreads();
    }
    if (!row_ok) return;
#pragma unroll
    for (int d = 0; d < FLASH_EMAX; ++d)
        if (d < E) dq[row * E + d] = scale * dq_acc[d];
}

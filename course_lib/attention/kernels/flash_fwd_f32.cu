// FlashAttention forward, float32: out = softmax(scale * q k^T) v without an L x S matrix.
//
// Layout (contiguous): q (B*H, L, E), k and v (B*H_kv, S, E), out (B*H, L, E), lse (B*H, L).
// Query head h of batch entry b reads key/value head (h / (H / H_kv)) of the same entry
// (grouped-query attention; H_kv = H is plain multi-head attention, H_kv = 1 multi-query).
//
// Grid (ceil(L / FLASH_BQ), B*H), FLASH_BQ threads per block: thread t owns query row
// i = blockIdx.x * FLASH_BQ + t and keeps, in registers,
//     q_i * scale (E floats), the running maximum m, the running sum l and acc (E floats).
// The block walks over the keys in tiles of FLASH_BK rows; each K/V tile is staged once in
// shared memory by all threads and then read by every query row of the block (the reuse that
// makes the kernel cheaper in memory traffic than one thread per (i, j) pair).  Per tile:
//     s_j = q_i . k_j                       (FLASH_BK scores, registers)
//     m'  = max(m, max_j s_j)
//     acc = acc * exp(m - m') + sum_j exp(s_j - m') v_j,   l = l * exp(m - m') + sum_j exp(s_j - m')
// and at the end out_i = acc / l, lse_i = m + log(l) (natural log of the scaled scores, what the
// backward pass needs to recompute the probabilities).
//
// Causal (is_causal, top-left aligned as torch): key j is visible to query i iff j <= i.  The
// block's last query is q0 + FLASH_BQ - 1, so key tiles from there on are skipped whole
// (about half of the work for L = S); the tiles on the diagonal mask entry by entry.
//
// The scores of a tile go to shared memory (column t for thread t: no bank conflicts) rather
// than to a register array: a register array must be indexed by constants, which means
// unrolling the loops over keys, and the full unroll made NVRTC take minutes per build.
// FLASH_EMAX (a -D option, default 64) is the largest head dim E this build takes; the launcher
// builds 32, 64 and 128.  Shared memory: (2 * FLASH_BK * FLASH_EMAX + FLASH_BK * FLASH_BQ) * 4
// bytes (40 KiB at 128).
// Cost: 4 * L * S * E flops per head (half of it skipped when causal); reads q, out once and K, V
// ceil(L / FLASH_BQ) times.

#ifndef FLASH_EMAX
#define FLASH_EMAX 64
#endif
#define FLASH_BQ 64
#define FLASH_BK 32
#define NEG_INF (-__int_as_float(0x7f800000))   // NVRTC has no INFINITY without a header

extern "C" __global__ void flash_fwd_f32(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    float* __restrict__ out, float* __restrict__ lse, int H, int H_kv, int L, int S, int E,
    int causal, float scale)
{
    __shared__ float Ks[FLASH_BK][FLASH_EMAX];
    __shared__ float Vs[FLASH_BK][FLASH_EMAX];
    __shared__ float Ss[FLASH_BK][FLASH_BQ];   // column t: thread t's scores of the current tile
    const int bh = blockIdx.y;
    const int kvh = (bh / H) * H_kv + (bh % H) / (H / H_kv);
    const int q0 = blockIdx.x * FLASH_BQ;
    const int i = q0 + threadIdx.x;
    const bool row_ok = i < L;     // rows past L still help to stage tiles and meet the barriers
    const float* qi = q + ((size_t)bh * L + (row_ok ? i : 0)) * E;
    const float* kb = k + (size_t)kvh * S * E;
    const float* vb = v + (size_t)kvh * S * E;

    float qr[FLASH_EMAX], acc[FLASH_EMAX];
#pragma unroll
    for (int d = 0; d < FLASH_EMAX; ++d) {
        qr[d] = (row_ok && d < E) ? qi[d] * scale : 0.0f;   // zero padding adds nothing to a dot
        acc[d] = 0.0f;
    }
    float m = NEG_INF, l = 0.0f;
    const int kend = causal ? min(S, q0 + FLASH_BQ) : S;    // causal: later tiles are invisible

    for (int k0 = 0; k0 < kend; k0 += FLASH_BK) {
        const int nk = min(FLASH_BK, kend - k0);             // the last tile may be ragged
        for (int t = threadIdx.x; t < FLASH_BK * FLASH_EMAX; t += blockDim.x) {
            const int r = t / FLASH_EMAX, d = t % FLASH_EMAX;
            const bool in = r < nk && d < E;
            Ks[r][d] = in ? kb[(size_t)(k0 + r) * E + d] : 0.0f;
            Vs[r][d] = in ? vb[(size_t)(k0 + r) * E + d] : 0.0f;
        }
        __syncthreads();

        // BEGIN INNER LOOP (the exercise of exercises/ch16_5/flash_forward_kernel.cu)
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
        // END INNER LOOP
        __syncthreads();                   // the tile is overwritten by the next iteration
    }

    if (!row_ok) return;
    // every row sees key 0 (causal or not), so l >= 1: no 0/0
    const float inv = 1.0f / l;
    float* oi = out + ((size_t)bh * L + i) * E;
#pragma unroll
    for (int d = 0; d < FLASH_EMAX; ++d)   // constant indices keep acc[] in registers
        if (d < E) oi[d] = acc[d] * inv;
    lse[(size_t)bh * L + i] = m + __logf(l);
}

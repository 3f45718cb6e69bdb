// Exercise 16.5 -- the inner loop of the FlashAttention forward kernel, float32.
//
// Layouts (float32, C-contiguous), N = batch * heads:
//   q (N, L, E), k and v (N, S, E), out (N, L, E), lse (N, L); E <= FLASH_EMAX = 64.
//   out[n, i] = sum_j softmax_j(scale * q[n, i] . k[n, j]) v[n, j]
//   lse[n, i] = log sum_j exp(scale * q[n, i] . k[n, j])
//   with causal != 0, key j is visible to query i only if j <= i (top-left, as torch).
//
// Launch (done for you in flash_forward_kernel.py): grid (ceil(L / 64), N), 64 threads per
// block; thread t of block (x, n) owns query row i = 64 x + t of matrix n (rows i >= L exist
// but write nothing: they still help to load the tiles and reach every __syncthreads).
//
// Given: the thread keeps qr[d] = scale * q[n, i, d] (zero for d >= E) and acc[d] = 0 in
// registers, the running max m = -inf and running sum l = 0.  The block walks over the keys in
// tiles of FLASH_BK = 32: the tile k0 .. k0 + nk - 1 is in shared memory as Ks[r][d] = k[k0 + r, d]
// and Vs[r][d] = v[k0 + r, d] (zeros for d >= E), and Ss[r][threadIdx.x] is this thread's
// column of a score buffer.  After the loop, out = acc / l and lse = m + log(l) are written
// for you.
//
// Your part, once per tile (the online softmax):
//   1. the scores s_j = qr . Ks[j] for j < nk, with -inf where causal hides key k0 + j;
//   2. the new running max m_new = max(m, max_j s_j);
//   3. rescale what was summed under the old max: l and acc[] times exp(m - m_new);
//   4. add the tile: p_j = exp(s_j - m_new), l += p_j, acc[d] += p_j * Vs[j][d]; then m = m_new.
// Careful: while a row has seen no visible key, m_new is -inf and exp(-inf - (-inf)) is NaN;
// such a tile adds nothing.  Loop over d < FLASH_EMAX (a constant) with a guard, not d < E:
// a loop with a constant trip count is unrolled by the compiler, which keeps acc[] and qr[] in
// registers (an array indexed by a run-time value lives in slow local memory).
// -INFINITY is not defined under NVRTC: use NEG_INF.  Test with
// `flash_forward_kernel(q, k, v, backend="emulator", sanitizer="address")`.

#define FLASH_EMAX 64
#define FLASH_BQ 64
#define FLASH_BK 32
#define NEG_INF (-__int_as_float(0x7f800000))

extern "C" __global__ void flash_forward_kernel(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    float* __restrict__ out, float* __restrict__ lse, int L, int S, int E, int causal,
    float scale)
{
    __shared__ float Ks[FLASH_BK][FLASH_EMAX];
    __shared__ float Vs[FLASH_BK][FLASH_EMAX];
    __shared__ float Ss[FLASH_BK][FLASH_BQ];
    const int n = blockIdx.y;
    const int q0 = blockIdx.x * FLASH_BQ;
    const int i = q0 + threadIdx.x;
    const bool row_ok = i < L;
    const float* qi = q + ((size_t)n * L + (row_ok ? i : 0)) * E;
    const float* kb = k + (size_t)n * S * E;
    const float* vb = v + (size_t)n * S * E;

    float qr[FLASH_EMAX], acc[FLASH_EMAX];
    for (int d = 0; d < FLASH_EMAX; ++d) {
        qr[d] = (row_ok && d < E) ? qi[d] * scale : 0.0f;
        acc[d] = 0.0f;
    }
    float m = NEG_INF, l = 0.0f;
    const int kend = causal ? min(S, q0 + FLASH_BQ) : S;   // causal: later tiles are all hidden

    for (int k0 = 0; k0 < kend; k0 += FLASH_BK) {
        const int nk = min(FLASH_BK, kend - k0);
        for (int t = threadIdx.x; t < FLASH_BK * FLASH_EMAX; t += blockDim.x) {
            const int r = t / FLASH_EMAX, d = t % FLASH_EMAX;
            const bool in = r < nk && d < E;
            Ks[r][d] = in ? kb[(size_t)(k0 + r) * E + d] : 0.0f;
            Vs[r][d] = in ? vb[(size_t)(k0 + r) * E + d] : 0.0f;
        }
        __syncthreads();

        // BEGIN SOLUTION: the online-softmax update of this thread's row for the tile:
        // scores s_j = qr . Ks[j] (j < nk; NEG_INF where causal and k0 + j > i) into
        // Ss[j][threadIdx.x], m_new = max(m, s_j); if m_new is finite: alpha = expf(m - m_new),
        // l *= alpha, acc[d] *= alpha, then for each j: p = expf(s_j - m_new), l += p,
        // acc[d] += p * Vs[j][d]; finally m = m_new.
        float m_new = m;
        for (int j = 0; j < nk; ++j) {
            float dot = 0.0f;
            for (int d = 0; d < FLASH_EMAX; ++d) dot += qr[d] * Ks[j][d];
            const float s = (!causal || k0 + j <= i) ? dot : NEG_INF;
            Ss[j][threadIdx.x] = s;
            m_new = fmaxf(m_new, s);
        }
        if (m_new != NEG_INF) {
            const float alpha = expf(m - m_new);     // 0 on the first tile: m = -inf
            l *= alpha;
            for (int d = 0; d < FLASH_EMAX; ++d) acc[d] *= alpha;
            for (int j = 0; j < nk; ++j) {
                const float p = expf(Ss[j][threadIdx.x] - m_new);
                l += p;
                for (int d = 0; d < FLASH_EMAX; ++d) acc[d] += p * Vs[j][d];
            }
            m = m_new;
        }
        // END SOLUTION
        __syncthreads();                  // the next tile overwrites Ks, Vs
    }

    if (!row_ok) return;
    const float inv = 1.0f / l;
    float* oi = out + ((size_t)n * L + i) * E;
    for (int d = 0; d < FLASH_EMAX; ++d)
        if (d < E) oi[d] = acc[d] * inv;
    lse[(size_t)n * L + i] = m + logf(l);
}

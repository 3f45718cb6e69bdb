// Flash-decoding: one new query per (sequence, head) against a long KV cache, float32.
//
// Layout (contiguous): q (B*H, E); k, v caches (B*H_kv, S, E), of which the first lengths[b]
// rows of sequence b are filled; query head h of sequence b reads cache head h / (H / H_kv)
// (GQA; H_kv = 1 is multi-query attention).
//
// With one query there is no query tile to give each block: a block per (b, h) would leave a
// large GPU mostly idle for small B.  So the cache is cut into chunks of DECODE_CHUNK rows, one
// block per (chunk c, b*h), each producing the partial softmax state of its chunk
//     m_c = max_j s_j,   l_c = sum_j exp(s_j - m_c),   acc_c = sum_j exp(s_j - m_c) v_j
// (s_j = scale q.k_j over the chunk's filled rows; a chunk past the length has m_c = -inf,
// l_c = 0, acc_c = 0), and a second kernel merges the chunks exactly:
//     M = max_c m_c,   out = sum_c exp(m_c - M) acc_c / sum_c exp(m_c - M) l_c,
//     lse = M + log(sum_c exp(m_c - M) l_c).
//
// flash_decode_partial: grid (chunks, B*H), DECODE_CHUNK threads, thread t owns cache row
//     c * DECODE_CHUNK + t: its score, then block reductions (max, sum) through shared memory;
//     acc_c[d] is summed by thread d (coalesced reads of v's rows).
// flash_decode_merge:   grid (B*H), threads over d.
// FLASH_EMAX (-D, default 64) >= E.

#ifndef FLASH_EMAX
#define FLASH_EMAX 64
#endif
#define DECODE_CHUNK 128
#define NEG_INF (-__int_as_float(0x7f800000))

// Maximum (is_max) or sum of v over the block, returned to every thread; red holds one float per
// warp.  The barrier at the start keeps an earlier use of red from being overwritten early.
__device__ float block_reduce(float v, bool is_max, float* red)
{
    for (int off = 16; off > 0; off >>= 1) {
        const float o = __shfl_xor_sync(0xffffffffu, v, off);
        v = is_max ? fmaxf(v, o) : v + o;
    }
    __syncthreads();
    if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
    __syncthreads();
    v = red[0];
    for (int w = 1; w < blockDim.x / 32; ++w) v = is_max ? fmaxf(v, red[w]) : v + red[w];
    return v;
}

extern "C" __global__ void flash_decode_partial(
    const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
    const int* __restrict__ lengths, float* __restrict__ part_m, float* __restrict__ part_l,
    float* __restrict__ part_acc, int H, int H_kv, int S, int E, float scale)
{
    __shared__ float qs[FLASH_EMAX];
    __shared__ float ps[DECODE_CHUNK];
    __shared__ float red[DECODE_CHUNK / 32];
    const int c = blockIdx.x, chunks = gridDim.x;
    const int bh = blockIdx.y, b = bh / H;
    const int kvh = b * H_kv + (bh % H) / (H / H_kv);
    const int len = lengths[b];
    const int c0 = c * DECODE_CHUNK;
    const int j = c0 + threadIdx.x;
    for (int d = threadIdx.x; d < E; d += blockDim.x) qs[d] = q[(size_t)bh * E + d] * scale;
    __syncthreads();

    float s = NEG_INF;
    if (j < len) {
        const float* kj = k + ((size_t)kvh * S + j) * E;
        s = 0.0f;
        for (int d = 0; d < E; ++d) s += qs[d] * kj[d];
    }
    const float m = block_reduce(s, true, red);
    const size_t part = (size_t)bh * chunks + c;
    if (m == NEG_INF) {                      // the whole chunk lies past this sequence's length
        for (int d = threadIdx.x; d < E; d += blockDim.x) part_acc[part * E + d] = 0.0f;
        if (threadIdx.x == 0) { part_m[part] = NEG_INF; part_l[part] = 0.0f; }
        return;                              // m is the same in every thread: all leave together
    }
    const float p = j < len ? __expf(s - m) : 0.0f;
    ps[threadIdx.x] = p;
    const float l = block_reduce(p, false, red);     // its barriers also publish ps[]
    const int n = min(DECODE_CHUNK, len - c0);
    for (int d = threadIdx.x; d < E; d += blockDim.x) {
        float a = 0.0f;
        for (int t = 0; t < n; ++t) a += ps[t] * v[((size_t)kvh * S + c0 + t) * E + d];
        part_acc[part * E + d] = a;
    }
    if (threadIdx.x == 0) { part_m[part] = m; part_l[part] = l; }
}

extern "C" __global__ void flash_decode_merge(
    const float* __restrict__ part_m, const float* __restrict__ part_l,
    const float* __restrict__ part_acc, float* __restrict__ out, float* __restrict__ lse,
    int chunks, int E)
{
    const int bh = blockIdx.x;
    const float* pm = part_m + (size_t)bh * chunks;
    const float* pl = part_l + (size_t)bh * chunks;
    float M = NEG_INF;
    for (int c = 0; c < chunks; ++c) M = fmaxf(M, pm[c]);   // chunk 0 holds row 0: M is finite
    float denom = 0.0f;
    for (int c = 0; c < chunks; ++c) denom += pl[c] * __expf(pm[c] - M);   // empty: 0 * 0
    for (int d = threadIdx.x; d < E; d += blockDim.x) {
        float a = 0.0f;
        for (int c = 0; c < chunks; ++c)
            a += part_acc[((size_t)bh * chunks + c) * E + d] * __expf(pm[c] - M);
        out[(size_t)bh * E + d] = a / denom;
    }
    if (threadIdx.x == 0) lse[bh] = M + __logf(denom);
}

// Row softmax, float32, for attention scores x (rows, S) -> y (rows, S), rows = prod(...) * L.
//
//   y[r, j] = exp(x[r, j] - m_r) / sum_{k allowed} exp(x[r, k] - m_r),   m_r = max_{k allowed} x[r, k]
//
// Subtracting the row maximum keeps every exponent <= 0, so logits of +-1e4 neither overflow
// (exp(1e4) is inf in float32) nor lose the row to 0/0.  An entry is "allowed" when
//   * the boolean mask says so (mask_rows > 0: row r uses mask row r % mask_rows, 1 = may attend),
//   * and, with causal != 0, its column j <= i where i = r % L is the query position
//     (top-left aligned, as torch's scaled_dot_product_attention(is_causal=True)),
//   * and x itself is not -inf (an additive mask's "never").
// Disallowed entries give 0.  A row with no allowed entry gives all zeros, never 0/0 = NaN: its
// maximum stays -inf and the kernels test for that before dividing.
//
// Two kernels, three passes over the row each (max, sum of exponentials, write):
//   softmax_warp  -- one warp (32 threads) per row, blocks of blockDim.x / 32 warps; the lane
//                    partials meet by register shuffles only: no shared memory, no barrier.
//                    Best for short rows (S up to a few thousand): a row is one warp's work.
//   softmax_block -- one block per row (blockDim.x a multiple of 32, <= 1024); shuffles inside
//                    each warp, then the warp partials meet in shared memory.  For long rows,
//                    where one warp per row would leave most of the GPU's threads idle.
// Traffic per row: 3 reads of S floats (the second and third mostly hit L1/L2) + 1 write, plus
// S mask bytes per read pass when masked.

#define NEG_INF (-__int_as_float(0x7f800000))   // NVRTC has no INFINITY without a header

__device__ __forceinline__ float warp_max(float v)
{
    // butterfly: after 5 steps every lane holds the maximum of the 32 lanes
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

__device__ __forceinline__ float warp_sum(float v)
{
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

// Columns [0, end) may be allowed; with causal masking the columns past the query are skipped
// without reading them.
__device__ __forceinline__ int row_end(int row, int L, int S, int causal)
{
    return causal ? min(S, row % L + 1) : S;
}

extern "C" __global__ void softmax_warp(const float* __restrict__ x,
                                        const unsigned char* __restrict__ mask,
                                        float* __restrict__ y,
                                        int rows, int L, int S, int mask_rows, int causal)
{
    const int lane = threadIdx.x % 32;
    const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= rows) return;                 // the whole warp leaves together
    const float* xr = x + (size_t)row * S;
    float* yr = y + (size_t)row * S;
    const unsigned char* mr = mask_rows > 0 ? mask + (size_t)(row % mask_rows) * S : nullptr;
    const int end = row_end(row, L, S, causal);

    // 1. row maximum over the allowed entries (lane-strided: a warp reads 32 neighbours at once)
    float m = NEG_INF;
    for (int j = lane; j < end; j += 32)
        if (!mr || mr[j]) m = fmaxf(m, xr[j]);
    m = warp_max(m);
    if (m == NEG_INF) {                      // nothing to attend to: zeros, not 0/0
        for (int j = lane; j < S; j += 32) yr[j] = 0.0f;
        return;
    }
    // 2. sum of exp(x - m): every term is in (0, 1], the largest is exactly 1, so sum >= 1
    float s = 0.0f;
    for (int j = lane; j < end; j += 32)
        if (!mr || mr[j]) s += __expf(xr[j] - m);
    const float inv = 1.0f / warp_sum(s);
    // 3. normalise; masked and causal-hidden columns get 0
    for (int j = lane; j < S; j += 32)
        yr[j] = (j < end && (!mr || mr[j])) ? __expf(xr[j] - m) * inv : 0.0f;
}

// Maximum / sum over the whole block, returned to every thread.  Each warp folds its lanes by
// shuffles, lane 0 leaves the warp's partial in red[warp], and after the barrier every warp folds
// the partials itself (no second barrier to broadcast a result).  The final barrier lets the
// next call reuse red.
__device__ float block_max(float v, float* red)
{
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
    v = warp_max(v);
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = warp_max(lane < nwarps ? red[lane] : NEG_INF);
    __syncthreads();
    return v;
}

__device__ float block_sum(float v, float* red)
{
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
    v = warp_sum(v);
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = warp_sum(lane < nwarps ? red[lane] : 0.0f);
    __syncthreads();
    return v;
}

extern "C" __global__ void softmax_block(const float* __restrict__ x,
                                         const unsigned char* __restrict__ mask,
                                         float* __restrict__ y,
                                         int rows, int L, int S, int mask_rows, int causal)
{
    __shared__ float red[32];                // one partial per warp
    const int row = blockIdx.x;              // grid = (rows,): every thread of the block has work
    const float* xr = x + (size_t)row * S;
    float* yr = y + (size_t)row * S;
    const unsigned char* mr = mask_rows > 0 ? mask + (size_t)(row % mask_rows) * S : nullptr;
    const int end = row_end(row, L, S, causal);

    float m = NEG_INF;
    for (int j = threadIdx.x; j < end; j += blockDim.x)
        if (!mr || mr[j]) m = fmaxf(m, xr[j]);
    m = block_max(m, red);
    if (m == NEG_INF) {                      // the same m in every thread: the block leaves together
        for (int j = threadIdx.x; j < S; j += blockDim.x) yr[j] = 0.0f;
        return;
    }
    float s = 0.0f;
    for (int j = threadIdx.x; j < end; j += blockDim.x)
        if (!mr || mr[j]) s += __expf(xr[j] - m);
    const float inv = 1.0f / block_sum(s, red);
    for (int j = threadIdx.x; j < S; j += blockDim.x)
        yr[j] = (j < end && (!mr || mr[j])) ? __expf(xr[j] - m) * inv : 0.0f;
}

// Exercise 16.4 -- row softmax as a CUDA kernel, one warp (32 threads) per row.
//
// Layouts (float32, C-contiguous):
//   x (rows, S)   attention scores; an entry may be -INFINITY, which means "masked": it gets
//                 probability 0. A row whose entries are ALL -inf has nothing to attend to:
//                 its output row must be all zeros (not 0/0 = NaN).
//   y (rows, S)   y[r, j] = exp(x[r, j] - m) / sum_k exp(x[r, k] - m), m = max_k x[r, k]
//
// Launch (done for you in softmax_warp_kernel.py): 1-D blocks of blockDim.x = 32 * W threads
// (W = 4 warps); warp w = threadIdx.x / 32 of block b owns row r = b * W + w, and the grid is
// rounded up, so the last block can have warps with no row. Do not assume W = 4: use blockDim.x.
//
// Why subtract the maximum: exp(88.8f) is already inf in float32, and logits of 1e4 occur; with
// m subtracted every exponent is <= 0 and the largest term is exactly 1.
//
// Warp reductions: __shfl_xor_sync(0xffffffffu, v, offset) returns v of lane (lane ^ offset);
// five steps with offsets 16, 8, 4, 2, 1 leave every lane holding the combined value of all 32.
// All 32 lanes of the warp must take part in each shuffle (the mask says "all").
//
// -INFINITY is not defined under NVRTC (the compiler CuPy uses); write -__int_as_float(0x7f800000)
// or use the NEG_INF macro below. Your kernel runs on the CPU emulator (no GPU needed) and
// unchanged on an NVIDIA GPU through CuPy. Test it with
// `softmax_warp_kernel(x, backend="emulator", sanitizer="address")` to catch out-of-bounds access.

#define NEG_INF (-__int_as_float(0x7f800000))

extern "C" __global__ void softmax_warp_kernel(const float* __restrict__ x,
                                               float* __restrict__ y,
                                               int rows, int S)
{
    // BEGIN SOLUTION: one warp per row; lane = threadIdx.x % 32, row = blockIdx.x * (blockDim.x / 32)
    // + threadIdx.x / 32. A warp whose row is >= rows returns at once (all its lanes together).
    // 1. each lane takes the max over columns lane, lane + 32, ...; combine with __shfl_xor_sync
    //    so every lane has the row max m;
    // 2. if m is -inf (every entry masked) write zeros to the row and return;
    // 3. each lane sums expf(x - m) over its columns; combine the sums with __shfl_xor_sync;
    // 4. write y = expf(x - m) / sum for the lane's columns.
    const int lane = threadIdx.x % 32;
    const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= rows) return;
    const float* xr = x + (size_t)row * S;
    float* yr = y + (size_t)row * S;

    float m = NEG_INF;
    for (int j = lane; j < S; j += 32) m = fmaxf(m, xr[j]);
    for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
    if (m == NEG_INF) {
        for (int j = lane; j < S; j += 32) yr[j] = 0.0f;
        return;
    }

    float s = 0.0f;
    for (int j = lane; j < S; j += 32) s += expf(xr[j] - m);   // exp(-inf) = 0: masked terms vanish
    for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
    const float inv = 1.0f / s;                                 // s >= 1: the max term is exp(0)
    for (int j = lane; j < S; j += 32) yr[j] = expf(xr[j] - m) * inv;
    // END SOLUTION
}

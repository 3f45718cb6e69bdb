// Backward kernels of the convolution ladder, float32, NCHW.
//
//   dy (B, C_out, OH, OW), x (B, C_in, H, W), w (C_out, C_in, KH, KW)
//   dw[co, ci, kh, kw] = sum_{b, oh, ow} dy[b, co, oh, ow] * x[b, ci, oh*sh - ph + kh, ow*sw - pw + kw]
//   db[co]             = sum_{b, oh, ow} dy[b, co, oh, ow]
//   dx[b, ci, ih, iw]  = sum over (co, kh, kw) with ih = oh*sh - ph + kh, iw = ow*sw - pw + kw
//                        for some valid (oh, ow) of dy[b, co, oh, ow] * w[co, ci, kh, kw]
//
// dw and db are reductions over B*OH*OW terms: one block per result, each thread sums a strided
// share, then the block combines its partial sums (block_sum below).  dx is a gather: one thread
// per input element adds up the outputs that saw it, so no two threads write the same address
// and no atomics are needed.

// Sum of v over the whole block; the result is valid in thread 0.
// blockDim.x must be a multiple of 32 (a whole number of warps) and at most 1024.
__device__ float block_sum(float v)
{
    __shared__ float warp_sums[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    // 1. inside each warp: a butterfly of register shuffles, no shared memory, no barrier
    for (int off = 16; off > 0; off /= 2)
        v += __shfl_down_sync(0xffffffffu, v, off);
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    // 2. the first warp adds up the per-warp sums
    if (warp == 0) {
        const int nwarps = blockDim.x / 32;
        v = (lane < nwarps) ? warp_sums[lane] : 0.0f;
        for (int off = 16; off > 0; off /= 2)
            v += __shfl_down_sync(0xffffffffu, v, off);
    }
    return v;
}

extern "C" __global__ void conv2d_backward_weight(const float* __restrict__ dy,
                                                  const float* __restrict__ x,
                                                  float* __restrict__ dw,
                                                  int B, int C_in, int H, int W,
                                                  int C_out, int KH, int KW,
                                                  int sh, int sw, int ph, int pw,
                                                  int OH, int OW)
{
    // blockIdx.x = flat index of the weight element, in dw's memory order
    const int widx = blockIdx.x;
    const int kw = widx % KW;
    const int kh = (widx / KW) % KH;
    const int ci = (widx / (KW * KH)) % C_in;
    const int co = widx / (KW * KH * C_in);

    const int N = OH * OW;
    float acc = 0.0f;
    // threads stride over (b, oh, ow) with ow fastest: consecutive threads read consecutive dy
    for (int e = threadIdx.x; e < B * N; e += blockDim.x) {
        int ow = e % OW, oh = (e / OW) % OH, b = e / N;
        int ih = oh * sh - ph + kh, iw = ow * sw - pw + kw;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W)
            acc += dy[((size_t)b * C_out + co) * N + oh * OW + ow]
                 * x[(((size_t)b * C_in + ci) * H + ih) * W + iw];
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) dw[widx] = acc;
}

extern "C" __global__ void conv2d_backward_bias(const float* __restrict__ dy,
                                                float* __restrict__ db,
                                                int B, int C_out, int OH, int OW)
{
    // one block per output channel co = blockIdx.x
    const int co = blockIdx.x, N = OH * OW;
    float acc = 0.0f;
    for (int e = threadIdx.x; e < B * N; e += blockDim.x)
        acc += dy[((size_t)(e / N) * C_out + co) * N + e % N];
    acc = block_sum(acc);
    if (threadIdx.x == 0) db[co] = acc;
}

extern "C" __global__ void conv2d_backward_input(const float* __restrict__ dy,
                                                 const float* __restrict__ w,
                                                 float* __restrict__ dx,
                                                 int B, int C_in, int H, int W,
                                                 int C_out, int KH, int KW,
                                                 int sh, int sw, int ph, int pw,
                                                 int OH, int OW)
{
    // one thread per dx element, flat index in dx's memory order
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= B * C_in * H * W) return;
    int iw = i % W;
    int ih = (i / W) % H;
    int ci = (i / (W * H)) % C_in;
    int b  = i / (W * H * C_in);

    float acc = 0.0f;
    for (int co = 0; co < C_out; ++co) {
        const float* dyc = dy + ((size_t)b * C_out + co) * OH * OW;
        const float* wc = w + ((size_t)co * C_in + ci) * KH * KW;
        for (int kh = 0; kh < KH; ++kh) {
            // output row oh used input row ih at kernel row kh iff ih = oh*sh - ph + kh.
            // Test t >= 0 first: C's % keeps the sign, so t = -2, sh = 2 passes the
            // divisibility test (-2 % 2 == 0) and would give oh = -1, out of bounds.
            int t = ih + ph - kh;
            if (t < 0) break;              // t decreases as kh grows
            if (t % sh != 0) continue;     // no output row lands exactly here
            int oh = t / sh;
            if (oh >= OH) continue;
            for (int kw = 0; kw < KW; ++kw) {
                int u = iw + pw - kw;
                if (u < 0) break;
                if (u % sw != 0) continue;
                int ow = u / sw;
                if (ow >= OW) continue;
                acc += dyc[oh * OW + ow] * wc[kh * KW + kw];
            }
        }
    }
    dx[i] = acc;
}

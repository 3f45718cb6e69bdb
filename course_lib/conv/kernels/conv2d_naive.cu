// Kernel 1 of the convolution ladder: one thread per output element.
//
// Layouts (all float32, C-contiguous):
//   x    (B, C_in, H, W)          input, NCHW
//   w    (C_out, C_in, KH, KW)    weights, PyTorch layout
//   bias (C_out,)                 always passed (zeros when the layer has none)
//   y    (B, C_out, OH, OW)       output
//
// Thread -> output mapping: the flat index i = blockIdx.x * blockDim.x + threadIdx.x
// walks y in memory order, so ow is the fastest-changing coordinate.  Neighbouring
// threads of a warp therefore read neighbouring x values (coalesced for stride 1)
// and all of them read the *same* weight (a broadcast).
//
// Every multiply reads both operands from global memory: C_in*KH*KW loads of x and of w
// per output.  The caches absorb much of that, but nothing is reused on purpose; kernel 2
// (conv2d_tiled.cu) stages the reused data in shared memory.

extern "C" __global__ void conv2d_naive(const float* __restrict__ x,
                                        const float* __restrict__ w,
                                        const float* __restrict__ bias,
                                        float* __restrict__ y,
                                        int B, int C_in, int H, int W,
                                        int C_out, int KH, int KW,
                                        int sh, int sw, int ph, int pw,
                                        int OH, int OW)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int total = B * C_out * OH * OW;   // the launcher checks that this fits in an int
    if (i >= total) return;            // the last block may be partly empty

    // unflatten i = ((b * C_out + co) * OH + oh) * OW + ow
    int ow = i % OW;
    int oh = (i / OW) % OH;
    int co = (i / (OW * OH)) % C_out;
    int b  = i / (OW * OH * C_out);

    // top-left corner of the receptive field in unpadded input coordinates (may be < 0)
    int ih0 = oh * sh - ph;
    int iw0 = ow * sw - pw;

    float acc = bias[co];
    for (int ci = 0; ci < C_in; ++ci) {
        const float* xc = x + ((size_t)b * C_in + ci) * H * W;
        const float* wc = w + ((size_t)co * C_in + ci) * KH * KW;
        for (int kh = 0; kh < KH; ++kh) {
            int ih = ih0 + kh;
            if (ih < 0 || ih >= H) continue;       // zero padding: skip instead of adding 0
            for (int kw = 0; kw < KW; ++kw) {
                int iw = iw0 + kw;
                if (iw < 0 || iw >= W) continue;
                acc += xc[ih * W + iw] * wc[kh * KW + kw];
            }
        }
    }
    y[i] = acc;
}

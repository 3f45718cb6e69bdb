// Kernel 3 of the convolution ladder: lower the convolution to one matrix product.
//
//   im2col   x (B, C_in, H, W)  ->  col (B, K, N),  K = C_in*KH*KW,  N = OH*OW
//            col[b, (ci*KH + kh)*KW + kw, oh*OW + ow] = x[b, ci, oh*sh - ph + kh, ow*sw - pw + kw]
//            (0 where that position lies in the padding).
//   GEMM     y[b] = w.reshape(C_out, K) @ col[b]     -> (B, C_out, N), already NCHW.
//            On a GPU this is cuBLAS (batched SGEMM through cupy.matmul); on the emulator NumPy.
//   bias     bias_add_nchw adds bias[co] to every element of channel co.
//
// The k index runs over (ci, kh, kw) in the same order as w's last three axes, so the
// weights need no copy: w.reshape(C_out, K) is a view.
//
// col2im is the adjoint of im2col (not its inverse): every x position receives the sum of
// all the col entries that copied it.  With dcol[b] = w.reshape(C_out, K).T @ dy[b] it gives
// the input gradient dx.  It gathers (one thread per x element) instead of scattering with
// atomics, so the result does not depend on the order in which threads run.

extern "C" __global__ void im2col(const float* __restrict__ x, float* __restrict__ col,
                                  int B, int C_in, int H, int W, int KH, int KW,
                                  int sh, int sw, int ph, int pw, int OH, int OW)
{
    // one thread per col element, flat index in col's memory order (n fastest: coalesced stores)
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const int N = OH * OW, K = C_in * KH * KW;
    if (i >= (long long)B * K * N) return;
    int n = (int)(i % N);
    int k = (int)((i / N) % K);
    int b = (int)(i / ((long long)N * K));
    int ow = n % OW, oh = n / OW;
    int kw = k % KW, kh = (k / KW) % KH, ci = k / (KW * KH);
    int ih = oh * sh - ph + kh, iw = ow * sw - pw + kw;
    float v = 0.0f;
    if (ih >= 0 && ih < H && iw >= 0 && iw < W)
        v = x[(((size_t)b * C_in + ci) * H + ih) * W + iw];
    col[i] = v;
}

extern "C" __global__ void col2im(const float* __restrict__ col, float* __restrict__ x,
                                  int B, int C_in, int H, int W, int KH, int KW,
                                  int sh, int sw, int ph, int pw, int OH, int OW)
{
    // one thread per x element (b, ci, ih, iw)
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)B * C_in * H * W) return;
    int iw = (int)(i % W);
    int ih = (int)((i / W) % H);
    int ci = (int)((i / ((long long)W * H)) % C_in);
    int b  = (int)(i / ((long long)W * H * C_in));
    const int N = OH * OW, K = C_in * KH * KW;
    const float* colb = col + (size_t)b * K * N;
    float acc = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        // which output row oh copied input row ih at kernel row kh?  ih = oh*sh - ph + kh.
        // Test t >= 0 first: t = -2, sh = 2 passes t % sh == 0 and would give oh = -1.
        int t = ih + ph - kh;
        if (t < 0) break;                  // t only shrinks as kh grows
        if (t % sh != 0) continue;
        int oh = t / sh;
        if (oh >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            int u = iw + pw - kw;
            if (u < 0) break;
            if (u % sw != 0) continue;
            int ow = u / sw;
            if (ow >= OW) continue;
            int k = (ci * KH + kh) * KW + kw;
            acc += colb[(size_t)k * N + oh * OW + ow];
        }
    }
    x[i] = acc;
}

extern "C" __global__ void bias_add_nchw(float* __restrict__ y, const float* __restrict__ bias,
                                         int B, int C, int HW)
{
    // one thread per y element; y (B, C, HW) is updated in place
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)B * C * HW) return;
    int c = (int)((i / HW) % C);
    y[i] += bias[c];
}

// Exercise 16.2 -- the direct convolution as a CUDA kernel, one thread per output element.
//
// Layouts (float32, C-contiguous, NCHW and PyTorch's weight layout):
//   x    (B, C_in, H, W)         input
//   w    (C_out, C_in, KH, KW)   filters
//   bias (C_out,)                the launcher passes zeros when the layer has no bias
//   y    (B, C_out, OH, OW)      output, OH = (H + 2*ph - KH) / sh + 1 (same for OW)
//
// Launch (done for you in conv2d_kernel.py): a 1-D grid of 1-D blocks of 256 threads,
// grid = ceil(B*C_out*OH*OW / 256) blocks. The grid is rounded up, so the last block usually
// has threads with no output element to compute.
//
// Padding is implicit: an input position outside 0..H-1 x 0..W-1 counts as zero. Do not copy
// x into a padded buffer; test the coordinates instead.
//
// Your kernel runs on the CPU emulator (no GPU needed) and unchanged on an NVIDIA GPU through
// CuPy. Test it with `conv2d_kernel(..., backend="emulator", sanitizer="address")` to catch
// reads or writes outside the arrays.

extern "C" __global__ void conv2d_kernel(const float* __restrict__ x,
                                         const float* __restrict__ w,
                                         const float* __restrict__ bias,
                                         float* __restrict__ y,
                                         int B, int C_in, int H, int W,
                                         int C_out, int KH, int KW,
                                         int sh, int sw, int ph, int pw,
                                         int OH, int OW)
{
    // BEGIN SOLUTION: compute ONE output element per thread.
    // Its flat index in y is i = blockIdx.x * blockDim.x + threadIdx.x (ow changes fastest);
    // a thread with i >= B*C_out*OH*OW must return before it reads or writes anything.
    // Recover (b, co, oh, ow) from i, then sum x[b, ci, oh*sh - ph + kh, ow*sw - pw + kw] *
    // w[co, ci, kh, kw] over ci < C_in, kh < KH, kw < KW, skipping input rows/columns outside
    // the image (zero padding). Store bias[co] + sum into y[i].
    const int n_out = B * C_out * OH * OW;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_out) return;

    const int ow = i % OW;
    const int oh = (i / OW) % OH;
    const int co = (i / (OW * OH)) % C_out;
    const int b = i / (OW * OH * C_out);
    const int row0 = oh * sh - ph;     // receptive field's top-left corner, may be negative
    const int col0 = ow * sw - pw;

    float sum = 0.0f;
    for (int ci = 0; ci < C_in; ++ci) {
        const float* plane = x + (size_t)(b * C_in + ci) * H * W;
        const float* filt = w + (size_t)(co * C_in + ci) * KH * KW;
        for (int kh = 0; kh < KH; ++kh) {
            const int r = row0 + kh;
            if (r < 0 || r >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int c = col0 + kw;
                if (c < 0 || c >= W) continue;
                sum += plane[r * W + c] * filt[kh * KW + kw];
            }
        }
    }
    y[i] = bias[co] + sum;
    // END SOLUTION
}

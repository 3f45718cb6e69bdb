// Kernel 2 of the convolution ladder: shared-memory tiled direct convolution.
//
// Layouts as in conv2d_naive.cu: x (B, C_in, H, W), w (C_out, C_in, KH, KW),
// bias (C_out,), y (B, C_out, OH, OW), float32.
//
// Work split (the launcher in course_lib/cuda/conv.py computes the grid):
//   block  = (TILE_W, TILE_H) = (16, 16) threads; thread (tx, ty) owns output pixel
//            (oh0 + ty, ow0 + tx) for CO_TILE consecutive output channels (register blocking).
//   grid.x = tiles_w * tiles_h   (which spatial tile),
//   grid.y = ceil(C_out / CO_TILE) (which group of output channels),
//   grid.z = B                    (which image).
//
// The C_in loop goes in chunks of ci_chunk channels.  Per chunk the block
//   1. copies the input patch the tile needs -- the tile plus its halo, which for stride s and
//      kernel K is ((TILE-1)*s + K) rows/columns -- into shared memory, writing 0 where the
//      patch hangs over the padding;
//   2. copies the filter slice w[co0:co0+CO_TILE, ci0:ci0+ci_chunk, :, :];
//   3. __syncthreads(), so every copy is visible before anyone reads it;
//   4. accumulates from shared memory only;
//   5. __syncthreads() again, so no thread overwrites the patch while a slower one still reads it.
// Each x value staged is reused by up to CO_TILE * (K/s)^2 multiplies, each weight by 256.
//
// Threads whose pixel lies outside the output (the ragged right/bottom tiles) must still take
// part in the copies and the barriers; they only skip the final store.  Returning early would
// leave the others waiting at __syncthreads() (undefined behaviour).
//
// Dynamic shared memory (bytes, set by the launcher):
//   4 * ci_chunk * (in_th * in_tw + CO_TILE * KH * KW),  in_th = (TILE_H-1)*sh + KH, etc.

#define TILE_W 16
#define TILE_H 16
#define CO_TILE 8

extern "C" __global__ void conv2d_tiled(const float* __restrict__ x,
                                        const float* __restrict__ w,
                                        const float* __restrict__ bias,
                                        float* __restrict__ y,
                                        int B, int C_in, int H, int W,
                                        int C_out, int KH, int KW,
                                        int sh, int sw, int ph, int pw,
                                        int OH, int OW, int ci_chunk)
{
    extern __shared__ float smem[];
    const int in_th = (TILE_H - 1) * sh + KH;   // patch height (tile + halo)
    const int in_tw = (TILE_W - 1) * sw + KW;   // patch width
    const int patch = in_th * in_tw;
    float* s_x = smem;                              // [ci_chunk][in_th][in_tw]
    float* s_w = smem + ci_chunk * patch;           // [CO_TILE][ci_chunk][KH][KW]

    const int tx = threadIdx.x, ty = threadIdx.y;
    const int tid = ty * TILE_W + tx;
    const int nthreads = TILE_W * TILE_H;

    const int tiles_w = (OW + TILE_W - 1) / TILE_W;
    const int oh0 = (blockIdx.x / tiles_w) * TILE_H;
    const int ow0 = (blockIdx.x % tiles_w) * TILE_W;
    const int co0 = blockIdx.y * CO_TILE;
    const int b = blockIdx.z;
    const int oh = oh0 + ty, ow = ow0 + tx;

    // input coordinates of the patch's top-left corner (may be negative: padding)
    const int ih0 = oh0 * sh - ph;
    const int iw0 = ow0 * sw - pw;

    float acc[CO_TILE];
    for (int j = 0; j < CO_TILE; ++j) acc[j] = 0.0f;

    const int ksize = KH * KW;
    for (int ci0 = 0; ci0 < C_in; ci0 += ci_chunk) {
        // 1. input patch, consecutive threads take consecutive columns (coalesced rows)
        for (int e = tid; e < ci_chunk * patch; e += nthreads) {
            int c = e / patch, r = (e % patch) / in_tw, q = e % in_tw;
            int ci = ci0 + c, ih = ih0 + r, iw = iw0 + q;
            float v = 0.0f;
            if (ci < C_in && ih >= 0 && ih < H && iw >= 0 && iw < W)
                v = x[(((size_t)b * C_in + ci) * H + ih) * W + iw];
            s_x[e] = v;
        }
        // 2. filter slice; channels past C_out or C_in read as 0 so the loops below need no test
        for (int e = tid; e < CO_TILE * ci_chunk * ksize; e += nthreads) {
            int j = e / (ci_chunk * ksize), rest = e % (ci_chunk * ksize);
            int c = rest / ksize, k = rest % ksize;
            int co = co0 + j, ci = ci0 + c;
            s_w[e] = (co < C_out && ci < C_in) ? w[((size_t)co * C_in + ci) * ksize + k] : 0.0f;
        }
        __syncthreads();   // 3.

        // 4. this thread's window starts at (ty*sh, tx*sw) inside the patch
        for (int c = 0; c < ci_chunk; ++c) {
            const float* px = s_x + c * patch + (ty * sh) * in_tw + tx * sw;
            for (int kh = 0; kh < KH; ++kh) {
                for (int kw = 0; kw < KW; ++kw) {
                    float v = px[kh * in_tw + kw];
                    const float* pw_ = s_w + c * ksize + kh * KW + kw;
                    for (int j = 0; j < CO_TILE; ++j)
                        acc[j] += v * pw_[j * ci_chunk * ksize];
                }
            }
        }
        __syncthreads();   // 5.
    }

    if (oh < OH && ow < OW) {
        for (int j = 0; j < CO_TILE; ++j) {
            int co = co0 + j;
            if (co < C_out)
                y[(((size_t)b * C_out + co) * OH + oh) * OW + ow] = acc[j] + bias[co];
        }
    }
}

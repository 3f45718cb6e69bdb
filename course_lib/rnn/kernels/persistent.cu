// Persistent LSTM and GRU layers: ONE cooperative launch runs the whole sequence.
//
// The stepwise driver launches a GEMM and a pointwise kernel per time step.  For a small hidden
// size each launch does little work, so the ~5 us launch overhead and the trip of W_hh through
// the caches every step dominate.  Here each block keeps its slice of W_hh in shared memory for
// all T steps and the blocks wait for each other between steps with a grid-wide barrier
// (cooperative_groups::this_grid().sync(); legal only under a cooperative launch, which
// guarantees that all blocks are resident at once).
//
// Layouts (float32, C-contiguous, torch's gate order):
//   xproj (T, B, G*H)  input projections x_t W_ih^T + b_ih (LSTM: + b_hh as well), G = 4 / 3
//   w_hh  (G*H, H)     recurrent weights;  b_hh (3H,) for the GRU (b_hn sits inside r * (...))
//   h0, c0 (B, H)      initial state
//   y     (T, B, H)    all h_t (y[t-1] is h_{t-1}: every block reads all of it -> grid barrier)
//   c     (B, H)       cell state, updated in place, c_T at the end (LSTM)
//
// Work split: block k owns hidden units j0 = k*U ... j0+U-1 (U = units per block, the last block
// may have fewer) for every sequence b: B*U (b, u) pairs, strided over the block's threads.  The
// same thread owns the same (b, j) at every step, so c needs no barrier, only y does.
// Shared memory holds the block's G*U rows of W_hh as ws[(m*G + g)*U + u] = w_hh[g*H + j0+u, m]:
// threads with neighbouring u read neighbouring words (no bank conflicts); h_{t-1}[b, m] is the
// same address for all u (a broadcast).  Size G*U*H floats, chosen by the launcher to fit.
//
// Traffic per step: xproj 4BH read + y BH written + c 2BH (LSTM), and h_{t-1} read by every
// block (B*H per block, mostly from L1/L2); W_hh (4H*H) is read from global memory once per
// sequence instead of once per step.
#include <cooperative_groups.h>

__device__ __forceinline__ float persist_sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

// Copy the block's G*nu rows of w_hh into ws (layout above).
template <int G>
__device__ void stage_weights(const float* __restrict__ w_hh, float* ws, int H, int j0, int nu,
                              int U)
{
    for (int idx = threadIdx.x; idx < G * nu * H; idx += blockDim.x) {
        const int m = idx % H;                 // consecutive threads: consecutive global words
        const int r = idx / H;
        const int u = r % nu, g = r / nu;
        ws[(m * G + g) * U + u] = w_hh[(size_t)(g * H + j0 + u) * H + m];
    }
    __syncthreads();
}

// acc[g] += sum_m ws[(m*G + g)*U + u] * hrow[m], for g < G
template <int G>
__device__ __forceinline__ void recurrent_dot(const float* ws, const float* __restrict__ hrow,
                                              int H, int U, int u, float* acc)
{
    for (int m = 0; m < H; ++m) {
        const float hm = hrow[m];
#pragma unroll
        for (int g = 0; g < G; ++g) acc[g] += ws[(m * G + g) * U + u] * hm;
    }
}

extern "C" __global__ void lstm_persistent(const float* __restrict__ xproj,
                                           const float* __restrict__ w_hh,
                                           const float* __restrict__ h0,
                                           const float* __restrict__ c0,
                                           float* y, float* __restrict__ c,
                                           int T, int B, int H, int U)
{
    extern __shared__ float ws[];
    cooperative_groups::grid_group grid = cooperative_groups::this_grid();
    const int j0 = blockIdx.x * U;
    const int nu = min(U, H - j0);            // the launcher makes grid = ceil(H / U): nu >= 1
    stage_weights<4>(w_hh, ws, H, j0, nu, U);
    for (int t = 0; t < T; ++t) {
        // y is read (row t-1, by all blocks) and written (row t): no __restrict__ on it
        const float* hp = (t == 0) ? h0 : y + (size_t)(t - 1) * B * H;
        const float* cp = (t == 0) ? c0 : c;
        const float* xt = xproj + (size_t)t * B * 4 * H;
        for (int p = threadIdx.x; p < B * nu; p += blockDim.x) {
            const int u = p % nu, b = p / nu, j = j0 + u;
            const float* xr = xt + (size_t)b * 4 * H;
            float a[4] = {xr[j], xr[H + j], xr[2 * H + j], xr[3 * H + j]};
            recurrent_dot<4>(ws, hp + (size_t)b * H, H, U, u, a);
            const float ig = persist_sigmoid(a[0]), fg = persist_sigmoid(a[1]);
            const float gg = tanhf(a[2]), og = persist_sigmoid(a[3]);
            const float cn = fg * cp[(size_t)b * H + j] + ig * gg;
            c[(size_t)b * H + j] = cn;
            y[((size_t)t * B + b) * H + j] = og * tanhf(cn);
        }
        grid.sync();                           // h_t complete everywhere before step t+1 reads it
    }
}

extern "C" __global__ void gru_persistent(const float* __restrict__ xproj,
                                          const float* __restrict__ w_hh,
                                          const float* __restrict__ b_hh,
                                          const float* __restrict__ h0,
                                          float* y, int T, int B, int H, int U)
{
    extern __shared__ float ws[];
    cooperative_groups::grid_group grid = cooperative_groups::this_grid();
    const int j0 = blockIdx.x * U;
    const int nu = min(U, H - j0);
    stage_weights<3>(w_hh, ws, H, j0, nu, U);
    for (int t = 0; t < T; ++t) {
        const float* hp = (t == 0) ? h0 : y + (size_t)(t - 1) * B * H;
        const float* xt = xproj + (size_t)t * B * 3 * H;
        for (int p = threadIdx.x; p < B * nu; p += blockDim.x) {
            const int u = p % nu, b = p / nu, j = j0 + u;
            const float* xr = xt + (size_t)b * 3 * H;
            const float* hrow = hp + (size_t)b * H;
            float a[3] = {b_hh[j], b_hh[H + j], b_hh[2 * H + j]};      // hidden parts gh
            recurrent_dot<3>(ws, hrow, H, U, u, a);
            const float r = persist_sigmoid(xr[j] + a[0]);
            const float z = persist_sigmoid(xr[H + j] + a[1]);
            const float n = tanhf(xr[2 * H + j] + r * a[2]);
            y[((size_t)t * B + b) * H + j] = (1.0f - z) * n + z * hrow[j];
        }
        grid.sync();
    }
}

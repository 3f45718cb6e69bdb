// LayerNorm over the last axis, float32, as torch.nn.functional.layer_norm(x, (N,), w, b, eps).
//
//   x (rows, N), w (N,), b (N,)  ->  y (rows, N), mean (rows,), rstd (rows,)
//   mean_r = sum_j x[r, j] / N,   var_r = sum_j (x[r, j] - mean_r)^2 / N   (biased, as torch)
//   rstd_r = 1 / sqrt(var_r + eps),   y[r, j] = (x[r, j] - mean_r) * rstd_r * w[j] + b[j]
//
// Statistics: TWO PASSES (sum, then sum of squared deviations), accumulated in float32.  The
// one-pass E[x^2] - E[x]^2 cancels catastrophically when |mean| >> std; Welford avoids that too but
// needs a count-weighted merge at every shuffle step.  The second pass re-reads a row that is
// still in L1/L2 (a row is a few KiB), so two plain sum reductions cost about as much as one
// Welford reduction and are easier to check.
//
// Thread layout (all three row kernels): blockDim = (T, R), T a multiple of 32, T * R <= 1024.
// The T threads with the same threadIdx.y share one row r = blockIdx.x * R + threadIdx.y and
// stride over its N columns; grid = (ceil(rows / R),).
//   T = 32, R = 8   -> one warp per row: reductions by register shuffles only.
//   T = 256, R = 1  -> one block per row for wide rows: shuffles, then shared memory.
// Rows past the end in the last block still reach every barrier; they only skip memory accesses.
//
// Backward, with xhat = (x - mean) * rstd and g = dy * w:
//   dx[r, j] = rstd_r * (g[r, j] - sum_k g[r, k] / N - xhat[r, j] * sum_k g[r, k] xhat[r, k] / N)
//   dw[j] = sum_r dy[r, j] * xhat[r, j],   db[j] = sum_r dy[r, j]
// dx is a row reduction (the kernels above); dw and db are column reductions over the rows,
// done in two steps so that no atomics are needed and the result is deterministic:
// layer_norm_backward_params writes one partial sum per (row group, column) into
// part (groups, 2, N) -- dw's partials, then db's -- and column_sum adds the groups up, reading
// part as (groups, 2N): one launch gives dwdb (2N,) = [dw, db].

__device__ __forceinline__ float warp_sum(float v)
{
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

// Sum of v over the blockDim.x threads of this row; every one of them gets the result.
// red holds one float per warp of the block (<= 32).
__device__ float row_sum(float v, float* red)
{
    v = warp_sum(v);
    if (blockDim.x == 32) return v;          // one warp per row: done, no barrier (same for all)
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
    float* mine = red + threadIdx.y * nwarps;
    if (lane == 0) mine[warp] = v;
    __syncthreads();
    v = warp_sum(lane < nwarps ? mine[lane] : 0.0f);
    __syncthreads();                         // red is reused by the next call
    return v;
}

extern "C" __global__ void layer_norm_forward(const float* __restrict__ x,
                                              const float* __restrict__ w,
                                              const float* __restrict__ b,
                                              float* __restrict__ y,
                                              float* __restrict__ mean,
                                              float* __restrict__ rstd,
                                              int rows, int N, float eps)
{
    __shared__ float red[32];
    const int row = blockIdx.x * blockDim.y + threadIdx.y;
    const bool valid = row < rows;
    const float* xr = x + (size_t)(valid ? row : 0) * N;

    float s = 0.0f;
    if (valid)
        for (int j = threadIdx.x; j < N; j += blockDim.x) s += xr[j];
    const float mu = row_sum(s, red) / N;
    float q = 0.0f;                          // second pass: squared deviations, never negative
    if (valid)
        for (int j = threadIdx.x; j < N; j += blockDim.x) {
            const float d = xr[j] - mu;
            q += d * d;
        }
    const float rs = rsqrtf(row_sum(q, red) / N + eps);
    if (!valid) return;                      // no barrier follows
    float* yr = y + (size_t)row * N;
    for (int j = threadIdx.x; j < N; j += blockDim.x)
        yr[j] = (xr[j] - mu) * rs * w[j] + b[j];
    if (threadIdx.x == 0) {
        mean[row] = mu;
        rstd[row] = rs;
    }
}

extern "C" __global__ void layer_norm_backward_input(const float* __restrict__ dy,
                                                     const float* __restrict__ x,
                                                     const float* __restrict__ w,
                                                     const float* __restrict__ mean,
                                                     const float* __restrict__ rstd,
                                                     float* __restrict__ dx,
                                                     int rows, int N)
{
    __shared__ float red[32];
    const int row = blockIdx.x * blockDim.y + threadIdx.y;
    const bool valid = row < rows;
    const size_t off = (size_t)(valid ? row : 0) * N;
    const float mu = valid ? mean[row] : 0.0f, rs = valid ? rstd[row] : 0.0f;

    float sg = 0.0f, sgx = 0.0f;             // sum g and sum g * xhat, one pass
    if (valid)
        for (int j = threadIdx.x; j < N; j += blockDim.x) {
            const float g = dy[off + j] * w[j];
            sg += g;
            sgx += g * (x[off + j] - mu) * rs;
        }
    const float mean_g = row_sum(sg, red) / N;
    const float mean_gx = row_sum(sgx, red) / N;
    if (!valid) return;
    for (int j = threadIdx.x; j < N; j += blockDim.x) {
        const float xhat = (x[off + j] - mu) * rs;
        dx[off + j] = rs * (dy[off + j] * w[j] - mean_g - xhat * mean_gx);
    }
}

#define PARAM_ROWS 8    // blockDim.y of layer_norm_backward_params (blockDim.x = 32 columns)

// Partial dw, db: block (32, 8) covers 32 neighbouring columns (coalesced reads of a row
// segment) and row group blockIdx.y of gridDim.y; thread (tx, ty) sums rows
// r = blockIdx.y * 8 + ty, stepping by 8 * gridDim.y, then the 8 sums of a column meet in
// shared memory.  Writes part (gridDim.y, 2, N): [g, 0, j] partial dw, [g, 1, j] partial db.
extern "C" __global__ void layer_norm_backward_params(const float* __restrict__ dy,
                                                      const float* __restrict__ x,
                                                      const float* __restrict__ mean,
                                                      const float* __restrict__ rstd,
                                                      float* __restrict__ part,
                                                      int rows, int N)
{
    __shared__ float sw[PARAM_ROWS][33], sb[PARAM_ROWS][33];   // +1: no bank conflicts
    const int j = blockIdx.x * 32 + threadIdx.x;
    float aw = 0.0f, ab = 0.0f;
    if (j < N)
        for (int r = blockIdx.y * PARAM_ROWS + threadIdx.y; r < rows; r += PARAM_ROWS * gridDim.y) {
            const float g = dy[(size_t)r * N + j];
            aw += g * (x[(size_t)r * N + j] - mean[r]) * rstd[r];
            ab += g;
        }
    sw[threadIdx.y][threadIdx.x] = aw;
    sb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && j < N) {
        for (int k = 1; k < PARAM_ROWS; ++k) {
            aw += sw[k][threadIdx.x];
            ab += sb[k][threadIdx.x];
        }
        part[(size_t)blockIdx.y * 2 * N + j] = aw;
        part[(size_t)blockIdx.y * 2 * N + N + j] = ab;
    }
}

// out[j] = sum_g part[g, j]: one thread per column, consecutive threads read consecutive floats.
extern "C" __global__ void column_sum(const float* __restrict__ part, float* __restrict__ out,
                                      int groups, int N)
{
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= N) return;
    float acc = 0.0f;
    for (int g = 0; g < groups; ++g) acc += part[(size_t)g * N + j];
    out[j] = acc;
}

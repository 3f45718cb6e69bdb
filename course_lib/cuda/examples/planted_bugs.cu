// Kernels with planted bugs that the emulator must catch (used by tests/cuda and the chapter).
// Each one is a small variation of a correct kernel; the comment says what is wrong.
#define TILE 16

// BUG: the second __syncthreads() is missing. A fast thread loads the next tiles while slower
// threads still read the current ones -> wrong results (schedule-dependent) and a data race.
extern "C" __global__ void matmul_missing_sync(const float* __restrict__ A, const float* __restrict__ B,
                                               float* __restrict__ C, int M, int N, int K) {
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    int row = blockIdx.y * TILE + threadIdx.y;
    int col = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int t = 0; t < (K + TILE - 1) / TILE; ++t) {
        int ka = t * TILE + threadIdx.x, kb = t * TILE + threadIdx.y;
        As[threadIdx.y][threadIdx.x] = (row < M && ka < K) ? A[row * K + ka] : 0.0f;
        Bs[threadIdx.y][threadIdx.x] = (kb < K && col < N) ? B[kb * N + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < TILE; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
        // __syncthreads();   <- removed
    }
    if (row < M && col < N) C[row * N + col] = acc;
}

// BUG: no bounds check; the last block writes past the end of `out`.
extern "C" __global__ void scale_no_bounds_check(const float* __restrict__ x, float* __restrict__ out,
                                                 float alpha, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = alpha * x[i];
}

// BUG: __syncthreads() inside a branch that only half of the block takes.
extern "C" __global__ void divergent_barrier(float* data) {
    __shared__ float buf[256];
    int t = threadIdx.x;
    buf[t] = data[t];
    if (t < blockDim.x / 2) {
        __syncthreads();
        data[t] = buf[t + blockDim.x / 2];
    } else {
        __syncthreads();
        data[t] = buf[t - blockDim.x / 2];
    }
}

// BUG: threads past the end return before a __syncthreads() the others still wait at.
extern "C" __global__ void early_return_barrier(const float* __restrict__ x, float* __restrict__ out, int n) {
    __shared__ float buf[128];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    buf[threadIdx.x] = x[i];
    __syncthreads();
    out[i] = buf[(threadIdx.x + 1) % blockDim.x];
}

// BUG: lanes past the end return, then the shuffles of the last warp read them (undefined values).
extern "C" __global__ void shuffle_after_return(const float* __restrict__ x, float* __restrict__ out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = x[i];
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    if ((threadIdx.x & 31) == 0) out[i / 32] = v;
}

// Sum reductions with warp shuffles.
// block_sum: each warp folds its 32 values with __shfl_down_sync (lane 0 ends with the warp's
// sum), warp sums meet in shared memory, warp 0 folds them and one atomicAdd per block adds the
// block's sum to *out. Works for any blockDim.x that is a multiple of 32 (up to 1024).
__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

extern "C" __global__ void block_sum(const float* __restrict__ x, float* __restrict__ out, int n) {
    __shared__ float partial[32];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    float v = i < n ? x[i] : 0.0f;           // every thread stays: the shuffles need all 32 lanes
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / 32 ? partial[lane] : 0.0f;
        v = warp_sum(v);
        if (lane == 0) atomicAdd(out, v);
    }
}

// Butterfly all-reduce: after the loop every lane holds the sum of its warp; also the warp's
// max through __shfl_xor_sync and a __ballot_sync count of positive values.
extern "C" __global__ void warp_allreduce(const float* __restrict__ x, float* __restrict__ sums,
                                          float* __restrict__ maxes, int* __restrict__ positives) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float s = x[i], m = x[i];
    for (int mask = 16; mask > 0; mask >>= 1) {
        s += __shfl_xor_sync(0xffffffffu, s, mask);
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, mask));
    }
    unsigned ballot = __ballot_sync(0xffffffffu, x[i] > 0.0f);
    sums[i] = s;
    maxes[i] = m;
    positives[i] = __popc(ballot);
}

// Inclusive prefix sum inside each warp with __shfl_up_sync (Hillis-Steele).
extern "C" __global__ void warp_scan(const int* __restrict__ x, int* __restrict__ y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int lane = threadIdx.x % 32;
    int v = x[i];
    for (int d = 1; d < 32; d <<= 1) {
        int up = __shfl_up_sync(0xffffffffu, v, d);
        if (lane >= d) v += up;
    }
    y[i] = v;
}

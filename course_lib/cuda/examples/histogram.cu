// Atomics across threads and blocks.
// histogram: bins privatised per block in shared memory (fast shared atomics), then merged into
// the global histogram with one atomicAdd per bin and block. Values are ints in [0, nbins).
extern "C" __global__ void histogram(const int* __restrict__ values, int n, unsigned int* __restrict__ hist,
                                     int nbins) {
    extern __shared__ unsigned int local[];
    for (int b = threadIdx.x; b < nbins; b += blockDim.x) local[b] = 0u;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        atomicAdd(&local[values[i]], 1u);
    __syncthreads();
    for (int b = threadIdx.x; b < nbins; b += blockDim.x) atomicAdd(&hist[b], local[b]);
}

// global_sum: every thread adds its element straight into one float (heavy contention; the order
// of additions differs from run to run, so compare with a tolerance). Also tracks the max with
// an integer atomicMax on the value scaled to an int.
extern "C" __global__ void global_sum(const float* __restrict__ x, int n, float* __restrict__ total,
                                      double* __restrict__ total64, int* __restrict__ imax) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        atomicAdd(total, x[i]);
        atomicAdd(total64, (double)x[i]);
        atomicMax(imax, __float2int_rn(x[i] * 1000.0f));
    }
}

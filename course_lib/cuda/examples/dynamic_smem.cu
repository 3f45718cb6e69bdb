// Dynamic shared memory (size given at launch as shared_mem=...): reverse each block's chunk.
extern "C" __global__ void reverse_blocks(const float* __restrict__ x, float* __restrict__ y, int n) {
    extern __shared__ float buf[];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    buf[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    int j = blockIdx.x * blockDim.x + (blockDim.x - 1 - threadIdx.x);
    if (j < n) y[j] = buf[threadIdx.x];
}

// Reads shared memory that nobody wrote: the emulator fills dynamic shared memory with NaN bytes
// at every block start, so the bug shows up as NaN instead of a plausible stale value.
extern "C" __global__ void read_uninitialised(float* __restrict__ y) {
    extern __shared__ float buf[];
    y[blockIdx.x * blockDim.x + threadIdx.x] = buf[threadIdx.x];
}

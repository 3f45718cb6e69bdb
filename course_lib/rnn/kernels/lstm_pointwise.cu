// Fused LSTM pointwise step: everything of one time step that is not a matrix product.
//
// Layouts (float32, C-contiguous; gate order of torch.nn.LSTM: i, f, g, o):
//   gates  (B, 4H)  pre-activations  a = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh,
//                   columns [0,H) input gate, [H,2H) forget, [2H,3H) cell candidate, [3H,4H) output
//   c_prev (B, H)   cell state c_{t-1}
//   h, c   (B, H)   outputs h_t, c_t
//   act    (B, 4H)  activated gates (i, f, g, o), saved for the backward pass (training kernel)
//
//   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
//   c = f * c_prev + i * g          h = o * tanh(c)
//
// Thread map: one thread per hidden unit of one sequence, flat index k = b*H + j (j fastest),
// grid = ceil(B*H / blockDim.x).  A warp reads 32 neighbouring j of each of the four gate
// blocks (four coalesced loads) and writes 32 neighbouring h and c.
//
// Memory traffic per step, in floats (x4 for bytes), beside the two GEMMs:
//   fused (this kernel):  read 4BH (gates) + BH (c_prev), write 2BH (h, c)     =  7BH
//                         training kernel also writes act:                     = 11BH
//   unfused (one kernel per elementwise op: 3 sigmoid, 2 tanh, 3 mul, 1 fma-like add,
//   every intermediate a (B,H) array in global memory): read 13BH, write 9BH  = 22BH
// so fusion cuts the pointwise traffic about 3x and the launches from 9 to 1.

__device__ __forceinline__ float lstm_sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

// The shared body: gates of unit (b, j) in, (h, c) out; activated gates returned for saving.
__device__ __forceinline__ void lstm_unit(const float* __restrict__ gates,
                                          const float* __restrict__ c_prev,
                                          int b, int j, int H,
                                          float* ig, float* fg, float* gg, float* og,
                                          float* h_out, float* c_out)
{
    const float* row = gates + (size_t)b * 4 * H;
    *ig = lstm_sigmoid(row[j]);
    *fg = lstm_sigmoid(row[H + j]);
    *gg = tanhf(row[2 * H + j]);
    *og = lstm_sigmoid(row[3 * H + j]);
    const float c = *fg * c_prev[(size_t)b * H + j] + *ig * *gg;
    *c_out = c;
    *h_out = *og * tanhf(c);
}

// Inference step: h, c only (7BH floats of traffic).
extern "C" __global__ void lstm_pointwise_forward(const float* __restrict__ gates,
                                                  const float* __restrict__ c_prev,
                                                  float* __restrict__ h,
                                                  float* __restrict__ c,
                                                  int B, int H)
{
    const int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= B * H) return;              // the launcher checks that B*4H fits in an int
    const int b = k / H, j = k % H;
    float ig, fg, gg, og, hv, cv;
    lstm_unit(gates, c_prev, b, j, H, &ig, &fg, &gg, &og, &hv, &cv);
    h[k] = hv;
    c[k] = cv;
}

// Training step: also saves the activated gates, so backward needs no transcendental but tanh(c).
extern "C" __global__ void lstm_pointwise_forward_train(const float* __restrict__ gates,
                                                        const float* __restrict__ c_prev,
                                                        float* __restrict__ h,
                                                        float* __restrict__ c,
                                                        float* __restrict__ act,
                                                        int B, int H)
{
    const int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= B * H) return;
    const int b = k / H, j = k % H;
    float ig, fg, gg, og, hv, cv;
    lstm_unit(gates, c_prev, b, j, H, &ig, &fg, &gg, &og, &hv, &cv);
    h[k] = hv;
    c[k] = cv;
    float* row = act + (size_t)b * 4 * H;
    row[j] = ig;
    row[H + j] = fg;
    row[2 * H + j] = gg;
    row[3 * H + j] = og;
}

// Backward of one step.  dh: gradient reaching h_t (from y_t and from step t+1's recurrent GEMM),
// dc_next: gradient reaching c_t from step t+1 (zeros at the last step).
//   tc = tanh(c)            dc = dc_next + dh * o * (1 - tc^2)
//   da_i = dc * g * i(1-i)  da_f = dc * c_prev * f(1-f)  da_g = dc * i * (1-g^2)
//   da_o = dh * tc * o(1-o) dc_prev = dc * f
// Writes dgates (B, 4H) (the GEMMs turn it into dW and dh_{t-1}) and dc_prev (B, H).
// Traffic: read 4BH (act) + 4BH (c_prev, c, dh, dc_next), write 5BH = 13BH floats.  The same
// formulas as one kernel per elementwise op (tanh, square, 1-x, products, sums: 23 launches)
// read 38BH and write 23BH = 61BH, before the four gate gradients are even put side by side.
extern "C" __global__ void lstm_pointwise_backward(const float* __restrict__ act,
                                                   const float* __restrict__ c_prev,
                                                   const float* __restrict__ c,
                                                   const float* __restrict__ dh,
                                                   const float* __restrict__ dc_next,
                                                   float* __restrict__ dgates,
                                                   float* __restrict__ dc_prev,
                                                   int B, int H)
{
    const int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= B * H) return;
    const int b = k / H, j = k % H;
    const float* row = act + (size_t)b * 4 * H;
    const float ig = row[j], fg = row[H + j], gg = row[2 * H + j], og = row[3 * H + j];
    const float tc = tanhf(c[k]);
    const float dhk = dh[k];
    const float dc = dc_next[k] + dhk * og * (1.0f - tc * tc);
    float* drow = dgates + (size_t)b * 4 * H;
    drow[j] = dc * gg * ig * (1.0f - ig);
    drow[H + j] = dc * c_prev[k] * fg * (1.0f - fg);
    drow[2 * H + j] = dc * ig * (1.0f - gg * gg);
    drow[3 * H + j] = dhk * tc * og * (1.0f - og);
    dc_prev[k] = dc * fg;
}

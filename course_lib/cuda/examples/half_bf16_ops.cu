// __nv_bfloat16 arithmetic, laid out as half_ops.cu: out[k * n + i] is operation k on element i.
// NumPy has no bfloat16, so arrays travel as uint16 bit patterns; pairs (__nv_bfloat162) are read
// from the same arrays two elements at a time.
// nvrtc: min-arch sm_80  (the bfloat16 __hfma, __hfma_sat, __hfma_relu, __hfma2 exist from sm_80;
// the other bfloat16 intrinsics used here compile for sm_75 too)
#include <cuda_bf16.h>

#define FOR_EACH(i, n) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += gridDim.x * blockDim.x)

// Rows: float -> bf16 rn rz rd ru; back: bf16(rn) -> float.
extern "C" __global__ void bf16_from_float(const float* __restrict__ x, __nv_bfloat16* __restrict__ out,
                                           float* __restrict__ back, int n) {
    FOR_EACH(i, n) {
        out[i] = __float2bfloat16_rn(x[i]);
        out[n + i] = __float2bfloat16_rz(x[i]);
        out[2 * n + i] = __float2bfloat16_rd(x[i]);
        out[3 * n + i] = __float2bfloat16_ru(x[i]);
        back[i] = __bfloat162float(out[i]);
    }
}

extern "C" __global__ void bf16_from_double(const double* __restrict__ x, __nv_bfloat16* __restrict__ out, int n) {
    FOR_EACH(i, n) out[i] = __double2bfloat16(x[i]);
}

// Rows: + - * / max min fma; cmp rows: eq lt neu ge; flags: isnan isinf.
extern "C" __global__ void bf16_arith(const __nv_bfloat16* __restrict__ a, const __nv_bfloat16* __restrict__ b,
                                      const __nv_bfloat16* __restrict__ c, __nv_bfloat16* __restrict__ out,
                                      int* __restrict__ cmp, int n) {
    FOR_EACH(i, n) {
        const __nv_bfloat16 x = a[i], y = b[i], z = c[i];
        const __nv_bfloat16 r[] = {__hadd(x, y), __hsub(x, y), __hmul(x, y), __hdiv(x, y), __hmax(x, y),
                                   __hmin(x, y), __hfma(x, y, z)};
        for (int k = 0; k < 7; ++k) out[k * n + i] = r[k];
        const int f[] = {__heq(x, y), __hlt(x, y), __hneu(x, y), __hge(x, y), __hisnan(x), __hisinf(x)};
        for (int k = 0; k < 6; ++k) cmp[k * n + i] = f[k];
    }
}

// Rows: hexp hlog hsqrt hrsqrt __hneg __habs.
extern "C" __global__ void bf16_unary(const __nv_bfloat16* __restrict__ a, __nv_bfloat16* __restrict__ out, int n) {
    FOR_EACH(i, n) {
        const __nv_bfloat16 x = a[i];
        const __nv_bfloat16 r[] = {hexp(x), hlog(x), hsqrt(x), hrsqrt(x), __hneg(x), __habs(x)};
        for (int k = 0; k < 6; ++k) out[k * n + i] = r[k];
    }
}

// Pairs: n2 = number of pairs. Rows: __hadd2 __hmul2 __hfma2 __h2div h2exp, and (high of a, low of b).
extern "C" __global__ void bf162_ops(const __nv_bfloat16* __restrict__ a, const __nv_bfloat16* __restrict__ b,
                                     const __nv_bfloat16* __restrict__ c, __nv_bfloat16* __restrict__ out,
                                     float* __restrict__ f, int n2) {
    const __nv_bfloat162* a2 = reinterpret_cast<const __nv_bfloat162*>(a);
    const __nv_bfloat162* b2 = reinterpret_cast<const __nv_bfloat162*>(b);
    const __nv_bfloat162* c2 = reinterpret_cast<const __nv_bfloat162*>(c);
    __nv_bfloat162* o2 = reinterpret_cast<__nv_bfloat162*>(out);
    FOR_EACH(i, n2) {
        const __nv_bfloat162 x = a2[i], y = b2[i], z = c2[i];
        const __nv_bfloat162 r[] = {__hadd2(x, y), __hmul2(x, y), __hfma2(x, y, z), __h2div(x, y), h2exp(x),
                                    __halves2bfloat162(__high2bfloat16(x), __low2bfloat16(y))};
        for (int k = 0; k < 6; ++k) o2[k * n2 + i] = r[k];
        const float2 g = __bfloat1622float2(__floats2bfloat162_rn(__low2float(x), __high2float(y)));
        f[2 * i] = g.x;
        f[2 * i + 1] = g.y;
    }
}

// total[0] += x[i] (__nv_bfloat16) and the pair total[1:3] += pairs of x (__nv_bfloat162).
extern "C" __global__ void bf16_atomic_sum(const __nv_bfloat16* __restrict__ x, __nv_bfloat16* total, int n) {
    FOR_EACH(i, n) {
        atomicAdd(total, x[i]);
        if (i < n / 2) {
            const __nv_bfloat162 p = reinterpret_cast<const __nv_bfloat162*>(x)[i];
            atomicAdd(reinterpret_cast<__nv_bfloat162*>(total + 2), p);
        }
    }
}

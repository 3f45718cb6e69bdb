// __half arithmetic, one operation per output row: out[k * n + i] is operation k applied to
// element i. The tests compare every row with NumPy float16 (which rounds once per operation) or
// with float64 maths rounded once, bit for bit. Grid-stride loops: any grid covers any n.
#include <cuda_fp16.h>

#define FOR_EACH(i, n) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += gridDim.x * blockDim.x)

// Conversions from float in the four rounding modes: rows rn, rz, rd, ru.
extern "C" __global__ void half_from_float(const float* __restrict__ x, __half* __restrict__ out, int n) {
    FOR_EACH(i, n) {
        out[i] = __float2half_rn(x[i]);
        out[n + i] = __float2half_rz(x[i]);
        out[2 * n + i] = __float2half_rd(x[i]);
        out[3 * n + i] = __float2half_ru(x[i]);
    }
}

extern "C" __global__ void half_from_double(const double* __restrict__ x, __half* __restrict__ out, int n) {
    FOR_EACH(i, n) out[i] = __double2half(x[i]);
}

// half -> float, and half -> int in the four rounding modes (rows rn, rz, rd, ru).
extern "C" __global__ void half_to_float_int(const __half* __restrict__ x, float* __restrict__ f,
                                             int* __restrict__ k, int n) {
    FOR_EACH(i, n) {
        f[i] = __half2float(x[i]);
        k[i] = __half2int_rn(x[i]);
        k[n + i] = __half2int_rz(x[i]);
        k[2 * n + i] = __half2int_rd(x[i]);
        k[3 * n + i] = __half2int_ru(x[i]);
    }
}

// Rows: + - * / max min max_nan min_nan add_sat mul_sat; cmp rows: eq ne lt le gt ge, the
// unordered equ neu ltu leu gtu geu, then the operators == != < (CUDA: != is unordered).
extern "C" __global__ void half_binary(const __half* __restrict__ a, const __half* __restrict__ b,
                                       __half* __restrict__ out, int* __restrict__ cmp, int n) {
    FOR_EACH(i, n) {
        const __half x = a[i], y = b[i];
        const __half r[] = {__hadd(x, y), __hsub(x, y), __hmul(x, y), __hdiv(x, y), __hmax(x, y),
                            __hmin(x, y), __hmax_nan(x, y), __hmin_nan(x, y), __hadd_sat(x, y),
                            __hmul_sat(x, y)};
        for (int k = 0; k < 10; ++k) out[k * n + i] = r[k];
        const bool c[] = {__heq(x, y), __hne(x, y), __hlt(x, y), __hle(x, y), __hgt(x, y), __hge(x, y),
                          __hequ(x, y), __hneu(x, y), __hltu(x, y), __hleu(x, y), __hgtu(x, y), __hgeu(x, y),
                          x == y, x != y, x < y};
        for (int k = 0; k < 15; ++k) cmp[k * n + i] = c[k];
    }
}

// Rows: __hfma (one rounding), __hfma_sat, __hfma_relu.
extern "C" __global__ void half_fma(const __half* __restrict__ a, const __half* __restrict__ b,
                                    const __half* __restrict__ c, __half* __restrict__ out, int n) {
    FOR_EACH(i, n) {
        out[i] = __hfma(a[i], b[i], c[i]);
        out[n + i] = __hfma_sat(a[i], b[i], c[i]);
        out[2 * n + i] = __hfma_relu(a[i], b[i], c[i]);
    }
}

// Rows: neg abs exp exp2 exp10 log log2 log10 sqrt rsqrt rcp sin cos ceil floor trunc rint;
// flags rows: isnan, isinf (-1, 0, 1).
extern "C" __global__ void half_unary(const __half* __restrict__ a, __half* __restrict__ out,
                                      int* __restrict__ flags, int n) {
    FOR_EACH(i, n) {
        const __half x = a[i];
        const __half r[] = {__hneg(x), __habs(x), hexp(x), hexp2(x), hexp10(x), hlog(x), hlog2(x),
                            hlog10(x), hsqrt(x), hrsqrt(x), hrcp(x), hsin(x), hcos(x), hceil(x),
                            hfloor(x), htrunc(x), hrint(x)};
        for (int k = 0; k < 17; ++k) out[k * n + i] = r[k];
        flags[i] = __hisnan(x);
        flags[n + i] = __hisinf(x);
    }
}

// __half2: rows __hadd2 __hsub2 __hmul2 __h2div __hfma2 h2exp h2sqrt __hmax2, the operators
// a * b + c (two roundings), swapped halves, (high of a, low of b); f: __half22float2 of a.
extern "C" __global__ void half2_ops(const __half2* __restrict__ a, const __half2* __restrict__ b,
                                     const __half2* __restrict__ c, __half2* __restrict__ out,
                                     float2* __restrict__ f, int n) {
    FOR_EACH(i, n) {
        const __half2 x = a[i], y = b[i], z = c[i];
        const __half2 r[] = {__hadd2(x, y), __hsub2(x, y), __hmul2(x, y), __h2div(x, y), __hfma2(x, y, z),
                             h2exp(x), h2sqrt(x), __hmax2(x, y), x * y + z, __lowhigh2highlow(x),
                             __halves2half2(__high2half(x), __low2half(y))};
        for (int k = 0; k < 11; ++k) out[k * n + i] = r[k];
        f[i] = __half22float2(x);
    }
}

// Build half2 pairs from floats and take them apart again: out = (rn(x[i]), rn(y[i])).
extern "C" __global__ void half2_from_floats(const float* __restrict__ x, const float* __restrict__ y,
                                             __half2* __restrict__ out, float* __restrict__ back, int n) {
    FOR_EACH(i, n) {
        const __half2 h = __floats2half2_rn(x[i], y[i]);
        out[i] = h;
        back[2 * i] = __low2float(h);
        back[2 * i + 1] = __high2float(h);
    }
}

// Sums with atomicAdd: total[0] += x[i] (__half) and total2[0] += x2[i] (__half2, per half).
extern "C" __global__ void half_atomic_sum(const __half* __restrict__ x, __half* total,
                                           const __half2* __restrict__ x2, __half2* total2, int n) {
    FOR_EACH(i, n) {
        atomicAdd(total, x[i]);
        atomicAdd(total2, x2[i]);
    }
}

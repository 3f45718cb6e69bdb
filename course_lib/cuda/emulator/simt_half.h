// simt_half.h -- __half (IEEE binary16) and __nv_bfloat16 for the SIMT emulator; included by
// simt.h (kernel sources only, after the vector types). Both store the raw 16-bit pattern, as on
// the GPU, so arrays of them are passed to kernels as NumPy float16 / uint16.
//
// Rounding, as the GPU rounds:
// * conversions float/double -> 16 bit round to nearest even, keep subnormals, overflow to inf
//   (the _rz/_rd/_ru variants round toward zero / down / up); every NaN becomes the canonical
//   NaN 0x7fff, as the GPU's cvt and arithmetic produce.
// * + - * / and sqrt are computed in float and rounded once to 16 bits. Float has 24 significand
//   bits >= 2*11+2, so rounding the float result again gives the correctly rounded 16-bit result
//   (double rounding is innocuous for these operations at that precision gap).
// * __hfma rounds ONCE: the product of two 16-bit numbers is exact in double; the sum is formed
//   with round-to-odd (TwoSum plus a sticky bit), and round-to-odd at 53 bits followed by one
//   rounding to 11 (or 8) bits equals a single correct rounding of a*b+c.
// * hexp, hlog, hsin ... are computed in double and rounded once to 16 bits; the GPU's
//   approximate instructions (ex2.approx.f16 and friends) can differ from them in the last bit.
// Which of these CUDA declares for which GPU: the bfloat16 __hfma, __hfma_sat, __hfma_relu and
// __hfma2 need sm_80; the rest compile for sm_75 too (see examples/half_bf16_ops.cu). The
// emulator cannot tell: NVRTC's check for each architecture can.
#ifndef COURSE_LIB_SIMT_HALF_H
#define COURSE_LIB_SIMT_HALF_H

namespace __simt {
inline unsigned short f2h(float f) {            // float -> binary16 bits, round to nearest even
    uint32_t x; std::memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return 0x7fffu;                                // NaN: canonical
    if (ax >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);      // >= 65520 rounds to inf
    if (ax < 0x38800000u) {                                               // half subnormal / zero
        if (ax < 0x33000000u) return (unsigned short)sign;                // <= 2^-25: ties to 0
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u, shift = 126 - e;  // 14..24
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1u))) ++r;
        return (unsigned short)(sign | r);
    }
    uint32_t r = ((ax - 0x38000000u) >> 13), rem = ax & 0x1fffu;          // rebias 127 -> 15
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;               // a carry bumps the exponent
    return (unsigned short)(sign | r);
}
inline float h2f(unsigned short h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0) {
        if (m == 0) x = sign;
        else { int k = 0; while (!(m & 0x400u)) { m <<= 1; ++k; } x = sign | ((uint32_t)(113 - k) << 23) | ((m & 0x3ffu) << 13); }
    } else if (e == 31) x = sign | 0x7f800000u | (m << 13);
    else x = sign | ((e + 112) << 23) | (m << 13);
    float f; std::memcpy(&f, &x, 4); return f;
}
inline unsigned short f2bf(float f) {           // float -> bfloat16 bits, round to nearest even
    uint32_t x; std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;                 // NaN: canonical
    x += 0x7fffu + ((x >> 16) & 1u);            // ties go to the even upper half; inf on overflow
    return (unsigned short)(x >> 16);
}
inline float bf2f(unsigned short b) { uint32_t x = (uint32_t)b << 16; float f; std::memcpy(&f, &x, 4); return f; }

// The two 16-bit formats: significand bits (with the hidden one), exponent of the smallest
// normal number, largest finite value.
struct fmt16 { int p, emin; double maxf; };
constexpr fmt16 HALF_FMT{11, -14, 65504.0};
constexpr fmt16 BF16_FMT{8, -126, 3.3895313892515355e38};
enum RoundMode { RN = 0, RZ, RD, RU };

// Round a double to a 16-bit format in the given mode (gradual underflow, overflow to inf or
// the largest finite value as IEEE says). Exact: scalings by powers of two and one integer rounding.
inline double round16(double x, fmt16 f, int mode = RN) {
    if (x != x || x == 0.0 || std::isinf(x)) return x;
    int e; std::frexp(x, &e);                                   // |x| in [2^(e-1), 2^e)
    int q = (e - 1 > f.emin ? e - 1 : f.emin) - (f.p - 1);     // exponent of the last place
    double s = std::ldexp(x, -q);
    double r = mode == RN ? std::nearbyint(s) : mode == RZ ? std::trunc(s)
             : mode == RD ? std::floor(s) : std::ceil(s);
    r = std::ldexp(r, q);
    if (std::fabs(r) > f.maxf) {
        bool inf = mode == RN || (mode == RD && x < 0) || (mode == RU && x > 0);
        return std::copysign(inf ? (double)INFINITY : f.maxf, x);
    }
    return r;
}
inline unsigned short d2h(double d, int mode = RN) { return d != d ? 0x7fffu : f2h((float)round16(d, HALF_FMT, mode)); }
inline unsigned short d2bf(double d, int mode = RN) { return d != d ? 0x7fffu : f2bf((float)round16(d, BF16_FMT, mode)); }

// a*b + c rounded to odd at double precision (a, b, c 16-bit values: a*b is exact in double).
inline double fma_round_odd(double a, double b, double c) {
    double p = a * b, s = p + c;
    if (!std::isfinite(s)) return s;
    double bb = s - p, err = (p - (s - bb)) + (c - bb);        // TwoSum: s + err == p + c exactly
    uint64_t u; std::memcpy(&u, &s, 8);
    if (err != 0.0 && !(u & 1u)) s = std::nextafter(s, err > 0 ? (double)INFINITY : -(double)INFINITY);
    return s;
}
}  // namespace __simt

struct __half_raw { unsigned short x; };
struct __nv_bfloat16_raw { unsigned short x; };

// One 16-bit type. Arithmetic operators round once per operation (see the top of the file).
#define SIMT_H16_TYPE(H, RAW, TOBITS, FROMBITS, D2BITS)                                           \
    struct H {                                                                                    \
        unsigned short __x;                                                                       \
        H() = default;                                                                            \
        H(float f) : __x(__simt::TOBITS(f)) {}                                                    \
        H(double d) : __x(__simt::D2BITS(d)) {}                                                   \
        H(short i) : __x(__simt::D2BITS(i)) {}                                                    \
        H(unsigned short i) : __x(__simt::D2BITS(i)) {}                                           \
        H(int i) : __x(__simt::D2BITS(i)) {}                                                      \
        H(unsigned i) : __x(__simt::D2BITS(i)) {}                                                 \
        H(long i) : __x(__simt::D2BITS((double)i)) {}                                             \
        H(unsigned long i) : __x(__simt::D2BITS((double)i)) {}                                    \
        H(long long i) : __x(__simt::D2BITS((double)i)) {}                                        \
        H(unsigned long long i) : __x(__simt::D2BITS((double)i)) {}                               \
        H(RAW r) : __x(r.x) {}                                                                    \
        operator RAW() const { return RAW{__x}; }                                                 \
        operator float() const { return __simt::FROMBITS(__x); }                                  \
        H& operator+=(H o) { *this = H((float)*this + (float)o); return *this; }                  \
        H& operator-=(H o) { *this = H((float)*this - (float)o); return *this; }                  \
        H& operator*=(H o) { *this = H((float)*this * (float)o); return *this; }                  \
        H& operator/=(H o) { *this = H((float)*this / (float)o); return *this; }                  \
        H& operator++() { return *this += H(1.0f); }                                              \
        H& operator--() { return *this -= H(1.0f); }                                              \
        H operator++(int) { H t = *this; *this += H(1.0f); return t; }                            \
        H operator--(int) { H t = *this; *this -= H(1.0f); return t; }                            \
    };                                                                                            \
    inline H operator+(H a, H b) { return H((float)a + (float)b); }                               \
    inline H operator-(H a, H b) { return H((float)a - (float)b); }                               \
    inline H operator*(H a, H b) { return H((float)a * (float)b); }                               \
    inline H operator/(H a, H b) { return H((float)a / (float)b); }                               \
    inline H operator+(H a) { return a; }                                                         \
    inline H operator-(H a) { H r; r.__x = a.__x ^ 0x8000u; return r; }                           \
    inline bool operator==(H a, H b) { return (float)a == (float)b; }                             \
    inline bool operator!=(H a, H b) { return (float)a != (float)b; }  /* unordered, as CUDA */   \
    inline bool operator<(H a, H b) { return (float)a < (float)b; }                               \
    inline bool operator>(H a, H b) { return (float)a > (float)b; }                               \
    inline bool operator<=(H a, H b) { return (float)a <= (float)b; }                             \
    inline bool operator>=(H a, H b) { return (float)a >= (float)b; }

SIMT_H16_TYPE(__half, __half_raw, f2h, h2f, d2h)
SIMT_H16_TYPE(__nv_bfloat16, __nv_bfloat16_raw, f2bf, bf2f, d2bf)
#undef SIMT_H16_TYPE
typedef __half half;
typedef __nv_bfloat16 nv_bfloat16;
struct alignas(4) __half2 {
    __half x, y;
    __half2() = default;
    __half2(__half a, __half b) : x(a), y(b) {}
};
struct alignas(4) __nv_bfloat162 {
    __nv_bfloat16 x, y;
    __nv_bfloat162() = default;
    __nv_bfloat162(__nv_bfloat16 a, __nv_bfloat16 b) : x(a), y(b) {}
};
typedef __half2 half2;
typedef __nv_bfloat162 nv_bfloat162;

namespace __simt {
template <class H> struct h16_traits;
template <> struct h16_traits<__half> { static constexpr fmt16 fmt = HALF_FMT; static constexpr unsigned short inf = 0x7c00u; };
template <> struct h16_traits<__nv_bfloat16> { static constexpr fmt16 fmt = BF16_FMT; static constexpr unsigned short inf = 0x7f80u; };
template <class H> inline H bits16(unsigned short b) { H h; h.__x = b; return h; }
template <class H> inline bool is_nan16(H a) { return (a.__x & 0x7fffu) > h16_traits<H>::inf; }
template <class H> inline H round_to(double d, int mode = RN) {       // one rounding from double
    if (d != d) return bits16<H>(0x7fffu);
    return H((float)round16(d, h16_traits<H>::fmt, mode));            // exact: the value fits
}
template <class H> inline H fma16(H a, H b, H c) { return round_to<H>(fma_round_odd(a, b, c)); }
// CUDA's __hmax/__hmin: a NaN input loses to a number, two NaNs give the canonical NaN, +0 > -0;
// the _nan variants propagate NaN.
template <class H> inline H max16(H a, H b, bool nan_wins) {
    bool na = is_nan16(a), nb = is_nan16(b);
    if (na || nb) return (nan_wins || (na && nb)) ? bits16<H>(0x7fffu) : (na ? b : a);
    float fa = a, fb = b;
    if (fa == fb) return (a.__x & 0x8000u) ? b : a;
    return fa > fb ? a : b;
}
template <class H> inline H min16(H a, H b, bool nan_wins) {
    bool na = is_nan16(a), nb = is_nan16(b);
    if (na || nb) return (nan_wins || (na && nb)) ? bits16<H>(0x7fffu) : (na ? b : a);
    float fa = a, fb = b;
    if (fa == fb) return (a.__x & 0x8000u) ? a : b;
    return fa < fb ? a : b;
}
template <class H> inline H sat16(H a) {                               // clamp to [+0, 1], NaN -> +0
    float f = a;
    return (is_nan16(a) || f <= 0.0f) ? bits16<H>(0) : f > 1.0f ? H(1.0f) : a;
}
template <class H> inline H relu16(H a) {
    return is_nan16(a) ? bits16<H>(0x7fffu) : (float)a < 0.0f ? bits16<H>(0) : a;
}
// 16-bit value -> integer type I: round in `mode`, NaN -> 0, out of range saturates (as cvt.sat).
template <class I> inline I to_int(float f, int mode, double lo, double hi) {
    if (f != f) return 0;
    double r = mode == RN ? std::nearbyint((double)f) : mode == RZ ? std::trunc((double)f)
             : mode == RD ? std::floor((double)f) : std::ceil((double)f);
    return r <= lo ? (I)lo : r >= hi ? (I)hi : (I)r;
}
// Atomic read-modify-write of a 2- or 4-byte value with a CAS loop (relaxed, as CUDA's atomics).
template <class T, class Bits, class F> inline T atomic_update(T* p, F f) {
    static_assert(sizeof(T) == sizeof(Bits), "size");
    Bits* bp = reinterpret_cast<Bits*>(p);
    Bits old = __atomic_load_n(bp, __ATOMIC_RELAXED);
    for (;;) {
        T oldv; std::memcpy(&oldv, &old, sizeof(T));
        T newv = f(oldv); Bits nb; std::memcpy(&nb, &newv, sizeof(T));
        if (__atomic_compare_exchange_n(bp, &old, nb, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return oldv;
    }
}
}  // namespace __simt

// ---- the arithmetic API, the same names for __half and __nv_bfloat16 (CUDA overloads them)
#define SIMT_H1(H, NAME, EXPR) inline H NAME(H a) { return EXPR; }
#define SIMT_H2(H, NAME, EXPR) inline H NAME(H a, H b) { return EXPR; }
#define SIMT_P1(H2, NAME, ONE) inline H2 NAME(H2 a) { return H2{ONE(a.x), ONE(a.y)}; }
#define SIMT_P2(H2, NAME, ONE) inline H2 NAME(H2 a, H2 b) { return H2{ONE(a.x, b.x), ONE(a.y, b.y)}; }
#define SIMT_CMP(H, H2, NAME, EXPR)                                                                \
    inline bool __h##NAME(H a, H b) { float x = a, y = b; return EXPR; }                           \
    inline H2 __h##NAME##2(H2 a, H2 b) {                                                           \
        return H2{H(__h##NAME(a.x, b.x) ? 1.0f : 0.0f), H(__h##NAME(a.y, b.y) ? 1.0f : 0.0f)}; }   \
    inline unsigned __h##NAME##2_mask(H2 a, H2 b) {                                                \
        return (__h##NAME(a.x, b.x) ? 0xffffu : 0u) | (__h##NAME(a.y, b.y) ? 0xffff0000u : 0u); }  \
    inline bool __hb##NAME##2(H2 a, H2 b) { return __h##NAME(a.x, b.x) && __h##NAME(a.y, b.y); }

#define SIMT_H16_API(H, H2)                                                                        \
    SIMT_H2(H, __hadd, a + b) SIMT_H2(H, __hsub, a - b) SIMT_H2(H, __hmul, a * b)                  \
    SIMT_H2(H, __hdiv, a / b) SIMT_H2(H, __hadd_rn, a + b) SIMT_H2(H, __hsub_rn, a - b)            \
    SIMT_H2(H, __hmul_rn, a * b) SIMT_H2(H, __hmax, __simt::max16(a, b, false))                    \
    SIMT_H2(H, __hmin, __simt::min16(a, b, false)) SIMT_H2(H, __hmax_nan, __simt::max16(a, b, true)) \
    SIMT_H2(H, __hmin_nan, __simt::min16(a, b, true)) SIMT_H2(H, __hadd_sat, __simt::sat16(a + b)) \
    SIMT_H2(H, __hsub_sat, __simt::sat16(a - b)) SIMT_H2(H, __hmul_sat, __simt::sat16(a * b))      \
    SIMT_H1(H, __hneg, -a) SIMT_H1(H, __habs, __simt::bits16<H>(a.__x & 0x7fffu))                  \
    inline H __hfma(H a, H b, H c) { return __simt::fma16(a, b, c); }                              \
    inline H __hfma_sat(H a, H b, H c) { return __simt::sat16(__simt::fma16(a, b, c)); }           \
    inline H __hfma_relu(H a, H b, H c) { return __simt::relu16(__simt::fma16(a, b, c)); }         \
    inline bool __hisnan(H a) { return __simt::is_nan16(a); }                                      \
    inline int __hisinf(H a) {                                                                     \
        return a.__x == __simt::h16_traits<H>::inf ? 1                                             \
             : a.__x == (__simt::h16_traits<H>::inf | 0x8000u) ? -1 : 0; }                         \
    SIMT_P2(H2, __hadd2, __hadd) SIMT_P2(H2, __hsub2, __hsub) SIMT_P2(H2, __hmul2, __hmul)         \
    SIMT_P2(H2, __h2div, __hdiv) SIMT_P2(H2, __hadd2_rn, __hadd) SIMT_P2(H2, __hsub2_rn, __hsub)   \
    SIMT_P2(H2, __hmul2_rn, __hmul) SIMT_P2(H2, __hmax2, __hmax) SIMT_P2(H2, __hmin2, __hmin)      \
    SIMT_P2(H2, __hmax2_nan, __hmax_nan) SIMT_P2(H2, __hmin2_nan, __hmin_nan)                      \
    SIMT_P2(H2, __hadd2_sat, __hadd_sat) SIMT_P2(H2, __hsub2_sat, __hsub_sat)                      \
    SIMT_P2(H2, __hmul2_sat, __hmul_sat) SIMT_P1(H2, __hneg2, __hneg) SIMT_P1(H2, __habs2, __habs) \
    inline H2 __hfma2(H2 a, H2 b, H2 c) { return H2{__hfma(a.x, b.x, c.x), __hfma(a.y, b.y, c.y)}; } \
    inline H2 __hfma2_sat(H2 a, H2 b, H2 c) {                                                      \
        return H2{__hfma_sat(a.x, b.x, c.x), __hfma_sat(a.y, b.y, c.y)}; }                         \
    inline H2 __hfma2_relu(H2 a, H2 b, H2 c) {                                                     \
        return H2{__hfma_relu(a.x, b.x, c.x), __hfma_relu(a.y, b.y, c.y)}; }                       \
    inline H2 __hisnan2(H2 a) { return H2{H(__hisnan(a.x) ? 1.0f : 0.0f), H(__hisnan(a.y) ? 1.0f : 0.0f)}; } \
    SIMT_CMP(H, H2, eq, x == y) SIMT_CMP(H, H2, ne, x < y || x > y) SIMT_CMP(H, H2, lt, x < y)     \
    SIMT_CMP(H, H2, le, x <= y) SIMT_CMP(H, H2, gt, x > y) SIMT_CMP(H, H2, ge, x >= y)             \
    SIMT_CMP(H, H2, equ, !(x < y || x > y)) SIMT_CMP(H, H2, neu, x != y)                           \
    SIMT_CMP(H, H2, ltu, !(x >= y)) SIMT_CMP(H, H2, leu, !(x > y)) SIMT_CMP(H, H2, gtu, !(x <= y)) \
    SIMT_CMP(H, H2, geu, !(x < y))                                                                 \
    SIMT_H1(H, hexp, __simt::round_to<H>(std::exp((double)a)))                                    \
    SIMT_H1(H, hexp2, __simt::round_to<H>(std::exp2((double)a)))                                  \
    SIMT_H1(H, hexp10, __simt::round_to<H>(std::pow(10.0, (double)a)))                            \
    SIMT_H1(H, hlog, __simt::round_to<H>(std::log((double)a)))                                    \
    SIMT_H1(H, hlog2, __simt::round_to<H>(std::log2((double)a)))                                  \
    SIMT_H1(H, hlog10, __simt::round_to<H>(std::log10((double)a)))                                \
    SIMT_H1(H, hsqrt, __simt::round_to<H>(std::sqrt((double)a)))                                  \
    SIMT_H1(H, hrsqrt, __simt::round_to<H>(1.0 / std::sqrt((double)a)))                           \
    SIMT_H1(H, hrcp, __simt::round_to<H>(1.0 / (double)a))                                        \
    SIMT_H1(H, hsin, __simt::round_to<H>(std::sin((double)a)))                                    \
    SIMT_H1(H, hcos, __simt::round_to<H>(std::cos((double)a)))                                    \
    SIMT_H1(H, htanh, __simt::round_to<H>(std::tanh((double)a)))                                  \
    SIMT_H1(H, hceil, H(std::ceil((float)a))) SIMT_H1(H, hfloor, H(std::floor((float)a)))          \
    SIMT_H1(H, htrunc, H(std::trunc((float)a))) SIMT_H1(H, hrint, H(std::nearbyint((float)a)))     \
    SIMT_P1(H2, h2exp, hexp) SIMT_P1(H2, h2exp2, hexp2) SIMT_P1(H2, h2exp10, hexp10)               \
    SIMT_P1(H2, h2log, hlog) SIMT_P1(H2, h2log2, hlog2) SIMT_P1(H2, h2log10, hlog10)               \
    SIMT_P1(H2, h2sqrt, hsqrt) SIMT_P1(H2, h2rsqrt, hrsqrt) SIMT_P1(H2, h2rcp, hrcp)               \
    SIMT_P1(H2, h2sin, hsin) SIMT_P1(H2, h2cos, hcos) SIMT_P1(H2, h2tanh, htanh)                   \
    SIMT_P1(H2, h2ceil, hceil) SIMT_P1(H2, h2floor, hfloor) SIMT_P1(H2, h2trunc, htrunc)           \
    SIMT_P1(H2, h2rint, hrint)                                                                     \
    inline H2 operator+(H2 a, H2 b) { return __hadd2(a, b); }                                      \
    inline H2 operator-(H2 a, H2 b) { return __hsub2(a, b); }                                      \
    inline H2 operator*(H2 a, H2 b) { return __hmul2(a, b); }                                      \
    inline H2 operator/(H2 a, H2 b) { return __h2div(a, b); }                                      \
    inline H2& operator+=(H2& a, H2 b) { return a = a + b; }                                       \
    inline H2& operator-=(H2& a, H2 b) { return a = a - b; }                                       \
    inline H2& operator*=(H2& a, H2 b) { return a = a * b; }                                       \
    inline H2& operator/=(H2& a, H2 b) { return a = a / b; }                                       \
    inline H2 operator+(H2 a) { return a; }                                                        \
    inline H2 operator-(H2 a) { return __hneg2(a); }                                               \
    inline bool operator==(H2 a, H2 b) { return __hbeq2(a, b); }                                   \
    inline bool operator!=(H2 a, H2 b) { return __hbneu2(a, b); }                                  \
    inline bool operator<(H2 a, H2 b) { return __hblt2(a, b); }                                    \
    inline bool operator>(H2 a, H2 b) { return __hbgt2(a, b); }                                    \
    inline bool operator<=(H2 a, H2 b) { return __hble2(a, b); }                                   \
    inline bool operator>=(H2 a, H2 b) { return __hbge2(a, b); }                                   \
    inline float __low2float(H2 a) { return (float)a.x; }                                          \
    inline float __high2float(H2 a) { return (float)a.y; }                                         \
    inline H2 __lowhigh2highlow(H2 a) { return H2{a.y, a.x}; }

// ---- conversions; N is the type's name in CUDA's function names (half, bfloat16)
#define SIMT_INT_CONV(H, N, I, S, LO, HI)                                                          \
    inline I __##N##2##S##_rn(H a) { return __simt::to_int<I>((float)a, __simt::RN, LO, HI); }     \
    inline I __##N##2##S##_rz(H a) { return __simt::to_int<I>((float)a, __simt::RZ, LO, HI); }     \
    inline I __##N##2##S##_rd(H a) { return __simt::to_int<I>((float)a, __simt::RD, LO, HI); }     \
    inline I __##N##2##S##_ru(H a) { return __simt::to_int<I>((float)a, __simt::RU, LO, HI); }     \
    inline H __##S##2##N##_rn(I i) { return __simt::round_to<H>((double)i, __simt::RN); }          \
    inline H __##S##2##N##_rz(I i) { return __simt::round_to<H>((double)i, __simt::RZ); }          \
    inline H __##S##2##N##_rd(I i) { return __simt::round_to<H>((double)i, __simt::RD); }          \
    inline H __##S##2##N##_ru(I i) { return __simt::round_to<H>((double)i, __simt::RU); }
#define SIMT_H16_CONV(H, H2, N)                                                                    \
    inline H __float2##N(float f) { return H(f); }                                                 \
    inline H __float2##N##_rn(float f) { return H(f); }                                            \
    inline H __float2##N##_rz(float f) { return __simt::round_to<H>(f, __simt::RZ); }              \
    inline H __float2##N##_rd(float f) { return __simt::round_to<H>(f, __simt::RD); }              \
    inline H __float2##N##_ru(float f) { return __simt::round_to<H>(f, __simt::RU); }              \
    inline H __double2##N(double d) { return __simt::round_to<H>(d); }                             \
    inline float __##N##2float(H a) { return (float)a; }                                           \
    SIMT_INT_CONV(H, N, int, int, INT_MIN, INT_MAX) SIMT_INT_CONV(H, N, unsigned, uint, 0, UINT_MAX) \
    SIMT_INT_CONV(H, N, short, short, SHRT_MIN, SHRT_MAX)                                          \
    SIMT_INT_CONV(H, N, unsigned short, ushort, 0, USHRT_MAX)                                      \
    SIMT_INT_CONV(H, N, long long, ll, LLONG_MIN, LLONG_MAX)                                       \
    SIMT_INT_CONV(H, N, unsigned long long, ull, 0, ULLONG_MAX)                                    \
    inline unsigned short __##N##_as_ushort(H a) { return a.__x; }                                 \
    inline short __##N##_as_short(H a) { return (short)a.__x; }                                    \
    inline H __ushort_as_##N(unsigned short u) { return __simt::bits16<H>(u); }                    \
    inline H __short_as_##N(short s) { return __simt::bits16<H>((unsigned short)s); }              \
    inline H2 make_##N##2(H a, H b) { return H2{a, b}; }                                           \
    inline H2 __halves2##N##2(H a, H b) { return H2{a, b}; }                                       \
    inline H2 __##N##2##N##2(H a) { return H2{a, a}; }                                             \
    inline H2 __float2##N##2_rn(float f) { return H2{H(f), H(f)}; }                                \
    inline H2 __floats2##N##2_rn(float a, float b) { return H2{H(a), H(b)}; }                      \
    inline H2 __float22##N##2_rn(float2 v) { return H2{H(v.x), H(v.y)}; }                          \
    inline float2 __##N##22float2(H2 a) { return float2{(float)a.x, (float)a.y}; }                 \
    inline H __low2##N(H2 a) { return a.x; }                                                       \
    inline H __high2##N(H2 a) { return a.y; }                                                      \
    inline H2 __low2##N##2(H2 a) { return H2{a.x, a.x}; }                                          \
    inline H2 __high2##N##2(H2 a) { return H2{a.y, a.y}; }                                         \
    inline H2 __lows2##N##2(H2 a, H2 b) { return H2{a.x, b.x}; }                                   \
    inline H2 __highs2##N##2(H2 a, H2 b) { return H2{a.y, b.y}; }                                  \
    inline H2 atomicAdd(H2* p, H2 v) {  /* CUDA: each half atomic; here the pair is */              \
        return __simt::atomic_update<H2, uint32_t>(p, [v](H2 o) { return o + v; }); }

SIMT_H16_API(__half, __half2)
SIMT_H16_API(__nv_bfloat16, __nv_bfloat162)
SIMT_H16_CONV(__half, __half2, half)
SIMT_H16_CONV(__nv_bfloat16, __nv_bfloat162, bfloat16)
// (atomicAdd on __half* sits with the other atomics in simt.h)
inline __nv_bfloat16 atomicAdd(__nv_bfloat16* p, __nv_bfloat16 v) {
    return __simt::atomic_update<__nv_bfloat16, uint16_t>(p, [v](__nv_bfloat16 o) { return o + v; }); }
#undef SIMT_H1
#undef SIMT_H2
#undef SIMT_P1
#undef SIMT_P2
#undef SIMT_CMP
#undef SIMT_H16_API
#undef SIMT_INT_CONV
#undef SIMT_H16_CONV

// (No CUDART_INF_FP16 & co.: NVRTC does not define them either.)

#endif  // COURSE_LIB_SIMT_HALF_H

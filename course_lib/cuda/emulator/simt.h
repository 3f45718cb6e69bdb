// simt.h -- the CUDA device API on the CPU, force-included (g++ -include simt.h) before every
// kernel source the SIMT emulator compiles. Each CUDA thread runs as a user-space fiber; the
// runtime (simt_runtime.cpp) switches fibers at barriers and warp operations.
//
// Mapping: __global__/__device__/__host__ vanish; __shared__ becomes `static thread_local` (one
// block in flight per OS worker thread, its fibers share the worker's thread-local storage);
// `extern __shared__ T s[];` is rewritten by the Python side into a pointer to the worker's
// dynamic shared-memory buffer. threadIdx/blockIdx/blockDim/gridDim are thread-local variables
// that the runtime sets at every fiber switch.
#ifndef COURSE_LIB_SIMT_H
#define COURSE_LIB_SIMT_H

#include <cstdint>
#include <cstddef>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <climits>
#include <cfloat>
#include <cmath>
#include <type_traits>
#include <utility>

// ---------------------------------------------------------------- types shared with the runtime
struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};

extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;

namespace __simt {
enum WarpOp {
    SHFL_IDX = 0, SHFL_UP, SHFL_DOWN, SHFL_XOR, BALLOT, ANY, ALL, SYNCWARP, MATCH_ANY, MATCH_ALL,
    REDUCE_ADD, REDUCE_MIN, REDUCE_MAX, REDUCE_UMIN, REDUCE_UMAX, REDUCE_AND, REDUCE_OR, REDUCE_XOR,
    ACTIVEMASK
};
// kind: 0 __syncthreads, 1 _count, 2 _and, 3 _or; returns the count / and / or result
int syncthreads(int kind, int pred, const char* file, int line);
uint64_t warp_op(int op, unsigned mask, uint64_t value, int arg, int width, const char* file, int line);
unsigned activemask(const char* file, int line);
unsigned lane_id();
void* dynamic_smem();
[[noreturn]] void fail(const char* what, const char* file, int line);
int device_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
long long clock64();
}  // namespace __simt

#ifndef SIMT_RUNTIME_BUILD   // ======================= everything below is for kernel sources only

#define COURSE_SIMT_EMULATOR 1
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 800
#endif
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static thread_local
#define __constant__
#define __managed__
#define __grid_constant__
#define __align__(n) __attribute__((aligned(n)))   // GNU form: allowed among decl-specifiers
#define __CUDA_ALIGN__(n) alignas(n)

static const int warpSize = 32;

// ---------------------------------------------------------------- barriers and warp operations
#define __syncthreads() ((void)::__simt::syncthreads(0, 0, __FILE__, __LINE__))
#define __syncthreads_count(p) ::__simt::syncthreads(1, (p) ? 1 : 0, __FILE__, __LINE__)
#define __syncthreads_and(p) ::__simt::syncthreads(2, (p) ? 1 : 0, __FILE__, __LINE__)
#define __syncthreads_or(p) ::__simt::syncthreads(3, (p) ? 1 : 0, __FILE__, __LINE__)
#define __threadfence() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define __threadfence_block() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define __threadfence_system() __atomic_thread_fence(__ATOMIC_SEQ_CST)

namespace __simt {
template <class T> inline uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8, "warp shuffles move at most 8 bytes");
    uint64_t b = 0; std::memcpy(&b, &v, sizeof(T)); return b;
}
template <class T> inline T from_bits(uint64_t b) { T v; std::memcpy(&v, &b, sizeof(T)); return v; }
template <class T> inline T shfl(const char* f, int l, int op, unsigned mask, T var, int arg, int width) {
    return from_bits<T>(warp_op(op, mask, to_bits(var), arg, width, f, l));
}
}  // namespace __simt

#define __shfl_sync(...) __simt_shfl_sync(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_up_sync(...) __simt_shfl_up_sync(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_down_sync(...) __simt_shfl_down_sync(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_xor_sync(...) __simt_shfl_xor_sync(__FILE__, __LINE__, __VA_ARGS__)
template <class T> inline T __simt_shfl_sync(const char* f, int l, unsigned m, T v, int src, int w = 32) {
    return __simt::shfl(f, l, __simt::SHFL_IDX, m, v, src, w); }
template <class T> inline T __simt_shfl_up_sync(const char* f, int l, unsigned m, T v, unsigned d, int w = 32) {
    return __simt::shfl(f, l, __simt::SHFL_UP, m, v, (int)d, w); }
template <class T> inline T __simt_shfl_down_sync(const char* f, int l, unsigned m, T v, unsigned d, int w = 32) {
    return __simt::shfl(f, l, __simt::SHFL_DOWN, m, v, (int)d, w); }
template <class T> inline T __simt_shfl_xor_sync(const char* f, int l, unsigned m, T v, int x, int w = 32) {
    return __simt::shfl(f, l, __simt::SHFL_XOR, m, v, x, w); }

#define __ballot_sync(m, p) ((unsigned)::__simt::warp_op(::__simt::BALLOT, (m), (p) ? 1 : 0, 0, 32, __FILE__, __LINE__))
#define __any_sync(m, p) ((int)::__simt::warp_op(::__simt::ANY, (m), (p) ? 1 : 0, 0, 32, __FILE__, __LINE__))
#define __all_sync(m, p) ((int)::__simt::warp_op(::__simt::ALL, (m), (p) ? 1 : 0, 0, 32, __FILE__, __LINE__))
// __syncwarp() and __syncwarp(mask): the call site is bound first, then the optional mask is
// applied, so no comma has to vanish when the argument list is empty.
namespace __simt {
struct SyncwarpAt {
    const char* f; int l;
    void operator()(unsigned m = 0xffffffffu) const { warp_op(SYNCWARP, m, 0, 0, 32, f, l); }
};
}  // namespace __simt
#define __syncwarp(...) (::__simt::SyncwarpAt{__FILE__, __LINE__}(__VA_ARGS__))
#define __activemask() ::__simt::activemask(__FILE__, __LINE__)
#define __match_any_sync(m, v) ((unsigned)::__simt::warp_op(::__simt::MATCH_ANY, (m), ::__simt::to_bits(v), 0, 32, __FILE__, __LINE__))
#define __match_all_sync(m, v, pred) __simt_match_all(__FILE__, __LINE__, (m), ::__simt::to_bits(v), (pred))
inline unsigned __simt_match_all(const char* f, int l, unsigned m, uint64_t v, int* pred) {
    unsigned r = (unsigned)::__simt::warp_op(::__simt::MATCH_ALL, m, v, 0, 32, f, l);
    *pred = r != 0; return r; }
#define __simt_reduce(op, m, v) ::__simt::warp_op(op, (m), (uint64_t)(uint32_t)(v), 0, 32, __FILE__, __LINE__)
#define __reduce_add_sync(m, v) ((decltype(v))__simt_reduce(::__simt::REDUCE_ADD, m, v))
#define __reduce_min_sync(m, v) ((decltype(v))__simt_reduce(std::is_signed<decltype(v)>::value ? ::__simt::REDUCE_MIN : ::__simt::REDUCE_UMIN, m, v))
#define __reduce_max_sync(m, v) ((decltype(v))__simt_reduce(std::is_signed<decltype(v)>::value ? ::__simt::REDUCE_MAX : ::__simt::REDUCE_UMAX, m, v))
#define __reduce_and_sync(m, v) ((unsigned)__simt_reduce(::__simt::REDUCE_AND, m, v))
#define __reduce_or_sync(m, v) ((unsigned)__simt_reduce(::__simt::REDUCE_OR, m, v))
#define __reduce_xor_sync(m, v) ((unsigned)__simt_reduce(::__simt::REDUCE_XOR, m, v))

// ---------------------------------------------------------------- errors, printf, clocks
#define __trap() ::__simt::fail("__trap() called", __FILE__, __LINE__)
#define __brkpt() ::__simt::fail("__brkpt() called", __FILE__, __LINE__)
#define printf(...) ::__simt::device_printf(__VA_ARGS__)
inline long long clock64() { return ::__simt::clock64(); }
#define __nanosleep(ns) ((void)(ns))
#ifdef assert
#undef assert
#endif
#define assert(e) ((e) ? (void)0 : ::__simt::fail("assertion failed: " #e, __FILE__, __LINE__))

// ---------------------------------------------------------------- bit casts and integer intrinsics
template <class To, class From> inline To __simt_bit_cast(From v) {
    static_assert(sizeof(To) == sizeof(From), "size mismatch"); To t; std::memcpy(&t, &v, sizeof(To)); return t; }
inline float __int_as_float(int v) { return __simt_bit_cast<float>(v); }
inline int __float_as_int(float v) { return __simt_bit_cast<int>(v); }
inline float __uint_as_float(unsigned v) { return __simt_bit_cast<float>(v); }
inline unsigned __float_as_uint(float v) { return __simt_bit_cast<unsigned>(v); }
inline double __longlong_as_double(long long v) { return __simt_bit_cast<double>(v); }
inline long long __double_as_longlong(double v) { return __simt_bit_cast<long long>(v); }
inline int __double2hiint(double v) { return (int)(__double_as_longlong(v) >> 32); }
inline int __double2loint(double v) { return (int)(__double_as_longlong(v) & 0xffffffff); }
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz((unsigned)v); }
inline int __clzll(long long v) { return v == 0 ? 64 : __builtin_clzll((unsigned long long)v); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline int __ffsll(long long v) { return __builtin_ffsll(v); }
inline unsigned __brev(unsigned v) {
    unsigned r = 0; for (int i = 0; i < 32; ++i) { r = (r << 1) | (v & 1u); v >>= 1; } return r; }
inline int __mul24(int a, int b) { return a * b; }
inline unsigned __umul24(unsigned a, unsigned b) { return a * b; }
inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64); }
inline int __hadd(int a, int b) { return (int)(((long long)a + b) >> 1); }
inline int __rhadd(int a, int b) { return (int)(((long long)a + b + 1) >> 1); }
inline unsigned __uhadd(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a + b) >> 1); }
inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned s) {
    s &= 31; return s ? (hi << s) | (lo >> (32 - s)) : hi; }
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned s) {
    s &= 31; return s ? (lo >> s) | (hi << (32 - s)) : lo; }
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
    unsigned long long v = ((unsigned long long)y << 32) | x; unsigned r = 0;
    for (int i = 0; i < 4; ++i) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
    return r; }

// ---------------------------------------------------------------- float maths
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
inline float __powf(float a, float b) { return powf(a, b); }
inline float __fdividef(float a, float b) { return a / b; }
inline float fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float saturate(float x) { return __saturatef(x); }
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline int __float2int_rz(float x) { return (int)x; }
inline int __float2int_rd(float x) { return (int)floorf(x); }
inline int __float2int_ru(float x) { return (int)ceilf(x); }
inline unsigned __float2uint_rn(float x) { return (unsigned)nearbyintf(x); }
inline unsigned __float2uint_rz(float x) { return (unsigned)x; }
inline long long __float2ll_rn(float x) { return (long long)nearbyintf(x); }
inline int __double2int_rn(double x) { return (int)nearbyint(x); }
inline int __double2int_rz(double x) { return (int)x; }
inline float __int2float_rn(int x) { return (float)x; }
inline float __uint2float_rn(unsigned x) { return (float)x; }
inline float __double2float_rn(double x) { return (float)x; }
inline float __ll2float_rn(long long x) { return (float)x; }
inline double __int2double_rn(int x) { return (double)x; }
inline float normcdff(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
inline double normcdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752); }
using std::isnan; using std::isinf; using std::isfinite; using std::signbit;

// CUDA's min/max work for any mix of arithmetic types (usual arithmetic conversions);
// the float versions ignore NaN like fminf/fmaxf.
template <class A, class B, class = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
inline std::common_type_t<A, B> max(A a, B b) {
    using C = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point<C>::value) return std::fmax((C)a, (C)b);
    else return (C)a > (C)b ? (C)a : (C)b;
}
template <class A, class B, class = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
inline std::common_type_t<A, B> min(A a, B b) {
    using C = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point<C>::value) return std::fmin((C)a, (C)b);
    else return (C)a < (C)b ? (C)a : (C)b;
}
inline unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long llmin(long long a, long long b) { return a < b ? a : b; }
inline long long llmax(long long a, long long b) { return a > b ? a : b; }

#ifndef CUDART_INF_F
#define CUDART_INF_F __int_as_float(0x7f800000)
#define CUDART_NAN_F __int_as_float(0x7fffffff)
#define CUDART_INF __longlong_as_double(0x7ff0000000000000LL)
#define CUDART_NAN __longlong_as_double(0xfff8000000000000LL)
#define CUDART_PI_F 3.141592654f
#define CUDART_PI 3.1415926535897931e+0
#define CUDART_SQRT_2PI_F 2.506628275f
#define CUDART_MAX_NORMAL_F __int_as_float(0x7f7fffff)
#define CUDART_MIN_DENORM_F __int_as_float(0x00000001)
#endif

// ---------------------------------------------------------------- memory access hints
template <class T> inline T __ldg(const T* p) { return *p; }
template <class T> inline T __ldcg(const T* p) { return *p; }
template <class T> inline T __ldca(const T* p) { return *p; }
template <class T> inline T __ldcs(const T* p) { return *p; }
template <class T> inline T __ldlu(const T* p) { return *p; }
template <class T> inline T __ldcv(const T* p) { return *p; }
template <class T> inline void __stwb(T* p, T v) { *p = v; }
template <class T> inline void __stcg(T* p, T v) { *p = v; }
template <class T> inline void __stcs(T* p, T v) { *p = v; }
template <class T> inline void __stwt(T* p, T v) { *p = v; }

// ---------------------------------------------------------------- vector types
#define SIMT_VEC(T, N2, N3, N4, A2, A4)                                                         \
    struct alignas(A2) N2 { T x, y; };                                                        \
    struct N3 { T x, y, z; };                                                                 \
    struct alignas(A4) N4 { T x, y, z, w; };                                                  \
    inline N2 make_##N2(T x, T y) { return N2{x, y}; }                                        \
    inline N3 make_##N3(T x, T y, T z) { return N3{x, y, z}; }                                \
    inline N4 make_##N4(T x, T y, T z, T w) { return N4{x, y, z, w}; }
SIMT_VEC(float, float2, float3, float4, 8, 16)
SIMT_VEC(double, double2, double3, double4, 16, 16)
SIMT_VEC(int, int2, int3, int4, 8, 16)
SIMT_VEC(unsigned int, uint2, uint3_, uint4, 8, 16)
SIMT_VEC(short, short2, short3, short4, 4, 8)
SIMT_VEC(unsigned short, ushort2, ushort3, ushort4, 4, 8)
SIMT_VEC(signed char, char2, char3, char4, 2, 4)
SIMT_VEC(unsigned char, uchar2, uchar3, uchar4, 2, 4)
SIMT_VEC(long long, longlong2, longlong3, longlong4, 16, 16)
SIMT_VEC(unsigned long long, ulonglong2, ulonglong3, ulonglong4, 16, 16)
#undef SIMT_VEC
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return uint3{x, y, z}; }
typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;

#include "simt_half.h"  // __half, __nv_bfloat16 and their arithmetic

// ---------------------------------------------------------------- atomics (real CPU atomics:
// blocks run on several OS threads). Relaxed ordering, as CUDA's atomic functions.
namespace __simt {
template <class T> inline T atomic_int_add(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
template <class T, class Bits, class F> inline T atomic_cas_loop(T* p, F f) {
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
#define SIMT_INT_ATOMICS(T)                                                                            \
    inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }               \
    inline T atomicSub(T* p, T v) { return __atomic_fetch_sub(p, v, __ATOMIC_RELAXED); }               \
    inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }             \
    inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_RELAXED); }               \
    inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_RELAXED); }                 \
    inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_RELAXED); }               \
    inline T atomicMax(T* p, T v) { return __simt::atomic_cas_loop<T, T>(p, [v](T o) { return o > v ? o : v; }); } \
    inline T atomicMin(T* p, T v) { return __simt::atomic_cas_loop<T, T>(p, [v](T o) { return o < v ? o : v; }); } \
    inline T atomicCAS(T* p, T cmp, T v) {                                                             \
        __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); return cmp; }
SIMT_INT_ATOMICS(int)
SIMT_INT_ATOMICS(unsigned int)
SIMT_INT_ATOMICS(long long)
SIMT_INT_ATOMICS(unsigned long long)
#undef SIMT_INT_ATOMICS
inline unsigned short atomicCAS(unsigned short* p, unsigned short cmp, unsigned short v) {
    __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); return cmp; }
inline float atomicAdd(float* p, float v) { return __simt::atomic_cas_loop<float, uint32_t>(p, [v](float o) { return o + v; }); }
inline double atomicAdd(double* p, double v) { return __simt::atomic_cas_loop<double, uint64_t>(p, [v](double o) { return o + v; }); }
inline __half atomicAdd(__half* p, __half v) { return __simt::atomic_cas_loop<__half, uint16_t>(p, [v](__half o) { return o + v; }); }
inline float atomicExch(float* p, float v) { return __simt::atomic_cas_loop<float, uint32_t>(p, [v](float) { return v; }); }
inline float atomicMax(float* p, float v) { return __simt::atomic_cas_loop<float, uint32_t>(p, [v](float o) { return fmaxf(o, v); }); }
inline float atomicMin(float* p, float v) { return __simt::atomic_cas_loop<float, uint32_t>(p, [v](float o) { return fminf(o, v); }); }
inline unsigned atomicInc(unsigned* p, unsigned lim) {
    return __simt::atomic_cas_loop<unsigned, unsigned>(p, [lim](unsigned o) { return o >= lim ? 0u : o + 1u; }); }
inline unsigned atomicDec(unsigned* p, unsigned lim) {
    return __simt::atomic_cas_loop<unsigned, unsigned>(p, [lim](unsigned o) { return (o == 0u || o > lim) ? lim : o - 1u; }); }
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd
#define atomicMax_block atomicMax
#define atomicMin_block atomicMin
#define atomicCAS_block atomicCAS
#define atomicExch_block atomicExch

// ---------------------------------------------------------------- launch glue used by the shims
namespace __simt {
template <class... P, std::size_t... I>
inline void call_impl(void (*f)(P...), void** a, std::index_sequence<I...>) {
    f(*static_cast<std::remove_cv_t<std::remove_reference_t<P>>*>(a[I])...);
}
template <class... P> inline void call(void (*f)(P...), void** a) { call_impl(f, a, std::index_sequence_for<P...>{}); }
}  // namespace __simt

#endif  // SIMT_RUNTIME_BUILD
#endif  // COURSE_LIB_SIMT_H

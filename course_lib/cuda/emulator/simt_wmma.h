// simt_wmma.h -- nvcuda::wmma (tensor-core fragments) on the SIMT emulator; a kernel gets it with
// #include <mma.h> (include/mma.h includes this file). Shapes: m16n16k16 only, with __half or
// __nv_bfloat16 inputs and float or __half accumulators, row- or column-major.
//
// A fragment is a per-thread object, as on the GPU: each of the 32 lanes of a warp holds
// `num_elements` of the tile's elements in x[]. CUDA leaves the element -> lane mapping
// unspecified; this emulator uses (row r, column c of the 16x16 tile; for matrix_b, r is k):
//   accumulator (8 per lane):        lane l holds row l/2, columns 8*(l%2) + i, i = 0..7
//   matrix_a, __nv_bfloat16 (8):      lane l holds row l/2, columns 8*(l%2) + i
//   matrix_b, __nv_bfloat16 (8):      lane l holds column l/2, rows 8*(l%2) + i
//   matrix_a, __half (16):            lane l holds all of row l%16      (lanes l, l+16 hold the same)
//   matrix_b, __half (16):            lane l holds all of column l%16
// num_elements matches the GPU's (16 for __half inputs, 8 otherwise), so loops over x[] and
// element-wise operations on x[i] behave the same; code that relies on the GPU's own mapping
// (which lane holds which element) is not portable and gives other results here.
//
// load_matrix_sync, store_matrix_sync and mma_sync are warp-collective: all 32 lanes of the warp
// must call the same one at the same source line, converged, with the same pointer, ldm and
// layout; otherwise the launch stops with an error naming the line (a GPU gives undefined results).
// ldm must be a multiple of 16 bytes (8 16-bit elements or 4 floats), as CUDA requires.
//
// mma_sync computes D = A*B + C in float: each product of two 16-bit inputs is exact in float,
// and D[r][c] = C[r][c] + A[r][0]*B[0][c] + A[r][1]*B[1][c] + ... + A[r][15]*B[15][c], summed
// left to right with one float rounding per addition. Tensor cores add the products in another
// order and internal precision, so real results can differ in the last bits of the float sum
// (with integer-valued inputs whose sums stay below 2^24 both are exact and agree). A __half
// accumulator gets the same float sum rounded once to half; tensor cores accumulating in half
// can differ by more than that last bit.
//
// Cost on the CPU: each collective call is one __syncwarp of the 32 fibers; mma_sync then does
// 8 x 16 multiply-adds per lane. A 64x64x64 product (16 warps, 4 mma_sync each) takes ~20 ms.
//
// Uninitialised fragments hold NaN (a GPU: whatever the registers held), so a forgotten
// fill_fragment or load shows up in the result.
#ifndef COURSE_LIB_SIMT_WMMA_H
#define COURSE_LIB_SIMT_WMMA_H

#include <cstdarg>

namespace nvcuda {
namespace wmma {
// tags: declared only, as in CUDA's header (they are never objects)
struct matrix_a;
struct matrix_b;
struct accumulator;
struct row_major;
struct col_major;
enum layout_t { mem_row_major, mem_col_major };
namespace precision { struct tf32; }
namespace experimental { namespace precision { struct u4; struct s4; struct b1; } }
}  // namespace wmma
}  // namespace nvcuda

namespace __simt {
namespace wmma_impl {
using namespace ::nvcuda::wmma;
template <class T> struct same { using type = T; };      // a non-deduced context
template <class T> using id_t = typename same<T>::type;

template <class Use> constexpr int use_id() {
    return std::is_same<Use, matrix_a>::value ? 0 : std::is_same<Use, matrix_b>::value ? 1 : 2;
}
template <class T> constexpr bool is16() {
    return std::is_same<T, __half>::value || std::is_same<T, __nv_bfloat16>::value;
}
template <class Use, class T> constexpr int count() { return (use_id<Use>() < 2 && std::is_same<T, __half>::value) ? 16 : 8; }

// Element i of `lane`'s fragment -> (r, c) in the 16x16 tile (see the top of the file).
inline void element_rc(int use, int nelem, int lane, int i, int& r, int& c) {
    int major, minor;
    if (nelem == 16) { major = lane & 15; minor = i; }
    else { major = lane >> 1; minor = 8 * (lane & 1) + i; }
    if (use == 1) { r = minor; c = major; } else { r = major; c = minor; }
}

enum Op { LOAD = 0, STORE, MMA };
inline const char* op_name(int op) {
    static const char* names[] = {"wmma::load_matrix_sync", "wmma::store_matrix_sync", "wmma::mma_sync"};
    return names[op];
}
// What each lane passed to its latest collective call; two rounds, so a fast lane may enter the
// next call while slower lanes still read this one (it cannot get further ahead: that call waits
// for them).
struct Call { const char* file; int line; int op; const void* ptr; unsigned ldm; int layout; unsigned seq; };
struct Round { Call call[32]; float a[256]; float b[256]; };     // a, b: the mma_sync operands
struct Warp { unsigned seq[32]; Round round[2]; };
inline thread_local Warp warps[32];          // per OS worker: the warps of the block it runs

struct Ctx { Round* round; int lane; unsigned seq; };

[[noreturn]] inline void wfail(const char* file, int line, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
inline void wfail(const char* file, int line, const char* fmt, ...) {
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ::__simt::fail(buf, file, line);
}

// First half of a collective call: the warp must have 32 lanes; record the arguments. (Lanes
// that have returned are found by meet(): the __syncwarp there releases without them.)
inline Ctx enter(int op, const void* ptr, unsigned ldm, int layout, int elem_bytes, const char* file, int line) {
    const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    const unsigned nthreads = blockDim.x * blockDim.y * blockDim.z;
    const unsigned wi = t / 32, lane = t % 32;
    if (wi * 32 + 32 > nthreads)
        wfail(file, line, "%s is a warp-wide operation: all 32 lanes of a warp must call it, but this "
              "block has %u threads, so warp %u has only %u lane(s) (use blocks of a multiple of 32 threads)",
              op_name(op), nthreads, wi, nthreads - wi * 32);
    if (op != MMA && ldm % (16 / elem_bytes) != 0)
        wfail(file, line, "%s: ldm=%u must be a multiple of %d for %d-byte elements (16 bytes), as CUDA "
              "requires", op_name(op), ldm, 16 / elem_bytes, elem_bytes);
    Warp& w = warps[wi];
    const unsigned s = ++w.seq[lane];
    Round& r = w.round[s & 1];
    r.call[lane] = Call{file, line, op, ptr, ldm, layout, s};
    return Ctx{&r, (int)lane, s};
}

// Second half: wait for the whole warp (a __syncwarp), then check that every lane made the same
// call with the same arguments.
inline void meet(const Ctx& c) {
    const Call& me = c.round->call[c.lane];
    ::__simt::warp_op(::__simt::SYNCWARP, 0xffffffffu, 0, 0, 32, me.file, me.line);
    for (int l = 0; l < 32; ++l) {
        const Call& o = c.round->call[l];
        if (o.seq != c.seq)
            wfail(me.file, me.line, "%s is a warp-wide operation: all 32 lanes must call it converged, but "
                  "lane %d did not (it waits at another warp operation, or has returned)", op_name(me.op), l);
        if (o.op != me.op || o.line != me.line || strcmp(o.file, me.file) != 0)
            wfail(me.file, me.line, "%s is a warp-wide operation: lane %d called %s at %s:%d instead; all 32 "
                  "lanes must make the same call, converged", op_name(me.op), l, op_name(o.op), o.file, o.line);
        if (o.ptr != me.ptr || o.ldm != me.ldm || o.layout != me.layout)
            wfail(me.file, me.line, "%s: lane %d passed pointer %p, ldm %u, layout %d but lane %d passed "
                  "pointer %p, ldm %u, layout %d; every lane of the warp must pass the same ones",
                  op_name(me.op), c.lane, me.ptr, me.ldm, me.layout, l, o.ptr, o.ldm, o.layout);
    }
}

template <class T> inline T nan_of() {
    if constexpr (std::is_same<T, float>::value) return __int_as_float(0x7fffffff);
    else return ::__simt::bits16<T>(0x7fffu);
}
}  // namespace wmma_impl
}  // namespace __simt

namespace nvcuda {
namespace wmma {

template <class Use, int m, int n, int k, class T, class Layout = void>
class fragment {
    static_assert(m == 16 && n == 16 && k == 16,
                  "wmma shape not supported by the CPU emulator: it runs m16n16k16 fragments only "
                  "(m32n8k16, m8n32k16, m16n16k8 and the others need a real GPU, backend='cupy')");
    static_assert(__simt::wmma_impl::use_id<Use>() == 2 ? (std::is_same<T, float>::value || std::is_same<T, __half>::value)
                                                        : __simt::wmma_impl::is16<T>(),
                  "wmma element type not supported by the CPU emulator: matrix_a/matrix_b hold __half or "
                  "__nv_bfloat16, accumulators float or __half (tf32, double, integer and sub-byte "
                  "fragments need a real GPU, backend='cupy')");
    static_assert(__simt::wmma_impl::use_id<Use>() == 2 ? std::is_void<Layout>::value
                                                        : (std::is_same<Layout, row_major>::value || std::is_same<Layout, col_major>::value),
                  "wmma: matrix_a/matrix_b fragments need a layout (wmma::row_major or wmma::col_major); "
                  "accumulators take theirs at load/store time (wmma::mem_row_major / mem_col_major)");

  public:
    typedef T element_type;
    typedef T storage_element_type;
    enum { num_elements = __simt::wmma_impl::count<Use, T>() };
    storage_element_type x[num_elements];
    fragment() { for (int i = 0; i < num_elements; ++i) x[i] = __simt::wmma_impl::nan_of<T>(); }
};

template <class Use, int m, int n, int k, class T, class L>
inline void fill_fragment(fragment<Use, m, n, k, T, L>& f, const __simt::wmma_impl::id_t<T>& v) {
    for (int i = 0; i < f.num_elements; ++i) f.x[i] = v;
}

template <class Use, class T, class L, class = std::enable_if_t<!std::is_same<Use, accumulator>::value>>
inline void load_matrix_sync(fragment<Use, 16, 16, 16, T, L>& f, const __simt::wmma_impl::id_t<T>* p, unsigned ldm,
                             const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    namespace W = __simt::wmma_impl;
    const bool rowm = std::is_same<L, row_major>::value;
    const W::Ctx c = W::enter(W::LOAD, p, ldm, rowm ? 0 : 1, 2, file, line);
    W::meet(c);
    for (int i = 0; i < f.num_elements; ++i) {
        int r, col;
        W::element_rc(W::use_id<Use>(), f.num_elements, c.lane, i, r, col);
        f.x[i] = rowm ? p[(size_t)r * ldm + col] : p[(size_t)col * ldm + r];
    }
}

template <class T>
inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, T>& f, const __simt::wmma_impl::id_t<T>* p,
                             unsigned ldm, layout_t layout,
                             const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    namespace W = __simt::wmma_impl;
    const W::Ctx c = W::enter(W::LOAD, p, ldm, (int)layout, (int)sizeof(T), file, line);
    W::meet(c);
    for (int i = 0; i < f.num_elements; ++i) {
        int r, col;
        W::element_rc(2, f.num_elements, c.lane, i, r, col);
        f.x[i] = layout == mem_row_major ? p[(size_t)r * ldm + col] : p[(size_t)col * ldm + r];
    }
}

template <class T>
inline void store_matrix_sync(__simt::wmma_impl::id_t<T>* p, const fragment<accumulator, 16, 16, 16, T>& f,
                              unsigned ldm, layout_t layout,
                              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    namespace W = __simt::wmma_impl;
    const W::Ctx c = W::enter(W::STORE, p, ldm, (int)layout, (int)sizeof(T), file, line);
    W::meet(c);
    for (int i = 0; i < f.num_elements; ++i) {
        int r, col;
        W::element_rc(2, f.num_elements, c.lane, i, r, col);
        (layout == mem_row_major ? p[(size_t)r * ldm + col] : p[(size_t)col * ldm + r]) = f.x[i];
    }
}

// D = A*B + C (see the top of the file for the order of the float sum). satf: saturate to finite
// values (NaN -> 0), the deprecated flag of CUDA's mma_sync.
template <class TD, class TA, class LA, class TB, class LB, class TC>
inline void mma_sync(fragment<accumulator, 16, 16, 16, TD>& d, const fragment<matrix_a, 16, 16, 16, TA, LA>& a,
                     const fragment<matrix_b, 16, 16, 16, TB, LB>& b, const fragment<accumulator, 16, 16, 16, TC>& c,
                     bool satf = false, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    static_assert(std::is_same<TA, TB>::value, "wmma::mma_sync: matrix_a and matrix_b must have the same element type");
    namespace W = __simt::wmma_impl;
    const W::Ctx ctx = W::enter(W::MMA, nullptr, 0, 0, 0, file, line);
    W::Round& R = *ctx.round;
    const int na = a.num_elements, lane = ctx.lane;
    // Every element is held by one lane (lanes >= 16 repeat lanes 0-15 when there are 16 per lane).
    if (na == 8 || lane < 16)
        for (int i = 0; i < na; ++i) {
            int r, col;
            W::element_rc(0, na, lane, i, r, col);
            R.a[r * 16 + col] = (float)a.x[i];
            W::element_rc(1, na, lane, i, r, col);
            R.b[r * 16 + col] = (float)b.x[i];
        }
    W::meet(ctx);
    for (int i = 0; i < 8; ++i) {
        int r, col;
        W::element_rc(2, 8, lane, i, r, col);
        float acc = (float)c.x[i];
        const float* arow = R.a + r * 16;
        for (int k = 0; k < 16; ++k) acc += arow[k] * R.b[k * 16 + col];
        if (satf) {
            const float big = std::is_same<TD, float>::value ? FLT_MAX : 65504.0f;
            acc = acc != acc ? 0.0f : fminf(fmaxf(acc, -big), big);
        }
        d.x[i] = TD(acc);
    }
}

}  // namespace wmma
}  // namespace nvcuda

#endif  // COURSE_LIB_SIMT_WMMA_H

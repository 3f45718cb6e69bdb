// cooperative_groups.h -- CUDA's cooperative groups for the CPU SIMT emulator (the g++ build only;
// NVRTC and the GPU use CUDA's own header). Everything maps onto the emulator's barriers and warp
// operations, so the warp rules and their error messages apply unchanged:
//
//   this_thread_block()      -> __syncthreads() for .sync()
//   tiled_partition<N>(g)    -> a tile of N <= 32 consecutive lanes of one warp: the shuffles,
//                               votes and .sync() are the *_sync intrinsics with the tile's mask
//                               and width N (ballot and match results are tile-relative)
//   coalesced_threads()      -> the lanes of the warp that reached the call together
//   this_grid().sync()       -> the emulator's grid barrier (needs a cooperative launch:
//                               RawKernel(..., enable_cooperative_groups=True))
//
// Each call site is passed on with __builtin_FILE()/__builtin_LINE() default arguments, so an
// error names the kernel's line, not this header's.
#ifndef COURSE_LIB_SIMT_COOPERATIVE_GROUPS_H
#define COURSE_LIB_SIMT_COOPERATIVE_GROUPS_H

#include <type_traits>

namespace __simt {
void grid_sync(const char* file, int line);
int grid_is_valid();
}  // namespace __simt

#define __SIMT_CG_SITE const char* __cg_file = __builtin_FILE(), int __cg_line = __builtin_LINE()
#define __SIMT_CG_AT __cg_file, __cg_line

namespace cooperative_groups {
namespace __detail {
inline unsigned block_rank() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
inline unsigned block_size() { return blockDim.x * blockDim.y * blockDim.z; }
inline unsigned lane() { return block_rank() % 32u; }
inline unsigned long long grid_block_rank() {
    return blockIdx.x + (unsigned long long)gridDim.x * (blockIdx.y + (unsigned long long)gridDim.y * blockIdx.z);
}
inline unsigned long long grid_blocks() { return (unsigned long long)gridDim.x * gridDim.y * gridDim.z; }

// A value of any size through a warp operation, 8 bytes at a time (each chunk one operation).
template <class T> inline T exchange(const char* f, int l, int op, unsigned mask, T v, int arg, int width) {
    static_assert(std::is_trivially_copyable<T>::value, "cooperative groups shuffle trivially copyable types");
    if constexpr (sizeof(T) <= 8) {
        return ::__simt::shfl(f, l, op, mask, v, arg, width);
    } else {
        unsigned char in[sizeof(T)], out[sizeof(T)];
        std::memcpy(in, &v, sizeof(T));
        for (std::size_t o = 0; o < sizeof(T); o += 8) {
            uint64_t c = 0;
            const std::size_t k = sizeof(T) - o < 8 ? sizeof(T) - o : 8;
            std::memcpy(&c, in + o, k);
            c = ::__simt::warp_op(op, mask, c, arg, width, f, l);
            std::memcpy(out + o, &c, k);
        }
        T r;
        std::memcpy(&r, out, sizeof(T));
        return r;
    }
}
// Bits of `bits` at the positions of `mask`, packed to the low end (a tile-relative mask).
inline unsigned pack(unsigned bits, unsigned mask) {
    unsigned r = 0, k = 0;
    for (unsigned l = 0; l < 32; ++l)
        if (mask >> l & 1u) r |= ((bits >> l) & 1u) << k++;
    return r;
}
// The lane of the n-th set bit of mask (32 when there is none).
inline unsigned nth_lane(unsigned mask, unsigned n) {
    for (unsigned l = 0; l < 32; ++l)
        if ((mask >> l & 1u) && n-- == 0) return l;
    return 32;
}
enum Kind { BLOCK, TILE, COALESCED, GRID };
}  // namespace __detail

// Any group, e.g. a function parameter `cg::thread_group g` that receives a block or a tile.
class thread_group {
  protected:
    int kind_;
    unsigned mask_ = 0, size_ = 0, rank_ = 0;
    thread_group(int kind, unsigned mask, unsigned size, unsigned rank)
        : kind_(kind), mask_(mask), size_(size), rank_(rank) {}

  public:
    void sync(__SIMT_CG_SITE) const {
        if (kind_ == __detail::BLOCK) ::__simt::syncthreads(0, 0, __SIMT_CG_AT);
        else if (kind_ == __detail::GRID) ::__simt::grid_sync(__SIMT_CG_AT);
        else ::__simt::warp_op(::__simt::SYNCWARP, mask_, 0, 0, 32, __SIMT_CG_AT);
    }
    unsigned long long size() const { return size_; }
    unsigned long long num_threads() const { return size_; }
    unsigned long long thread_rank() const { return rank_; }
};

class thread_block : public thread_group {
    friend thread_block this_thread_block();
    thread_block() : thread_group(__detail::BLOCK, 0, __detail::block_size(), __detail::block_rank()) {}

  public:
    void sync(__SIMT_CG_SITE) const { ::__simt::syncthreads(0, 0, __SIMT_CG_AT); }
    unsigned int size() const { return size_; }
    unsigned int num_threads() const { return size_; }
    unsigned int thread_rank() const { return rank_; }
    dim3 group_index() const { return dim3(blockIdx.x, blockIdx.y, blockIdx.z); }
    dim3 thread_index() const { return dim3(threadIdx.x, threadIdx.y, threadIdx.z); }
    dim3 group_dim() const { return blockDim; }
    dim3 dim_threads() const { return blockDim; }
};

inline thread_block this_thread_block() { return thread_block(); }

// A tile of N consecutive threads (N a power of two, at most a warp).
template <unsigned N, class Parent = void> class thread_block_tile;

template <unsigned N> class thread_block_tile<N, void> : public thread_group {
    static_assert(N >= 1 && N <= 32 && (N & (N - 1)) == 0,
                  "the emulator supports tiles of 1, 2, 4, 8, 16 or 32 threads (tiles larger than a "
                  "warp need CUDA's block_tile_memory)");

  protected:
    unsigned meta_rank_ = 0, meta_size_ = 1;

  public:
    // rank_in_parent / parent_size: the calling thread's place in the partitioned group
    thread_block_tile(unsigned rank_in_parent, unsigned parent_size)
        : thread_group(__detail::TILE, build_mask(), N, rank_in_parent % N),
          meta_rank_(rank_in_parent / N), meta_size_((parent_size + N - 1) / N) {}
    static unsigned build_mask() {
        return N == 32 ? 0xffffffffu : ((1u << N) - 1u) << (__detail::lane() & ~(N - 1));
    }
    void sync(__SIMT_CG_SITE) const { ::__simt::warp_op(::__simt::SYNCWARP, mask_, 0, 0, 32, __SIMT_CG_AT); }
    static constexpr unsigned size() { return N; }
    static constexpr unsigned num_threads() { return N; }
    unsigned thread_rank() const { return rank_; }
    unsigned meta_group_rank() const { return meta_rank_; }
    unsigned meta_group_size() const { return meta_size_; }

    template <class T> T shfl(T v, int src_rank, __SIMT_CG_SITE) const {
        return __detail::exchange(__SIMT_CG_AT, ::__simt::SHFL_IDX, mask_, v, src_rank, (int)N); }
    template <class T> T shfl_down(T v, unsigned delta, __SIMT_CG_SITE) const {
        return __detail::exchange(__SIMT_CG_AT, ::__simt::SHFL_DOWN, mask_, v, (int)delta, (int)N); }
    template <class T> T shfl_up(T v, unsigned delta, __SIMT_CG_SITE) const {
        return __detail::exchange(__SIMT_CG_AT, ::__simt::SHFL_UP, mask_, v, (int)delta, (int)N); }
    template <class T> T shfl_xor(T v, unsigned lane_mask, __SIMT_CG_SITE) const {
        return __detail::exchange(__SIMT_CG_AT, ::__simt::SHFL_XOR, mask_, v, (int)lane_mask, (int)N); }
    int any(int pred, __SIMT_CG_SITE) const {
        return (int)::__simt::warp_op(::__simt::ANY, mask_, pred ? 1 : 0, 0, 32, __SIMT_CG_AT); }
    int all(int pred, __SIMT_CG_SITE) const {
        return (int)::__simt::warp_op(::__simt::ALL, mask_, pred ? 1 : 0, 0, 32, __SIMT_CG_AT); }
    unsigned ballot(int pred, __SIMT_CG_SITE) const {
        const unsigned b = (unsigned)::__simt::warp_op(::__simt::BALLOT, mask_, pred ? 1 : 0, 0, 32, __SIMT_CG_AT);
        return N == 32 ? b : b >> (__detail::lane() & ~(N - 1));
    }
    template <class T> unsigned match_any(T v, __SIMT_CG_SITE) const {
        const unsigned b = (unsigned)::__simt::warp_op(::__simt::MATCH_ANY, mask_, ::__simt::to_bits(v), 0, 32,
                                                       __SIMT_CG_AT);
        return N == 32 ? b : b >> (__detail::lane() & ~(N - 1));
    }
    template <class T> unsigned match_all(T v, int& pred, __SIMT_CG_SITE) const {
        const unsigned b = (unsigned)::__simt::warp_op(::__simt::MATCH_ALL, mask_, ::__simt::to_bits(v), 0, 32,
                                                       __SIMT_CG_AT);
        pred = b != 0;
        return N == 32 ? b : b >> (__detail::lane() & ~(N - 1));
    }
};

template <unsigned N, class Parent> class thread_block_tile : public thread_block_tile<N, void> {
  public:
    using thread_block_tile<N, void>::thread_block_tile;
};

template <unsigned N, class Parent> inline thread_block_tile<N, Parent> tiled_partition(const Parent& parent) {
    return thread_block_tile<N, Parent>((unsigned)parent.thread_rank(), (unsigned)parent.num_threads());
}

// tiled_partition(parent, n): the run-time form; n a power of two up to 32.
class __dynamic_tile : public thread_group {
  public:
    __dynamic_tile(unsigned n, unsigned rank_in_parent)
        : thread_group(__detail::TILE,
                       n == 32 ? 0xffffffffu : ((1u << n) - 1u) << (__detail::lane() & ~(n - 1)), n,
                       rank_in_parent % n) {}
};
template <class Parent> inline thread_group tiled_partition(const Parent& parent, unsigned n, __SIMT_CG_SITE) {
    if (n < 1 || n > 32 || (n & (n - 1)))
        ::__simt::fail("tiled_partition(parent, n): the emulator supports n = 1, 2, 4, 8, 16 or 32",
                       __SIMT_CG_AT);
    return __dynamic_tile(n, (unsigned)parent.thread_rank());
}

// The lanes of the warp that reached this call together.
class coalesced_group : public thread_group {
    friend coalesced_group coalesced_threads(const char*, int);
    explicit coalesced_group(unsigned mask)
        : thread_group(__detail::COALESCED, mask, (unsigned)__builtin_popcount(mask),
                       (unsigned)__builtin_popcount(mask & ((1u << __detail::lane()) - 1u))) {}
    template <class T> T by_rank(const char* f, int l, T v, unsigned src_rank) const {
        const unsigned src = __detail::nth_lane(mask_, src_rank);
        return __detail::exchange(f, l, ::__simt::SHFL_IDX, mask_, v, (int)(src < 32 ? src : __detail::lane()), 32);
    }

  public:
    void sync(__SIMT_CG_SITE) const { ::__simt::warp_op(::__simt::SYNCWARP, mask_, 0, 0, 32, __SIMT_CG_AT); }
    unsigned size() const { return size_; }
    unsigned num_threads() const { return size_; }
    unsigned thread_rank() const { return rank_; }
    unsigned meta_group_rank() const { return 0; }
    unsigned meta_group_size() const { return 1; }
    template <class T> T shfl(T v, unsigned src_rank, __SIMT_CG_SITE) const {
        return by_rank(__SIMT_CG_AT, v, src_rank % size_); }
    template <class T> T shfl_down(T v, unsigned delta, __SIMT_CG_SITE) const {
        return by_rank(__SIMT_CG_AT, v, rank_ + delta < size_ ? rank_ + delta : rank_); }
    template <class T> T shfl_up(T v, unsigned delta, __SIMT_CG_SITE) const {
        return by_rank(__SIMT_CG_AT, v, rank_ >= delta ? rank_ - delta : rank_); }
    int any(int pred, __SIMT_CG_SITE) const {
        return (int)::__simt::warp_op(::__simt::ANY, mask_, pred ? 1 : 0, 0, 32, __SIMT_CG_AT); }
    int all(int pred, __SIMT_CG_SITE) const {
        return (int)::__simt::warp_op(::__simt::ALL, mask_, pred ? 1 : 0, 0, 32, __SIMT_CG_AT); }
    unsigned ballot(int pred, __SIMT_CG_SITE) const {
        return __detail::pack((unsigned)::__simt::warp_op(::__simt::BALLOT, mask_, pred ? 1 : 0, 0, 32,
                                                          __SIMT_CG_AT), mask_);
    }
};

inline coalesced_group coalesced_threads(__SIMT_CG_SITE) {
    return coalesced_group(::__simt::activemask(__SIMT_CG_AT));
}

// Every thread of the grid; sync() needs a cooperative launch.
class grid_group : public thread_group {
    friend grid_group this_grid();
    grid_group() : thread_group(__detail::GRID, 0, 0, 0) {}

  public:
    void sync(__SIMT_CG_SITE) const { ::__simt::grid_sync(__SIMT_CG_AT); }
    bool is_valid() const { return ::__simt::grid_is_valid() != 0; }
    unsigned long long size() const { return __detail::grid_blocks() * __detail::block_size(); }
    unsigned long long num_threads() const { return size(); }
    unsigned long long thread_rank() const {
        return __detail::grid_block_rank() * __detail::block_size() + __detail::block_rank(); }
    unsigned long long num_blocks() const { return __detail::grid_blocks(); }
    unsigned long long block_rank() const { return __detail::grid_block_rank(); }
    dim3 block_index() const { return dim3(blockIdx.x, blockIdx.y, blockIdx.z); }
    dim3 group_dim() const { return gridDim; }
    dim3 dim_blocks() const { return gridDim; }
};

inline grid_group this_grid() { return grid_group(); }

template <class Group> inline void sync(const Group& g, __SIMT_CG_SITE) { g.sync(__SIMT_CG_AT); }

}  // namespace cooperative_groups

#endif  // COURSE_LIB_SIMT_COOPERATIVE_GROUPS_H

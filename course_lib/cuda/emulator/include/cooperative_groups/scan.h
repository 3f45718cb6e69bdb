// cooperative_groups/scan.h -- cg::inclusive_scan / cg::exclusive_scan on a tile, for the CPU
// SIMT emulator (g++ only): a Hillis-Steele scan with shfl_up over the tile's width.
#ifndef COURSE_LIB_SIMT_CG_SCAN_H
#define COURSE_LIB_SIMT_CG_SCAN_H

#include <cooperative_groups/reduce.h>

namespace cooperative_groups {

template <unsigned N, class P, class TyVal, class TyOp = plus<std::decay_t<TyVal>>>
inline std::decay_t<TyVal> inclusive_scan(const thread_block_tile<N, P>& g, TyVal&& value, TyOp&& op = TyOp(),
                                          __SIMT_CG_SITE) {
    std::decay_t<TyVal> v = value;
    for (unsigned off = 1; off < N; off *= 2) {
        std::decay_t<TyVal> before = g.shfl_up(v, off, __SIMT_CG_AT);
        if (g.thread_rank() >= off) v = op(before, v);
    }
    return v;
}

// Rank 0 receives a value-initialised TyVal (0 for arithmetic types).
template <unsigned N, class P, class TyVal, class TyOp = plus<std::decay_t<TyVal>>>
inline std::decay_t<TyVal> exclusive_scan(const thread_block_tile<N, P>& g, TyVal&& value, TyOp&& op = TyOp(),
                                          __SIMT_CG_SITE) {
    std::decay_t<TyVal> inc = inclusive_scan(g, value, op, __SIMT_CG_AT);
    std::decay_t<TyVal> prev = g.shfl_up(inc, 1u, __SIMT_CG_AT);
    return g.thread_rank() == 0 ? std::decay_t<TyVal>() : prev;
}

}  // namespace cooperative_groups

#endif  // COURSE_LIB_SIMT_CG_SCAN_H

// cooperative_groups/reduce.h -- cg::reduce and its operators for the CPU SIMT emulator (g++ only).
//
// reduce(group, value, op) returns op folded over the values of every thread of a tile or a
// coalesced group, to every one of them. A tile combines by a butterfly of shfl_xor (each lane
// combines the same pairs, so all get the same bits for a commutative op); a coalesced group
// folds toward rank 0 with shfl_down and broadcasts. The grouping of a floating-point sum may
// differ from the GPU's, so compare sums to a tolerance.
#ifndef COURSE_LIB_SIMT_CG_REDUCE_H
#define COURSE_LIB_SIMT_CG_REDUCE_H

#include <cooperative_groups.h>

namespace cooperative_groups {

template <class T = void> struct plus { T operator()(const T& a, const T& b) const { return a + b; } };
template <class T = void> struct less { T operator()(const T& a, const T& b) const { return b < a ? b : a; } };
template <class T = void> struct greater { T operator()(const T& a, const T& b) const { return a < b ? b : a; } };
template <class T = void> struct bit_and { T operator()(const T& a, const T& b) const { return a & b; } };
template <class T = void> struct bit_or { T operator()(const T& a, const T& b) const { return a | b; } };
template <class T = void> struct bit_xor { T operator()(const T& a, const T& b) const { return a ^ b; } };

template <unsigned N, class P, class TyVal, class TyOp>
inline std::decay_t<TyVal> reduce(const thread_block_tile<N, P>& g, TyVal&& value, TyOp&& op, __SIMT_CG_SITE) {
    std::decay_t<TyVal> v = value;
    for (unsigned off = N / 2; off > 0; off /= 2) v = op(v, g.shfl_xor(v, off, __SIMT_CG_AT));
    return v;
}

template <class TyVal, class TyOp>
inline std::decay_t<TyVal> reduce(const coalesced_group& g, TyVal&& value, TyOp&& op, __SIMT_CG_SITE) {
    std::decay_t<TyVal> v = value;
    const unsigned n = g.size(), r = g.thread_rank();
    for (unsigned off = 1; off < n; off *= 2) {
        std::decay_t<TyVal> other = g.shfl_down(v, off, __SIMT_CG_AT);
        if (r + off < n) v = op(v, other);
    }
    return g.shfl(v, 0u, __SIMT_CG_AT);
}

}  // namespace cooperative_groups

#endif  // COURSE_LIB_SIMT_CG_REDUCE_H

"""__half and __nv_bfloat16 on the CPU emulator round as the GPU does, bit for bit.

References, all independent of the emulator's C++:
* NumPy float16: conversions from float32 / float64 round once to nearest even; float16
  arithmetic rounds once per operation.
* float64 maths rounded once to float16 (fused multiply-add, exp, log, sqrt, ...).
* bfloat16: ``torch.bfloat16`` conversions, and a rounding written here in NumPy (nearest of the
  two bfloat16 neighbours, compared in float64, ties to the even pattern).
The kernels are ``course_lib/cuda/examples/half_ops.cu`` and ``half_bf16_ops.cu``; they also
compile with NVRTC for every architecture a learner is likely to have (bfloat16 FMA from sm_80).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib import cuda
from course_lib.cuda import nvrtc

# casting past float16's range to inf is what several references do on purpose
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                                        "ignore:invalid value encountered:RuntimeWarning")

SCHEDULES = ["forward", "reverse", "random"]
EXAMPLES = Path(cuda.__file__).resolve().parent / "examples"
GRID, BLOCK = (8,), (128,)          # grid-stride kernels: any n


def mod(name: str, **opts):
    return cuda.RawModule(path=EXAMPLES / name, backend="emulator", **opts)


def bits(a) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint16)


def all_halves() -> np.ndarray:
    return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)


def assert_same16(got, want, what: str):
    """Bit-identical 16-bit results, except that any NaN matches any NaN (payloads differ)."""
    g, w = bits(got), bits(want)
    nan_g = (g & 0x7fff) > (0x7c00 if got.dtype == np.float16 else 0x7f80)
    nan_w = (w & 0x7fff) > (0x7c00 if got.dtype == np.float16 else 0x7f80)
    bad = (nan_g != nan_w) | (~nan_w & (g != w))
    if bad.any():
        i = np.flatnonzero(bad)[:8]
        raise AssertionError(f"{what}: {bad.sum()} of {g.size} differ, e.g. at {i.tolist()}: "
                             f"got {[hex(v) for v in g[i]]}, want {[hex(v) for v in w[i]]}")


def half_neighbours(x: np.ndarray):
    """(largest float16 <= x, smallest float16 >= x) for float32/float64 x (no NaN)."""
    h = x.astype(np.float16)
    up = np.nextafter(h, np.float16(np.inf))
    down = np.nextafter(h, np.float16(-np.inf))
    hv = h.astype(np.float64)
    lo = np.where(hv > x, down, h)
    hi = np.where(hv < x, up, h)
    return lo, hi


def float_samples(rng, n_random=400_000) -> np.ndarray:
    """Random float32 bit patterns, plus every float16 rounding tie and its float32 neighbours."""
    rand = rng.integers(0, 1 << 32, n_random, dtype=np.uint64).astype(np.uint32).view(np.float32)
    h = all_halves()
    h = h[np.isfinite(h) & (h >= 0)].astype(np.float64)
    mids = ((h[:-1] + h[1:]) / 2).astype(np.float32)            # exact: 12 significant bits
    near = np.concatenate([mids, np.nextafter(mids, np.float32(np.inf)), np.nextafter(mids, np.float32(0))])
    edges = np.array([65504, 65519.996, 65520, 65536, 1e5, 2.0 ** -24, 2.0 ** -25, 2.0 ** -26,
                      2.0 ** -14, 0.0, np.inf], np.float32)
    out = np.concatenate([rand, near, -near, edges, -edges])
    return out[~np.isnan(out)]


# ---------------------------------------------------------------- __half conversions
def test_every_half_pattern_converts_to_float_and_int_exactly():
    x = all_halves()
    f = np.full(x.size, np.nan, np.float32)
    k = np.zeros(4 * x.size, np.int32)
    mod("half_ops.cu").get_function("half_to_float_int")(GRID, BLOCK, (x, f, k, np.int32(x.size)))
    ok = ~np.isnan(x)
    np.testing.assert_array_equal(f[ok].view(np.uint32), x[ok].astype(np.float32).view(np.uint32))
    assert np.isnan(f[~ok]).all()
    xd = x.astype(np.float64)
    for row, fn in enumerate([np.rint, np.trunc, np.floor, np.ceil]):
        # cvt.rni.s32.f16 & co.: NaN -> 0; +-inf saturate
        want = np.where(np.isnan(xd), 0, np.clip(fn(np.nan_to_num(xd, nan=0)), -2**31, 2**31 - 1))
        np.testing.assert_array_equal(k[row * x.size:(row + 1) * x.size], want.astype(np.int64))


def test_float_to_half_rounds_to_nearest_even_and_directed():
    x = float_samples(np.random.default_rng(0))
    out = np.zeros(4 * x.size, np.float16)
    mod("half_ops.cu").get_function("half_from_float")(GRID, BLOCK, (x, out, np.int32(x.size)))
    rn, rz, rd, ru = out.reshape(4, -1)
    assert_same16(rn, x.astype(np.float16), "__float2half_rn vs NumPy")
    lo, hi = half_neighbours(x.astype(np.float64))
    assert_same16(rd, lo, "__float2half_rd")
    assert_same16(ru, hi, "__float2half_ru")
    assert_same16(rz, np.where(x > 0, lo, hi), "__float2half_rz")
    # the reproducer's cases, spelled out
    idx = {v: int(np.flatnonzero(x == np.float32(v))[0]) for v in (65520, 65519.996, 2.0 ** -25)}
    assert bits(rn)[idx[65520]] == 0x7c00 and bits(rn)[idx[65519.996]] == 0x7bff
    assert bits(rn)[idx[2.0 ** -25]] == 0x0000          # the tie between 0 and 2^-24 goes to even


def test_nan_converts_to_the_canonical_nan():
    x = np.array([np.nan, -np.nan, np.float32(np.nan) * 0], np.float32)
    x = np.concatenate([x, np.array([0x7f800001, 0xffc00000, 0x7fa00000], np.uint32).view(np.float32)])
    out = np.zeros(4 * x.size, np.float16)
    mod("half_ops.cu").get_function("half_from_float")((1,), (32,), (x, out, np.int32(x.size)))
    assert (bits(out) == 0x7fff).all()


def test_double_to_half_rounds_once():
    rng = np.random.default_rng(1)
    h = all_halves()
    h = h[np.isfinite(h) & (h > 0)].astype(np.float64)
    mids = (h[:-1] + h[1:]) / 2
    # just above / below a tie by far less than a float32 ulp: rounding through float32 first
    # would land on the tie and round to even -- the double rounding the GPU does not do
    eps = mids * 2.0 ** -40
    x = np.concatenate([mids + eps, mids - eps, -(mids + eps), rng.standard_normal(20000) * 100,
                        [1e300, -1e300, 0.0, -0.0, np.inf]])
    out = np.zeros(x.size, np.float16)
    mod("half_ops.cu").get_function("half_from_double")(GRID, BLOCK, (x, out, np.int32(x.size)))
    assert_same16(out, x.astype(np.float16), "__double2half vs NumPy float64 -> float16")
    assert (x[: mids.size].astype(np.float32).astype(np.float16) != out[: mids.size]).any()


# ---------------------------------------------------------------- __half arithmetic
def random_halves(rng, n):
    """Every kind of value: random bit patterns (subnormals, inf, NaN, +-0) and ordinary numbers."""
    raw = rng.integers(0, 1 << 16, n // 2, dtype=np.uint32).astype(np.uint16).view(np.float16)
    nice = (rng.standard_normal(n - n // 2) * 4).astype(np.float16)
    special = np.array([0, -0.0, np.inf, -np.inf, np.nan, 65504, -65504, 6e-8, 1, -1], np.float16)
    return np.concatenate([raw, nice, special])


def ref_max(a, b, nan_wins=False, take_max=True):
    """CUDA's __hmax/__hmin in NumPy: a NaN loses (or wins, _nan variants), +0 > -0."""
    af, bf = a.astype(np.float64), b.astype(np.float64)
    pick_a = (af > bf) if take_max else (af < bf)
    eq = af == bf
    neg_a = np.signbit(af)
    pick_a = np.where(eq, ~neg_a if take_max else neg_a, pick_a)
    r = np.where(pick_a, a, b)
    na, nb = np.isnan(af), np.isnan(bf)
    r = np.where(na & ~nb, b, np.where(nb & ~na, a, r))
    r = np.where(na & nb | (nan_wins & (na | nb)), np.float16(np.nan), r)
    return r.astype(np.float16)


def ref_sat(v):
    v = v.astype(np.float16)
    return np.where(np.isnan(v) | (v <= 0), np.float16(0), np.minimum(v, np.float16(1))).astype(np.float16)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_half_binary_operations_round_once(schedule):
    rng = np.random.default_rng(2)
    a, b = random_halves(rng, 20000), random_halves(rng, 20000)
    rng.shuffle(b)
    n = a.size
    out = np.zeros(10 * n, np.float16)
    cmp = np.full(15 * n, -1, np.int32)
    mod("half_ops.cu", schedule=schedule, seed=5).get_function("half_binary")(
        GRID, BLOCK, (a, b, out, cmp, np.int32(n)))
    out, cmp = out.reshape(10, n), cmp.reshape(15, n)
    with np.errstate(all="ignore"):
        want = [a + b, a - b, a * b, a / b, ref_max(a, b), ref_max(a, b, take_max=False),
                ref_max(a, b, nan_wins=True), ref_max(a, b, nan_wins=True, take_max=False),
                ref_sat(a + b), ref_sat(a * b)]
        names = ["__hadd", "__hsub", "__hmul", "__hdiv", "__hmax", "__hmin", "__hmax_nan", "__hmin_nan",
                 "__hadd_sat", "__hmul_sat"]
        for k, (w, name) in enumerate(zip(want, names)):
            assert_same16(out[k], w, name)
        af, bf = a.astype(np.float64), b.astype(np.float64)
        ordered = [af == bf, (af < bf) | (af > bf), af < bf, af <= bf, af > bf, af >= bf]
        unordered = [~((af < bf) | (af > bf)), af != bf, ~(af >= bf), ~(af > bf), ~(af <= bf), ~(af < bf)]
        for k, w in enumerate(ordered + unordered + [af == bf, af != bf, af < bf]):
            np.testing.assert_array_equal(cmp[k], w.astype(np.int32), err_msg=f"comparison row {k}")


def test_hfma_rounds_once_the_reproducer():
    # a*b + c = 1 + 2^-11 + 163*2^-32: just above the tie between 1 and 1 + 2^-10. Rounded once
    # that is 0x3c01; rounded to float first (fmaf, then float -> half) it lands on the tie and
    # goes to even, 0x3c00 -- the double rounding of the issue.
    a = np.array([0x3c15], np.uint16).view(np.float16)     # 1045 * 2^-10
    b = np.array([0x0fd7], np.uint16).view(np.float16)     # 2007 * 2^-22
    c = np.array([1.0], np.float16)
    exact = a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)
    assert exact[0] == 1 + 2.0 ** -11 + 163 * 2.0 ** -32
    assert bits(exact.astype(np.float16))[0] == 0x3c01
    assert bits(exact.astype(np.float32).astype(np.float16))[0] == 0x3c00
    out = np.zeros(3, np.float16)
    mod("half_ops.cu").get_function("half_fma")((1,), (32,), (a, b, c, out, np.int32(1)))
    assert bits(out)[0] == 0x3c01


def test_hfma_sat_relu_against_float64():
    rng = np.random.default_rng(3)
    a, b, c = (random_halves(rng, 30000) for _ in range(3))
    for v in (b, c):
        rng.shuffle(v)
    n = a.size
    out = np.zeros(3 * n, np.float16)
    mod("half_ops.cu").get_function("half_fma")(GRID, BLOCK, (a, b, c, out, np.int32(n)))
    with np.errstate(all="ignore"):
        # a*b is exact in float64 and, whenever the result is a finite half, so is a*b + c
        ref = (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float16)
    fma, sat, relu = out.reshape(3, n)
    assert_same16(fma, ref, "__hfma")
    assert_same16(sat, ref_sat(ref), "__hfma_sat")
    relu_ref = np.where(np.isnan(ref), ref, np.where(ref < 0, np.float16(0), ref)).astype(np.float16)
    assert_same16(relu, relu_ref, "__hfma_relu")


def test_half_unary_functions_against_float64():
    x = all_halves()
    n = x.size
    out = np.zeros(17 * n, np.float16)
    flags = np.zeros(2 * n, np.int32)
    mod("half_ops.cu").get_function("half_unary")(GRID, BLOCK, (x, out, flags, np.int32(n)))
    out = out.reshape(17, n)
    xd = x.astype(np.float64)
    with np.errstate(all="ignore"):
        want = [-x, np.abs(x), np.exp(xd), np.exp2(xd), 10.0 ** xd, np.log(xd), np.log2(xd), np.log10(xd),
                np.sqrt(xd), 1 / np.sqrt(xd), 1 / xd, np.sin(xd), np.cos(xd), np.ceil(x), np.floor(x),
                np.trunc(x), np.rint(x)]
    names = ["__hneg", "__habs", "hexp", "hexp2", "hexp10", "hlog", "hlog2", "hlog10", "hsqrt", "hrsqrt",
             "hrcp", "hsin", "hcos", "hceil", "hfloor", "htrunc", "hrint"]
    for k, (w, name) in enumerate(zip(want, names)):
        assert_same16(out[k], np.asarray(w).astype(np.float16), name)
    np.testing.assert_array_equal(flags[:n], np.isnan(x))
    np.testing.assert_array_equal(flags[n:], np.where(np.isinf(x), np.sign(xd), 0).astype(np.int32))


# ---------------------------------------------------------------- __half2
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_half2_operations_match_elementwise_float16(schedule):
    rng = np.random.default_rng(4)
    n = 5000                                    # pairs
    a, b, c = ((rng.standard_normal(2 * n) * 3).astype(np.float16) for _ in range(3))
    out = np.zeros(11 * 2 * n, np.float16)
    f = np.zeros(2 * n, np.float32)
    mod("half_ops.cu", schedule=schedule).get_function("half2_ops")(GRID, BLOCK, (a, b, c, out, f, np.int32(n)))
    out = out.reshape(11, 2 * n)
    ad, bd, cd = (v.astype(np.float64) for v in (a, b, c))
    with np.errstate(all="ignore"):
        swap = a.reshape(n, 2)[:, ::-1].ravel()
        hi_lo = np.stack([a.reshape(n, 2)[:, 1], b.reshape(n, 2)[:, 0]], 1).ravel()
        want = [a + b, a - b, a * b, a / b, ad * bd + cd, np.exp(ad), np.sqrt(ad), ref_max(a, b),
                (a * b) + c, swap, hi_lo]
    names = ["__hadd2", "__hsub2", "__hmul2", "__h2div", "__hfma2", "h2exp", "h2sqrt", "__hmax2",
             "x * y + z", "__lowhigh2highlow", "__halves2half2"]
    for k, (w, name) in enumerate(zip(want, names)):
        assert_same16(out[k], np.asarray(w).astype(np.float16), name)
    np.testing.assert_array_equal(f, a.astype(np.float32))


def test_floats2half2_and_back():
    rng = np.random.default_rng(5)
    x, y = (rng.standard_normal(3000).astype(np.float32) * 1000 for _ in range(2))
    out = np.zeros(2 * x.size, np.float16)
    back = np.zeros(2 * x.size, np.float32)
    mod("half_ops.cu").get_function("half2_from_floats")(GRID, BLOCK, (x, y, out, back, np.int32(x.size)))
    want = np.stack([x, y], 1).ravel().astype(np.float16)
    assert_same16(out, want, "__floats2half2_rn")
    np.testing.assert_array_equal(back, want.astype(np.float32))


# ---------------------------------------------------------------- atomics
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_half_and_half2_atomic_add(schedule):
    # small integers: every partial sum (<= 2048) is exact in float16, so any order gives the sum
    rng = np.random.default_rng(6)
    n = 600
    x = rng.integers(0, 4, n).astype(np.float16)
    x2 = rng.integers(0, 4, 2 * n).astype(np.float16)
    total, total2 = np.zeros(1, np.float16), np.array([1, -1], np.float16)
    mod("half_ops.cu", schedule=schedule, seed=1).get_function("half_atomic_sum")(
        (4,), (64,), (x, total, x2, total2, np.int32(n)))
    assert total[0] == x.astype(np.int64).sum()
    np.testing.assert_array_equal(total2, [1 + x2[0::2].astype(np.int64).sum(), -1 + x2[1::2].astype(np.int64).sum()])


# ---------------------------------------------------------------- bfloat16
def bf16_ref_rn(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits, nearest with ties to even, by comparing the two candidates."""
    u = x.view(np.uint32)
    t = (u >> 16).astype(np.uint32)                 # truncation: toward zero
    lo = (t << 16).view(np.float32).astype(np.float64)
    with np.errstate(invalid="ignore"):
        hi = ((t + 1) << 16).astype(np.uint32).view(np.float32).astype(np.float64)   # one step from 0
    xd = x.astype(np.float64)
    # past the largest finite bfloat16 the next step is 2^128, which a rounding sends to inf
    hi = np.where(((t + 1) & 0x7fff) == 0x7f80, np.copysign(2.0 ** 128, xd), hi)
    d_lo, d_hi = np.abs(xd - lo), np.abs(hi - xd)
    up = (d_hi < d_lo) | ((d_hi == d_lo) & (t & 1 == 1))
    return np.where(up, t + 1, t).astype(np.uint16)


def bf16_value(b: np.ndarray) -> np.ndarray:
    return (b.astype(np.uint32) << 16).view(np.float32)


def bf16_step(b: np.ndarray, direction: int) -> np.ndarray:
    """The next bfloat16 pattern up (+1) or down (-1) in value (no NaN inputs)."""
    b = b.astype(np.int64)
    neg = (b & 0x8000) != 0
    zero = (b & 0x7fff) == 0
    if direction > 0:
        r = np.where(zero, 0x0001, np.where(neg, b - 1, b + 1))
        r = np.where(b == 0x7f80, b, r)
    else:
        r = np.where(zero, 0x8001, np.where(neg, b + 1, b - 1))
        r = np.where(b == 0xff80, b, r)
    return r.astype(np.uint16)


def torch_bf16_bits(x: np.ndarray) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(x)).to(torch.bfloat16)
    return t.view(torch.int16).numpy().view(np.uint16)


def test_float_to_bf16_against_torch_and_numpy():
    rng = np.random.default_rng(7)
    rand = rng.integers(0, 1 << 32, 400_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    # ties: every bfloat16 pattern with 0x8000 below it, and one float32 ulp either side
    b = np.arange(0, 0x7f80, 7, dtype=np.uint32)
    ties = ((b << 16) | 0x8000).astype(np.uint32)
    near = np.concatenate([ties, ties + 1, ties - 1]).view(np.float32)
    x = np.concatenate([rand, near, -near, np.array([3.4e38, np.inf, 0.0, 1e-45], np.float32)])
    x = x[~np.isnan(x)]
    out = np.zeros(4 * x.size, np.uint16)
    back = np.zeros(x.size, np.float32)
    mod("half_bf16_ops.cu").get_function("bf16_from_float")(GRID, BLOCK, (x, out, back, np.int32(x.size)))
    rn, rz, rd, ru = out.reshape(4, -1)
    np.testing.assert_array_equal(rn, torch_bf16_bits(x))
    np.testing.assert_array_equal(rn, bf16_ref_rn(x))
    np.testing.assert_array_equal(back.view(np.uint32), rn.astype(np.uint32) << 16)
    v = bf16_value(rn).astype(np.float64)
    xd = x.astype(np.float64)
    lo = np.where(v > xd, bf16_step(rn, -1), rn)
    hi = np.where(v < xd, bf16_step(rn, +1), rn)
    np.testing.assert_array_equal(rd, lo)
    np.testing.assert_array_equal(ru, hi)
    np.testing.assert_array_equal(rz, np.where(xd > 0, lo, hi))


def test_double_to_bf16_rounds_once():
    b = np.arange(0x3000, 0x5000, 3, dtype=np.uint32)
    mids = (((b << 16) | 0x8000).astype(np.uint32).view(np.float32)).astype(np.float64)
    x = np.concatenate([mids * (1 + 2.0 ** -40), mids * (1 - 2.0 ** -40)])
    out = np.zeros(x.size, np.uint16)
    mod("half_bf16_ops.cu").get_function("bf16_from_double")(GRID, BLOCK, (x, out, np.int32(x.size)))
    half = x.size // 2
    np.testing.assert_array_equal(out[:half], (b + 1).astype(np.uint16))   # above the tie: up
    np.testing.assert_array_equal(out[half:], b.astype(np.uint16))         # below: down


def bf16_round_f64(v: np.ndarray) -> np.ndarray:
    """float64 -> bfloat16 bits rounded once (v exact in float64): nearest neighbour, ties to even."""
    f = v.astype(np.float32)                      # one candidate neighbourhood; then pick exactly
    t = bf16_ref_rn(f)
    cand = np.stack([bf16_step(t, -1), t, bf16_step(t, +1)])
    vals = bf16_value(cand).astype(np.float64)
    d = np.abs(vals - v)
    best = d.min(0)
    choose = (d == best) & ((cand & 1 == 0) | ((d == best).sum(0) == 1))
    return cand[np.argmax(choose, 0), np.arange(v.size)]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_bf16_arithmetic_rounds_once(schedule):
    rng = np.random.default_rng(8)
    n = 20000

    def rand_bf16():
        # moderate exponents: a*b + c is then exact in float64, the reference rounds it once
        return bf16_ref_rn((rng.standard_normal(n) * 8).astype(np.float32))
    a, b, c = rand_bf16(), rand_bf16(), rand_bf16()
    a[:4] = [0x7fc0, 0x7f80, 0x0001, 0x8000]        # NaN, inf, smallest subnormal, -0
    out = np.zeros(7 * n, np.uint16)
    cmp = np.zeros(6 * n, np.int32)
    mod("half_bf16_ops.cu", schedule=schedule).get_function("bf16_arith")(
        GRID, BLOCK, (a, b, c, out, cmp, np.int32(n)))
    out, cmp = out.reshape(7, n), cmp.reshape(6, n)
    ad, bd, cd = (bf16_value(v).astype(np.float64) for v in (a, b, c))
    with np.errstate(all="ignore"):
        want = [ad + bd, ad - bd, ad * bd, ad / bd, None, None, ad * bd + cd]
    for k, name in enumerate(["__hadd", "__hsub", "__hmul", "__hdiv", None, None, "__hfma"]):
        if name is None:
            continue
        ok = np.isfinite(want[k])
        np.testing.assert_array_equal(out[k][ok], bf16_round_f64(want[k][ok]), err_msg=name)
    assert (out[0][~np.isfinite(want[0])] & 0x7fff >= 0x7f80).all()
    ok = ~np.isnan(ad)
    np.testing.assert_array_equal(out[4][ok], np.where(ad >= bd, a, b)[ok])
    np.testing.assert_array_equal(out[5][ok], np.where(ad <= bd, a, b)[ok])
    np.testing.assert_array_equal(cmp[0], ad == bd)
    np.testing.assert_array_equal(cmp[1], ad < bd)
    np.testing.assert_array_equal(cmp[2], ad != bd)
    np.testing.assert_array_equal(cmp[3], ad >= bd)
    np.testing.assert_array_equal(cmp[4], np.isnan(ad))
    np.testing.assert_array_equal(cmp[5], np.where(np.isinf(ad), np.sign(ad), 0))


def test_bf16_unary_and_pairs():
    rng = np.random.default_rng(9)
    n2 = 3000
    a, b, c = (bf16_ref_rn((rng.random(2 * n2) * 4 + 0.1).astype(np.float32)) for _ in range(3))
    out = np.zeros(6 * 2 * n2, np.uint16)
    mod("half_bf16_ops.cu").get_function("bf16_unary")(GRID, BLOCK, (a, out, np.int32(2 * n2)))
    ad, bd, cd = (bf16_value(v).astype(np.float64) for v in (a, b, c))
    rows = out.reshape(6, -1)
    for k, w in enumerate([np.exp(ad), np.log(ad), np.sqrt(ad), 1 / np.sqrt(ad)]):
        np.testing.assert_array_equal(rows[k], bf16_round_f64(w), err_msg=f"unary row {k}")
    np.testing.assert_array_equal(rows[4], a ^ 0x8000)
    np.testing.assert_array_equal(rows[5], a & 0x7fff)
    out = np.zeros(6 * 2 * n2, np.uint16)
    f = np.zeros(2 * n2, np.float32)
    mod("half_bf16_ops.cu").get_function("bf162_ops")(GRID, BLOCK, (a, b, c, out, f, np.int32(n2)))
    rows = out.reshape(6, -1)
    for k, w in enumerate([ad + bd, ad * bd, ad * bd + cd, ad / bd, np.exp(ad)]):
        np.testing.assert_array_equal(rows[k], bf16_round_f64(w), err_msg=f"pair row {k}")
    np.testing.assert_array_equal(rows[5], np.stack([a[1::2], b[0::2]], 1).ravel())
    np.testing.assert_array_equal(f, np.stack([bf16_value(a[0::2]), bf16_value(b[1::2])], 1).ravel())


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_bf16_atomic_add(schedule):
    n = 200                                   # sums <= 200 of 0/1: exact in bfloat16 (8 bits)
    x = bf16_ref_rn(np.random.default_rng(10).integers(0, 2, n).astype(np.float32))
    total = np.zeros(4, np.uint16)
    mod("half_bf16_ops.cu", schedule=schedule).get_function("bf16_atomic_sum")((4,), (32,), (x, total, np.int32(n)))
    xv = bf16_value(x)
    assert bf16_value(total[:1])[0] == xv.sum()
    np.testing.assert_array_equal(bf16_value(total[2:]), [xv[0:n:2].sum(), xv[1:n:2].sum()])


# ---------------------------------------------------------------- NVRTC: the GPU compiles the same files
HALF_FILES = ["half_ops.cu", "half_bf16_ops.cu"]
MIN_ARCH = re.compile(r"//\s*nvrtc:\s*min-arch\s+sm_(\d+)")


@pytest.mark.parametrize("name", HALF_FILES)
@pytest.mark.parametrize("arch", ["sm_75", "sm_80", "sm_89", "sm_90"])
def test_half_examples_compile_with_nvrtc_from_their_min_arch(name, arch):
    ok, why = nvrtc.nvrtc_available()
    if not ok:
        pytest.skip(f"NVRTC unavailable: {why}")
    path = EXAMPLES / name
    m = MIN_ARCH.search(path.read_text())
    min_arch = int(m.group(1)) if m else 0
    if int(arch[3:]) >= min_arch:
        result = nvrtc.compile_cuda(path, arch=arch)
        assert {k["kernel"] for k in result.kernels}
    else:     # the marker is not stale: the file really needs the newer architecture
        with pytest.raises(nvrtc.NvrtcError):
            nvrtc.compile_cuda(path, arch=arch)


# ---------------------------------------------------------------- on a GPU: the same bits
def ulps_apart16(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance in units in the last place between two arrays of 16-bit patterns (same sign)."""
    def key(b):
        b = b.astype(np.int64)
        return np.where(b & 0x8000, -(b & 0x7fff), b)
    return np.abs(key(x) - key(y))


def device_major() -> int:
    import cupy
    return int(cupy.cuda.Device().compute_capability) // 10


@pytest.mark.gpu
def test_gpu_gives_the_same_bits_as_the_emulator():
    # Exact group: conversions, + - *, fma, max/min, comparisons, neg/abs and the integer-valued
    # roundings. Approximate group (the GPU uses approximate instructions): /, exp, log, sqrt,
    # rsqrt, rcp within 1 ulp on moderate finite inputs; sin/cos are not compared.
    rng = np.random.default_rng(11)
    a, b, c = (random_halves(rng, 20000) for _ in range(3))
    for v in (b, c):
        rng.shuffle(v)
    n = a.size
    xf = float_samples(rng, 100_000)
    res = {}
    for backend in ("cupy", "emulator"):
        m = cuda.RawModule(path=EXAMPLES / "half_ops.cu", backend=backend)
        out, cmp = np.zeros(10 * n, np.float16), np.zeros(15 * n, np.int32)
        m.get_function("half_binary")(GRID, BLOCK, (a, b, out, cmp, np.int32(n)))
        fma = np.zeros(3 * n, np.float16)
        m.get_function("half_fma")(GRID, BLOCK, (a, b, c, fma, np.int32(n)))
        un, flags = np.zeros(17 * n, np.float16), np.zeros(2 * n, np.int32)
        m.get_function("half_unary")(GRID, BLOCK, (a, un, flags, np.int32(n)))
        conv = np.zeros(4 * xf.size, np.float16)
        m.get_function("half_from_float")(GRID, BLOCK, (xf, conv, np.int32(xf.size)))
        res[backend] = (out.reshape(10, n), cmp, fma, un.reshape(17, n), flags, conv)
    g, e = res["cupy"], res["emulator"]
    # (NaN payloads are compared as "a NaN": PTX leaves some of them unspecified)
    for k in (0, 1, 2, 4, 5, 6, 7, 8, 9):
        assert_same16(g[0][k], e[0][k], f"GPU vs emulator, half_binary row {k}")
    np.testing.assert_array_equal(g[1], e[1])
    assert_same16(g[2], e[2], "GPU vs emulator, half_fma")
    for k in (0, 1, 13, 14, 15, 16):
        assert_same16(g[3][k], e[3][k], f"GPU vs emulator, half_unary row {k}")
    np.testing.assert_array_equal(g[4], e[4])
    assert_same16(g[5], e[5], "GPU vs emulator, float -> half")
    moderate = np.isfinite(a) & (np.abs(a.astype(np.float64)) < 8) & (a != 0)
    for k in (2, 5, 8, 9, 10):          # exp, log, sqrt, rsqrt, rcp
        ok = moderate & np.isfinite(e[3][k]) & (a > 0 if k != 2 else True)
        assert (ulps_apart16(bits(g[3][k])[ok], bits(e[3][k])[ok]) <= 1).all(), f"half_unary row {k}"
    okd = np.isfinite(e[0][3]) & (np.abs(e[0][3].astype(np.float64)) > 2.0 ** -14)
    assert (ulps_apart16(bits(g[0][3])[okd], bits(e[0][3])[okd]) <= 1).all(), "__hdiv"
    if device_major() >= 8:
        m_b = {bk: cuda.RawModule(path=EXAMPLES / "half_bf16_ops.cu", backend=bk) for bk in ("cupy", "emulator")}
        ab, bb, cb = (bf16_ref_rn((rng.standard_normal(n) * 8).astype(np.float32)) for _ in range(3))
        outs = {}
        for bk, m in m_b.items():
            o, cm = np.zeros(7 * n, np.uint16), np.zeros(6 * n, np.int32)
            m.get_function("bf16_arith")(GRID, BLOCK, (ab, bb, cb, o, cm, np.int32(n)))
            outs[bk] = (o.reshape(7, n), cm)
        for k in (0, 1, 2, 4, 5, 6):
            g16, e16 = outs["cupy"][0][k], outs["emulator"][0][k]
            nan = ((g16 & 0x7fff) > 0x7f80) & ((e16 & 0x7fff) > 0x7f80)
            np.testing.assert_array_equal(g16[~nan], e16[~nan], err_msg=f"bf16_arith row {k}")
        np.testing.assert_array_equal(outs["cupy"][1], outs["emulator"][1])


# ---------------------------------------------------------------- the API surface is CUDA's
def api_calls(T: str, T2: str, N: str) -> list[str]:
    """One statement per intrinsic the emulator provides for a 16-bit type (x, y: T; p, q: T2)."""
    s = [f"{T} r = {f}(x, y);" for f in ("__hadd __hsub __hmul __hdiv __hadd_rn __hsub_rn __hmul_rn __hmax "
                                         "__hmin __hmax_nan __hmin_nan __hadd_sat __hsub_sat __hmul_sat").split()]
    s += [f"{T} r = {f}(x);" for f in ("__hneg __habs hexp hexp2 hexp10 hlog hlog2 hlog10 hsqrt hrsqrt hrcp "
                                       "hsin hcos htanh hceil hfloor htrunc hrint").split()]
    s += [f"{T} r = {f}(x, y, x);" for f in ("__hfma", "__hfma_sat", "__hfma_relu")]
    s += ["bool r = __hisnan(x);", "int r = __hisinf(x);"]
    s += [f"{T2} r = {f}(p, q);" for f in ("__hadd2 __hsub2 __hmul2 __h2div __hadd2_rn __hsub2_rn __hmul2_rn "
                                           "__hmax2 __hmin2 __hmax2_nan __hmin2_nan __hadd2_sat __hsub2_sat "
                                           "__hmul2_sat").split()]
    s += [f"{T2} r = {f}(p);" for f in ("__hneg2 __habs2 h2exp h2exp2 h2exp10 h2log h2log2 h2log10 h2sqrt "
                                        "h2rsqrt h2rcp h2sin h2cos h2tanh h2ceil h2floor h2trunc h2rint "
                                        "__hisnan2 __lowhigh2highlow").split()]
    s += [f"{T2} r = {f}(p, q, p);" for f in ("__hfma2", "__hfma2_sat", "__hfma2_relu")]
    for c in "eq ne lt le gt ge equ neu ltu leu gtu geu".split():
        s += [f"bool r = __h{c}(x, y);", f"{T2} r = __h{c}2(p, q);", f"unsigned r = __h{c}2_mask(p, q);",
              f"bool r = __hb{c}2(p, q);"]
    for m in ("rn", "rz", "rd", "ru"):
        s.append(f"{T} r = __float2{N}_{m}(1.5f);")
        for i_type, short in (("int", "int"), ("unsigned", "uint"), ("short", "short"),
                              ("unsigned short", "ushort"), ("long long", "ll"), ("unsigned long long", "ull")):
            s += [f"{i_type} r = __{N}2{short}_{m}(x);", f"{T} r = __{short}2{N}_{m}(({i_type})3);"]
    s += [f"{T} r = __float2{N}(1.f);", f"{T} r = __double2{N}(1.0);", f"float r = __{N}2float(x);",
          f"unsigned short r = __{N}_as_ushort(x);", f"short r = __{N}_as_short(x);",
          f"{T} r = __ushort_as_{N}(1);", f"{T} r = __short_as_{N}(1);", f"{T2} r = make_{N}2(x, y);",
          f"{T2} r = __halves2{N}2(x, y);", f"{T2} r = __{N}2{N}2(x);", f"{T2} r = __float2{N}2_rn(1.f);",
          f"{T2} r = __floats2{N}2_rn(1.f, 2.f);", f"{T2} r = __float22{N}2_rn(make_float2(1.f, 2.f));",
          f"float2 r = __{N}22float2(p);", f"{T} r = __low2{N}(p);", f"{T} r = __high2{N}(p);",
          f"{T2} r = __low2{N}2(p);", f"{T2} r = __high2{N}2(p);", f"{T2} r = __lows2{N}2(p, q);",
          f"{T2} r = __highs2{N}2(p, q);", "float r = __low2float(p) + __high2float(p);",
          f"{T} r = atomicAdd(&b[0], x);", f"{T2} r = atomicAdd(&b2[0], p);", f"{T2} r = {T2}(x, y);",
          f"{T} r = {T}(3); r = {T}(3u); r = {T}(3.0); r = {T}(3ll); r++; --r; r += y; r = -r * x / y - x;",
          f"{T2} r = p + q; r += p; r = -r * p / q - p;", "bool r = p == q || p != q || x < y || x != y;"]
    return s


@pytest.mark.parametrize("T,T2,N", [("__half", "__half2", "half"), ("__nv_bfloat16", "__nv_bfloat162", "bfloat16")])
def test_every_16_bit_intrinsic_of_the_emulator_exists_in_cuda(T, T2, N):
    # The emulator must not accept names CUDA lacks: the kernel that uses each of them compiles
    # with g++ for the emulator and with NVRTC (sm_80: the bfloat16 FMA family needs it).
    body = "\n".join("    { " + s + " (void)r; }" for s in api_calls(T, T2, N))
    src = (f'#include <cuda_fp16.h>\n#include <cuda_bf16.h>\nextern "C" __global__ void api({T}* b, {T2}* b2) {{\n'
           f"    {T} x = b[0], y = b[1];\n    {T2} p = b2[0], q = b2[1];\n{body}\n}}\n")
    cuda.RawModule(code=src, backend="emulator").compile()
    ok, why = nvrtc.nvrtc_available()
    if not ok:
        pytest.skip(f"NVRTC unavailable: {why}")
    assert [k["kernel"] for k in nvrtc.compile_cuda(src, arch="sm_80", name=f"{N}_api.cu").kernels] == ["api"]

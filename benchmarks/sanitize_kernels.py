"""Launch every CUDA kernel of the package once, on small awkward shapes, for compute-sanitizer.

    compute-sanitizer --tool memcheck  --error-exitcode 3 python3 benchmarks/sanitize_kernels.py
    compute-sanitizer --tool racecheck --error-exitcode 3 python3 benchmarks/sanitize_kernels.py
    ... python3 benchmarks/sanitize_kernels.py --planted oob    # must be caught by memcheck
    ... python3 benchmarks/sanitize_kernels.py --planted race   # must be caught by racecheck

CuPy's memory pool is switched off so every array is its own ``cudaMalloc``: otherwise an
out-of-bounds access would land in a neighbouring block of the pool, which memcheck cannot tell
from a legal access.  Shapes are not multiples of any tile, with stride 2 and padding, so the
edge masks of every kernel are exercised.  Each result is also compared with the NumPy reference
(``course_lib.conv``), so the script fails on a wrong answer even without a sanitizer.

The ``--planted`` kernels are deliberately wrong; they show that the sanitizer stage can fail.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PLANTED = {
    # grid rounded up to whole blocks, no bounds test: the last block writes past y's end
    "oob": ("""
extern "C" __global__ void fill_no_bounds_check(float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    y[i] = 1.0f;   // missing: if (i >= n) return;
}""", "fill_no_bounds_check"),
    # reverse through shared memory with the barrier missing: read-after-write race
    "race": ("""
extern "C" __global__ void reverse_no_sync(const float* x, float* y) {
    __shared__ float s[256];
    s[threadIdx.x] = x[threadIdx.x];
    // missing: __syncthreads();
    y[threadIdx.x] = s[255 - threadIdx.x];
}""", "reverse_no_sync"),
}


def run_planted(which: str) -> None:
    from course_lib.cuda import RawModule
    code, name = PLANTED[which]
    k = RawModule(code=code, backend="cupy").get_function(name)
    import cupy
    if which == "oob":
        y = cupy.zeros(1000, dtype=np.float32)
        k((4,), (256,), (y, np.int32(1000)))
    else:
        x = cupy.arange(256, dtype=np.float32)
        y = cupy.zeros(256, dtype=np.float32)
        k((1,), (256,), (x, y))
    cupy.cuda.Device().synchronize()
    print(f"planted {which!r} kernel ran; the sanitizer should have reported it")


def check(name: str, got, ref) -> bool:
    got = np.asarray(got)
    err = float(np.abs(got - ref).max())
    scale = max(1.0, float(np.abs(ref).max()))
    ok = err <= 1e-4 * scale
    print(f"{'ok  ' if ok else 'FAIL'} {name:28s} max|err| = {err:.2e} (scale {scale:.2g})")
    return ok


def run_conv_kernels() -> bool:
    import cupy

    from course_lib.conv import conv2d_backward, conv2d_direct
    from course_lib.conv import gpu as cc

    rng = np.random.default_rng(0)
    ok = True
    # (x shape, w shape, stride, padding): ragged tiles, stride 2, channels not multiples of 8
    for xs, ws, s, p in (((2, 3, 19, 21), (5, 3, 3, 3), 2, 1),
                         ((1, 10, 17, 18), (9, 10, 3, 2), 1, (1, 0))):
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        y_ref = conv2d_direct(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), s, p)
        dy = rng.standard_normal(y_ref.shape).astype(np.float32)
        dx_ref, dw_ref, db_ref = conv2d_backward(dy.astype(np.float64), x.astype(np.float64),
                                                 w.astype(np.float64), s, p)
        xd, wd, bd, dyd = (cupy.asarray(a) for a in (x, w, b, dy))
        tag = f"{xs}x{ws} s{s} p{p}"
        for kernel in cc.FORWARD_KERNELS:
            ok &= check(f"forward {kernel} {tag}", cupy.asnumpy(cc.conv2d_gpu(xd, wd, bd, s, p, kernel=kernel,
                                                                               backend="cupy")), y_ref)
        for kernel in ("reduce", "im2col"):
            ok &= check(f"dW {kernel} {tag}", cupy.asnumpy(cc.conv2d_backward_weight_gpu(
                dyd, xd, wd, s, p, kernel=kernel, backend="cupy")), dw_ref)
        for kernel in ("gather", "col2im"):
            ok &= check(f"dX {kernel} {tag}", cupy.asnumpy(cc.conv2d_backward_input_gpu(
                dyd, xs, wd, s, p, kernel=kernel, backend="cupy")), dx_ref)
        ok &= check(f"db {tag}", cupy.asnumpy(cc.conv2d_backward_bias_gpu(dyd, backend="cupy")), db_ref)
    cupy.cuda.Device().synchronize()
    return ok


def _launch_matmul_tiled(k, cupy) -> bool:
    M, N, K = 37, 29, 41                       # not multiples of the 16x16 tile
    rng = np.random.default_rng(1)
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    c = cupy.zeros((M, N), dtype=np.float32)
    k(((N + 15) // 16, (M + 15) // 16), (16, 16), (cupy.asarray(a), cupy.asarray(b), c,
                                                   np.int32(M), np.int32(N), np.int32(K)))
    return check("example matmul_tiled", cupy.asnumpy(c), a.astype(np.float64) @ b.astype(np.float64))


def _launch_reverse_blocks(k, cupy) -> bool:
    n, block = 1000, 128                       # the last block is partly empty
    x = np.arange(n, dtype=np.float32)
    y = cupy.zeros(n, dtype=np.float32)
    k(((n + block - 1) // block,), (block,), (cupy.asarray(x), y, np.int32(n)), shared_mem=4 * block)
    ref = np.zeros(n, np.float32)
    for start in range(0, n, block):           # each block reverses its own chunk, padded with 0
        chunk = np.zeros(block, np.float32)
        chunk[:min(block, n - start)] = x[start:start + block]
        ref[start:start + block] = chunk[::-1][:min(block, n - start)]
    return check("example reverse_blocks", cupy.asnumpy(y), ref)


def _launch_histogram(k, cupy) -> bool:
    n, nbins = 5000, 37
    v = np.random.default_rng(2).integers(0, nbins, n).astype(np.int32)
    hist = cupy.zeros(nbins, dtype=np.uint32)
    k((8,), (128,), (cupy.asarray(v), np.int32(n), hist, np.int32(nbins)), shared_mem=4 * nbins)
    return check("example histogram", cupy.asnumpy(hist).astype(np.float64), np.bincount(v, minlength=nbins))


def _launch_global_sum(k, cupy) -> bool:
    n = 3000
    x = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    total, total64 = cupy.zeros(1, np.float32), cupy.zeros(1, np.float64)
    imax = cupy.full(1, np.iinfo(np.int32).min, dtype=np.int32)
    k(((n + 255) // 256,), (256,), (cupy.asarray(x), np.int32(n), total, total64, imax))
    return check("example global_sum (float64 total)", cupy.asnumpy(total64), np.array([x.astype(np.float64).sum()]))


def _launch_block_sum(k, cupy) -> bool:
    n = 3000
    x = np.random.default_rng(4).standard_normal(n).astype(np.float32)
    out = cupy.zeros(1, np.float32)
    k(((n + 255) // 256,), (256,), (cupy.asarray(x), out, np.int32(n)))
    return check("example block_sum", cupy.asnumpy(out), np.array([x.astype(np.float64).sum()]))


def _launch_warp_allreduce(k, cupy) -> bool:
    x = np.random.default_rng(5).standard_normal(256).astype(np.float32)
    sums, maxes = cupy.zeros(256, np.float32), cupy.zeros(256, np.float32)
    pos = cupy.zeros(256, np.int32)
    k((2,), (128,), (cupy.asarray(x), sums, maxes, pos))
    w = x.astype(np.float64).reshape(8, 32)
    return (check("example warp_allreduce sums", cupy.asnumpy(sums), np.repeat(w.sum(1), 32))
            & check("example warp_allreduce maxes", cupy.asnumpy(maxes), np.repeat(w.max(1), 32))
            & check("example warp_allreduce ballot", cupy.asnumpy(pos).astype(np.float64),
                    np.repeat((w > 0).sum(1), 32)))


def _launch_warp_scan(k, cupy) -> bool:
    x = np.random.default_rng(6).integers(-5, 5, 128).astype(np.int32)
    y = cupy.zeros(128, np.int32)
    k((1,), (128,), (cupy.asarray(x), y))
    return check("example warp_scan", cupy.asnumpy(y).astype(np.float64),
                 np.cumsum(x.reshape(4, 32), axis=1).ravel())


def _launch_half_affine(k, cupy) -> bool:
    n = 1000
    x = np.random.default_rng(7).standard_normal(n).astype(np.float16)
    y = cupy.zeros(n, np.float16)
    k(((n + 255) // 256,), (256,), (cupy.asarray(x), y, np.float32(2.0), np.float32(0.5), np.int32(n)))
    ref = (2.0 * x.astype(np.float32) + 0.5).astype(np.float16)
    return check("example half_affine", cupy.asnumpy(y).astype(np.float64), ref.astype(np.float64))


def _launch_half_axpy(k, cupy) -> bool:
    n = 1000
    rng = np.random.default_rng(8)
    x, y0 = rng.standard_normal(n).astype(np.float16), rng.standard_normal(n).astype(np.float16)
    ref = (np.float16(1.5) * x + y0).astype(np.float64)    # half rounding: loose check below
    y = cupy.array(y0)
    k(((n + 255) // 256,), (256,), (cupy.asarray(x), y, np.float16(1.5), np.int32(n)))
    got = cupy.asnumpy(y).astype(np.float64)
    ok = bool(np.abs(got - ref).max() <= 1e-2 * max(1.0, np.abs(ref).max()))
    print(f"{'ok  ' if ok else 'FAIL'} example half_axpy")
    return ok


def _launch_block_reduce(k, cupy) -> bool:
    n, block = 1000, 256                       # the last block is partly idle
    x = np.random.default_rng(9).standard_normal(n).astype(np.float32)
    grid = (n + block - 1) // block
    sums, maxes, mins = (cupy.zeros(grid, np.float32) for _ in range(3))
    k((grid,), (block,), (cupy.asarray(x), sums, maxes, mins, np.int32(n)))
    chunks = [x[b * block:(b + 1) * block].astype(np.float64) for b in range(grid)]
    return (check("example block_reduce sums", cupy.asnumpy(sums), np.array([c.sum() for c in chunks]))
            & check("example block_reduce maxes", cupy.asnumpy(maxes), np.array([c.max() for c in chunks]))
            & check("example block_reduce mins", cupy.asnumpy(mins), np.array([c.min() for c in chunks])))


def _launch_normalize_sum(k, cupy) -> bool:
    n, grid, block = 5000, 6, 128              # a cooperative launch (grid sync)
    x = np.random.default_rng(10).random(n).astype(np.float32) + 0.5
    y = cupy.asarray(x)
    k((grid,), (block,), (y, cupy.zeros(grid, np.float32), np.int32(n)))
    return check("example normalize_sum", cupy.asnumpy(y), x / x.astype(np.float64).sum())


def _launch_wmma_matmul(k, cupy) -> bool:
    M, N, K = 64, 48, 32
    rng = np.random.default_rng(11)
    a = rng.standard_normal((M, K)).astype(np.float16)
    b = rng.standard_normal((K, N)).astype(np.float16)
    c = cupy.zeros((M, N), np.float32)
    k((N // 16, M // 16), (32,), (cupy.asarray(a), cupy.asarray(b), c, np.int32(M), np.int32(N), np.int32(K)))
    return check("example wmma_matmul", cupy.asnumpy(c), a.astype(np.float64) @ b.astype(np.float64))


#: Launchers of the other package kernels (course_lib/cuda/examples), by kernel name.
EXAMPLE_LAUNCHERS = {"matmul_tiled": _launch_matmul_tiled, "reverse_blocks": _launch_reverse_blocks,
                     "histogram": _launch_histogram, "global_sum": _launch_global_sum,
                     "block_sum": _launch_block_sum, "warp_allreduce": _launch_warp_allreduce,
                     "warp_scan": _launch_warp_scan, "half_affine": _launch_half_affine,
                     "half_axpy": _launch_half_axpy, "block_reduce": _launch_block_reduce,
                     "normalize_sum": _launch_normalize_sum, "wmma_matmul": _launch_wmma_matmul}
#: Example files whose kernels need a cooperative launch (this_grid().sync()).
COOPERATIVE = {"grid_sync.cu"}
#: Deliberately broken teaching kernels: never launched here (the sanitizers would rightly fail).
BROKEN_ON_PURPOSE = {"planted_bugs.cu", "read_uninitialised"}


def run_examples() -> bool:
    """Launch every kernel of course_lib/cuda/examples that has a launcher; list those without."""
    import cupy

    from course_lib.cuda import RawModule
    ok = True
    for path in sorted((ROOT / "course_lib" / "cuda" / "examples").glob("*.cu")):
        if path.name in BROKEN_ON_PURPOSE:
            print(f"skip {path.name} (broken on purpose)")
            continue
        mod = RawModule(path=path, backend="cupy", enable_cooperative_groups=path.name in COOPERATIVE)
        for name in mod.kernel_names:
            if name in BROKEN_ON_PURPOSE:
                print(f"skip {path.name}:{name} (broken on purpose)")
            elif name in EXAMPLE_LAUNCHERS:
                try:
                    ok &= EXAMPLE_LAUNCHERS[name](mod.get_function(name), cupy)
                except Exception as exc:     # report and go on with the other kernels
                    print(f"FAIL {path.name}:{name}: {type(exc).__name__}: {exc}")
                    ok = False
            else:
                print(f"skip {path.name}:{name} (no launcher in sanitize_kernels.py)")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="launch every package kernel once (for compute-sanitizer)")
    ap.add_argument("--planted", choices=sorted(PLANTED), help="run a deliberately broken kernel instead")
    args = ap.parse_args(argv)
    from course_lib.cuda import gpu_available
    if not gpu_available():
        print("no CUDA GPU visible to CuPy: nothing to launch")
        return 0
    import cupy
    cupy.cuda.set_allocator(None)         # exact-size allocations, see the module docstring
    if args.planted:
        run_planted(args.planted)
        return 0
    ok = run_conv_kernels()
    ok &= run_examples()
    print("all kernels agree with the NumPy reference" if ok else "SOME KERNELS DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Full-layer Winograd convolution F(m x m, 3 x 3), stride 1 (Lavin & Gray, 2016).

Pipeline for x (B, C_in, H, W) and w (C_out, C_in, 3, 3), tile size a = m + 2:

1. filter transform, once per call: ``U = G g G^T`` for every (C_out, C_in) pair
   -> U (a*a, C_out, C_in)
2. input tiles: overlapping a x a windows with step m (a strided view, no loop),
   transformed ``V = B^T d B`` -> V (a*a, C_in, T) where T = B * tiles_h * tiles_w
3. the C_in reduction: for each of the a*a transform positions one matrix product
   ``M[p] = U[p] @ V[p]``  ((C_out x C_in) @ (C_in x T)) -> M (a*a, C_out, T)
4. output transform ``Y = A^T M A`` -> m x m outputs per tile, then crop.

The output is padded up to a multiple of m (zeros appended to the padded input at
the bottom/right) and the extra rows/columns are cropped off: "ragged" edge tiles.

Each transform ``P X Q^T`` on a stack of tiles is written as two BLAS calls with
a large inner dimension (tile index last), so no Python loop runs over tiles.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._args import check_conv2d
from .winograd_transforms import winograd_matrices

SUPPORTED_M = (2, 4)


@lru_cache(maxsize=None)
def transform_matrices(m: int, dtype_str: str, points: tuple | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(AT, G, BT)`` of F(m, 3) as read-only arrays of ``dtype`` (exact, then rounded once)."""
    mats = winograd_matrices(m, 3, points).as_float(np.dtype(dtype_str))
    for a in mats:
        a.setflags(write=False)
    return mats


def _apply_2d(P: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``P X P^T`` on the first two axes of X (p, p, N) -> (q, q, N), as two GEMMs.

    Step 1 contracts axis 0: (q x p) @ (p x p*N).  Step 2 contracts axis 1 for each
    of the q rows: a stack of q GEMMs (q x p) @ (p x N).  N is the big axis.
    """
    q, p = P.shape
    N = X.shape[2]
    t = (P @ X.reshape(p, p * N)).reshape(q, p, N)
    return np.matmul(P, t)                      # broadcast P over the q rows -> (q, q, N)


def check_winograd_args(w_shape, stride, m) -> None:
    """ValueError unless Winograd F(m x m, 3 x 3) can compute this convolution."""
    if m not in SUPPORTED_M:
        raise ValueError(f"Winograd tile m must be one of {SUPPORTED_M}, got m={m!r}")
    if tuple(w_shape[2:]) != (3, 3):
        raise ValueError(f"Winograd F({m}x{m}, 3x3) needs a 3x3 kernel, got w shape {tuple(w_shape)}")
    if tuple(stride) != (1, 1):
        raise ValueError(f"Winograd F({m}x{m}, 3x3) needs stride 1, got stride {tuple(stride)}")


def filter_transform(w: np.ndarray, m: int, points: tuple | None = None) -> np.ndarray:
    """U = G g G^T for every filter: w (C_out, C_in, 3, 3) -> U (a*a, C_out, C_in)."""
    C_out, C_in = w.shape[:2]
    _, G, _ = transform_matrices(m, w.dtype.str, points)
    a = m + 2
    g = np.ascontiguousarray(w.transpose(2, 3, 0, 1)).reshape(3, 3, C_out * C_in)
    # G g G^T with G (a x 3): same two-step scheme as _apply_2d, non-square
    t = (G @ g.reshape(3, 3 * C_out * C_in)).reshape(a, 3, C_out * C_in)
    U = np.matmul(G, t)                         # (a, a, C_out*C_in)
    return U.reshape(a * a, C_out, C_in)


def input_tiles(xp: np.ndarray, m: int, tiles: tuple[int, int]) -> np.ndarray:
    """Overlapping tiles of the padded input as a view.

    xp (B, C, Hp, Wp) with Hp >= m*th + 2 -> view (B, C, th, tw, a, a) where
    element [n, c, i, j, u, v] is xp[n, c, i*m + u, j*m + v].
    """
    th, tw = tiles
    a = m + 2
    sB, sC, sH, sW = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, shape=(xp.shape[0], xp.shape[1], th, tw, a, a),
        strides=(sB, sC, m * sH, m * sW, sH, sW), writeable=False)


def conv2d_winograd(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                    padding=0, m: int = 2, points=None) -> np.ndarray:
    """Stride-1 3x3 convolution (cross-correlation) by Winograd F(m x m, 3 x 3).

    Shapes: x (B, C_in, H, W), w (C_out, C_in, 3, 3), b (C_out,) or None
    -> y (B, C_out, H + 2*ph - 2, W + 2*pw - 2), dtype of x.  ``m`` in {2, 4}:
    a larger tile saves more multiplications (2.25x vs 4x) but its transforms have
    larger entries, so float32 rounding error grows (see :func:`winograd_error_study`).
    Raises ValueError for other kernels, stride != 1 or another m.
    ``points``: the m+2 interpolation points (default 0, 1, -1, 2, -2, ..., inf, see
    :mod:`~course_lib.conv.winograd_transforms`); other choices change only rounding.
    Extra memory: the transformed input V, about (m+2)^2/m^2 times the input
    (2.25x for m=4, 4x for m=2), and M, the same factor times the output.
    """
    x, w, b, geo = check_conv2d(x, w, b, 1, padding)
    check_winograd_args(w.shape, (1, 1), m)
    points = None if points is None else tuple(points)
    AT, _, BT = transform_matrices(m, x.dtype.str, points)
    a = m + 2
    B, C_in, C_out = geo.B, geo.C_in, geo.C_out
    OH, OW = geo.OH, geo.OW
    th, tw = -(-OH // m), -(-OW // m)           # ceil: ragged last tile
    ph, pw = geo.padding
    # pad: the conv padding on top/left, conv padding + ragged fill on bottom/right
    xp = np.zeros((B, C_in, th * m + 2, tw * m + 2), dtype=x.dtype)
    xp[:, :, ph:ph + geo.H, pw:pw + geo.W] = x

    U = filter_transform(w, m, points)                  # (a*a, C_out, C_in)
    T = B * th * tw
    # tiles -> (a, a, C_in, B, th, tw): transform axes first, tile index last
    d = np.ascontiguousarray(input_tiles(xp, m, (th, tw)).transpose(4, 5, 1, 0, 2, 3))
    V = _apply_2d(BT, d.reshape(a, a, C_in * T)).reshape(a * a, C_in, T)
    del d
    M = np.matmul(U, V)                         # (a*a, C_out, T): a*a GEMMs, the real work
    del V
    Y = _apply_2d(AT, M.reshape(a, a, C_out * T))  # (m, m, C_out * T)
    del M
    Y = Y.reshape(m, m, C_out, B, th, tw).transpose(3, 2, 4, 0, 5, 1)  # (B, C_out, th, m, tw, m)
    y = Y.reshape(B, C_out, th * m, tw * m)[:, :, :OH, :OW]
    if b is not None:
        y = y + b[:, None, None]                # also makes the cropped result contiguous
    return np.ascontiguousarray(y)


def winograd_error_study(shape=(2, 32, 16, 16), c_out: int = 16, seeds: int = 3,
                         padding: int = 1, f4_points=None) -> dict[str, dict[str, float]]:
    """Rounding error of float32 direct / F(2x2) / F(4x4) against a float64 reference.

    Random N(0, 1) inputs and weights; the reference is the float64 direct convolution.
    Returns ``{algo: {"max_abs": ..., "max_rel": ..., "rms_rel": ...}}`` (relative to the
    reference's RMS), averaged over ``seeds``.  Numbers for the book to plot.
    ``f4_points`` adds a row for F(4x4) with other points, e.g.
    ``(0, 1, -1, Fraction(1, 2), Fraction(-1, 2), INF)``.
    """
    from .direct import conv2d_direct

    algos = {
        "direct": lambda x, w: conv2d_direct(x, w, None, 1, padding),
        "winograd F(2x2,3x3)": lambda x, w: conv2d_winograd(x, w, None, padding, m=2),
        "winograd F(4x4,3x3)": lambda x, w: conv2d_winograd(x, w, None, padding, m=4),
    }
    if f4_points is not None:
        algos[f"winograd F(4x4,3x3) points {[str(p) for p in f4_points]}"] = (
            lambda x, w: conv2d_winograd(x, w, None, padding, m=4, points=f4_points))
    acc = {k: {"max_abs": 0.0, "max_rel": 0.0, "rms_rel": 0.0} for k in algos}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        x64 = rng.standard_normal(shape)
        w64 = rng.standard_normal((c_out, shape[1], 3, 3)) / np.sqrt(9 * shape[1])
        ref = conv2d_direct(x64, w64, None, 1, padding)
        scale = float(np.sqrt(np.mean(ref ** 2)))
        x32, w32 = x64.astype(np.float32), w64.astype(np.float32)
        for name, fn in algos.items():
            err = fn(x32, w32).astype(np.float64) - ref
            acc[name]["max_abs"] += float(np.abs(err).max()) / seeds
            acc[name]["max_rel"] += float(np.abs(err).max()) / scale / seeds
            acc[name]["rms_rel"] += float(np.sqrt(np.mean(err ** 2))) / scale / seeds
    return acc

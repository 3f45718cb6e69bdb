"""Winograd / Toom-Cook transform matrices built from interpolation points.

A minimal filtering algorithm F(m, r) computes ``m`` outputs of a 1-D
cross-correlation with an ``r``-tap filter,

    y[i] = sum_{k<r} d[i + k] * g[k],        i = 0 .. m-1,  d has n = m + r - 1 values,

with only ``n`` general multiplications:

    y = A^T [ (G g) * (B^T d) ]              (* is the elementwise product)

Construction (Toom-Cook, then the transposition principle)
-----------------------------------------------------------
Polynomial multiplication ``s(t) = g(t) h(t)`` (``g`` of degree r-1, ``h`` of degree
m-1) is a *linear convolution*; it is fixed by its values at ``n`` points.
Evaluate both factors at the points, multiply the values pairwise (the ``n``
multiplications), and interpolate back:

    s = V^{-1} [ (E_r g) * (E_m h) ]

where ``E_k`` (n x k) evaluates a degree-(k-1) polynomial at the points and ``V`` (n x n)
evaluates a degree-(n-1) one.  The point ``inf`` is allowed: "evaluating at
infinity" returns the leading coefficient, which is exact because the leading
coefficient of a product is the product of the leading coefficients.

Linear convolution is ``s = T(g) h`` with a Toeplitz ``T(g)`` (n x m); correlation
is its transpose, ``y = T(g)^T d``.  Transposing the bilinear form above gives

    A^T = E_m^T   (m x n),    G = E_r   (n x r),    B^T = V^{-T}   (n x n).

Any diagonal scaling ``G -> D G``, ``B^T -> D^{-1} B^T`` gives the same algorithm;
:func:`winograd_matrices` can put the interpolation denominators into ``G``
(``scale="lavin"``) so that ``B^T`` is an integer matrix, which is the form
Lavin & Gray (2016) print for F(2, 3).

All arithmetic is exact (:class:`fractions.Fraction`); :func:`as_float` converts.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Sequence

import numpy as np

INF = "inf"
"""Marker for the point at infinity in a list of interpolation points."""

#: Points used by default, in the order they are taken: 0, 1, -1, 2, -2, 1/2, -1/2, ...
#: (the last of the ``n`` points is always ``inf``).  Small-magnitude points keep the
#: transform entries small, which is what limits the float32 error.
DEFAULT_POINTS: tuple = (Fraction(0), Fraction(1), Fraction(-1), Fraction(2), Fraction(-2),
                         Fraction(1, 2), Fraction(-1, 2), Fraction(3), Fraction(-3),
                         Fraction(1, 3), Fraction(-1, 3))

Matrix = list[list[Fraction]]


@dataclass(frozen=True)
class WinogradMatrices:
    """Exact transforms of F(m, r): ``AT`` (m x n), ``G`` (n x r), ``BT`` (n x n)."""

    m: int
    r: int
    points: tuple
    AT: tuple[tuple[Fraction, ...], ...]
    G: tuple[tuple[Fraction, ...], ...]
    BT: tuple[tuple[Fraction, ...], ...]

    @property
    def n(self) -> int:
        """Tile size ``m + r - 1`` = number of multiplications in 1-D."""
        return self.m + self.r - 1

    def as_float(self, dtype=np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(AT, G, BT)`` as NumPy arrays of ``dtype``."""
        return tuple(as_float(M, dtype) for M in (self.AT, self.G, self.BT))


def as_float(M: Sequence[Sequence[Fraction]], dtype=np.float64) -> np.ndarray:
    """Exact matrix -> float array (each entry rounded once)."""
    return np.array([[float(v) for v in row] for row in M], dtype=dtype)


def _evaluation(points: Sequence, ncoef: int) -> Matrix:
    """Rows ``[1, p, p^2, ..., p^(ncoef-1)]``; for ``inf`` the row picks the leading coefficient."""
    rows = []
    for p in points:
        if p == INF:
            rows.append([Fraction(0)] * (ncoef - 1) + [Fraction(1)])
        else:
            rows.append([Fraction(p) ** j for j in range(ncoef)])
    return rows


def _transpose(M: Matrix) -> Matrix:
    return [list(col) for col in zip(*M)]


def _inverse(M: Matrix) -> Matrix:
    """Exact Gauss-Jordan inverse of a square Fraction matrix."""
    n = len(M)
    aug = [list(row) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(M)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if aug[r][col] != 0), None)
        if pivot is None:
            raise ValueError("interpolation points must be distinct (singular Vandermonde matrix)")
        aug[col], aug[pivot] = aug[pivot], aug[col]
        inv_p = 1 / aug[col][col]
        aug[col] = [v * inv_p for v in aug[col]]
        for r in range(n):
            if r != col and aug[r][col] != 0:
                f = aug[r][col]
                aug[r] = [a - f * b for a, b in zip(aug[r], aug[col])]
    return [row[n:] for row in aug]


def choose_points(n: int) -> tuple:
    """The ``n`` points used for tile size ``n``: ``n-1`` finite ones from
    :data:`DEFAULT_POINTS`, then ``inf``."""
    if n < 1:
        raise ValueError(f"tile size n must be >= 1, got {n}")
    if n - 1 > len(DEFAULT_POINTS):
        raise ValueError(f"no default points for tile size n={n}; pass points= explicitly")
    return tuple(DEFAULT_POINTS[:n - 1]) + (INF,)


def winograd_matrices(m: int, r: int = 3, points: Sequence | None = None,
                      scale: str = "lavin") -> WinogradMatrices:
    """Build F(m, r) from ``m + r - 1`` distinct interpolation points (exactly).

    ``points``: numbers (int/Fraction) and at most one :data:`INF`; default
    :func:`choose_points`.  ``scale``: ``"none"`` gives the plain Toom-Cook
    matrices (``B^T = V^{-T}``); ``"lavin"`` moves each finite point's
    interpolation denominator ``prod_{j != i}(p_i - p_j)`` from ``B^T`` into ``G``
    (same algorithm, integer ``B^T`` for small point sets).

    The result depends only on the arguments and is immutable, so it is cached:
    building F(4, 3) with exact Fractions costs about a millisecond, and the
    ``conv2d(algo="auto")`` cost model asks for it on every call.
    ``winograd_matrices.uncached`` builds afresh (for tests).
    """
    pts = None if points is None else tuple(points)
    try:
        hash((m, r, pts, scale))
    except TypeError:            # unhashable points: build without the cache
        return _build_matrices(m, r, pts, scale)
    return _cached_matrices(m, r, pts, scale)


def _build_matrices(m: int, r: int, points, scale: str) -> WinogradMatrices:
    """The construction behind :func:`winograd_matrices` (no cache)."""
    if not (isinstance(m, int) and isinstance(r, int)) or m < 1 or r < 1:
        raise ValueError(f"m and r must be positive ints, got m={m!r}, r={r!r}")
    n = m + r - 1
    pts = choose_points(n) if points is None else tuple(
        p if p == INF else Fraction(p) for p in points)
    if len(pts) != n:
        raise ValueError(f"F({m}, {r}) needs n = m + r - 1 = {n} points, got {len(pts)}: {pts}")
    if sum(p == INF for p in pts) > 1 or len(set(pts)) != n:
        raise ValueError(f"points must be distinct with at most one inf, got {pts}")
    if scale not in ("none", "lavin"):
        raise ValueError(f"scale must be 'none' or 'lavin', got {scale!r}")

    G = _evaluation(pts, r)                       # n x r
    AT = _transpose(_evaluation(pts, m))          # m x n
    BT = _transpose(_inverse(_evaluation(pts, n)))  # n x n, = V^{-T}
    if scale == "lavin":
        finite = [p for p in pts if p != INF]
        for i, p in enumerate(pts):
            if p == INF:
                continue
            f = Fraction(1)
            for q in finite:
                if q != p:
                    f *= p - q
            G[i] = [v / f for v in G[i]]
            BT[i] = [v * f for v in BT[i]]
    freeze = lambda M: tuple(tuple(row) for row in M)  # noqa: E731
    return WinogradMatrices(m, r, pts, freeze(AT), freeze(G), freeze(BT))


_cached_matrices = lru_cache(maxsize=64)(_build_matrices)
winograd_matrices.uncached = _build_matrices
winograd_matrices.cache_clear = _cached_matrices.cache_clear


def correlate_1d(mats: WinogradMatrices, d: Sequence, g: Sequence) -> list:
    """Apply F(m, r) to one input tile ``d`` (n values) and filter ``g`` (r values).

    Works on exact numbers (ints/Fractions give an exact result), for tests and
    for reading: ``y = A^T [(G g) * (B^T d)]``.
    """
    if len(d) != mats.n or len(g) != mats.r:
        raise ValueError(f"F({mats.m}, {mats.r}) needs d of length {mats.n} and g of length "
                         f"{mats.r}, got {len(d)} and {len(g)}")
    Gg = [sum(a * b for a, b in zip(row, g)) for row in mats.G]
    Bd = [sum(a * b for a, b in zip(row, d)) for row in mats.BT]
    prod = [u * v for u, v in zip(Gg, Bd)]       # the n multiplications
    return [sum(a * b for a, b in zip(row, prod)) for row in mats.AT]


#: Lavin & Gray (2016), F(2, 3), as printed in the paper (for comparison in tests/the book).
LAVIN_F2_3 = {
    "BT": ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1)),
    "G": ((1, 0, 0), (Fraction(1, 2), Fraction(1, 2), Fraction(1, 2)),
          (Fraction(1, 2), Fraction(-1, 2), Fraction(1, 2)), (0, 0, 1)),
    "AT": ((1, 1, 1, 0), (0, 1, -1, -1)),
}

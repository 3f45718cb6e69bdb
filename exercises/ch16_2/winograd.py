"""Exercise 16.2b -- Winograd minimal filtering F(2,3) in 1-D and F(2x2,3x3) in 2-D.

F(2,3) computes two outputs of the 'valid' cross-correlation ``y[i] = sum_k d[i+k] g[k]`` of a
4-sample tile ``d`` with a 3-tap filter ``g`` using 4 multiplications instead of 6::

    y = AT @ ((G @ g) * (BT @ d))          (* is element-wise)

The 2-D tile nests the 1-D algorithm along both axes: with the filter transformed once,
``U = G g G^T`` (4x4), a 4x4 input tile ``d`` gives the 2x2 output tile
``Y = AT [U * (BT d B)] A`` -- 16 multiplications instead of 36. The transform matrices
(Lavin & Gray, 2016) are given. Keep the input dtype; plain NumPy only.
"""
from __future__ import annotations

import numpy as np

BT = np.array([[1, 0, -1, 0],
               [0, 1, 1, 0],
               [0, -1, 1, 0],
               [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0],
              [0.5, 0.5, 0.5],
              [0.5, -0.5, 0.5],
              [0, 0, 1]], dtype=np.float64)
AT = np.array([[1, 1, 1, 0],
               [0, 1, -1, -1]], dtype=np.float64)


def winograd_f23(d, g):
    """1-D F(2,3): d (4,), g (3,) -> y (2,) with y[i] = d[i]g[0] + d[i+1]g[1] + d[i+2]g[2]."""
    # BEGIN SOLUTION: return AT @ ((G @ g) * (BT @ d)) as a (2,) array in d.dtype (the
    # constants are float64: cast the matrices, or the result, to d.dtype).
    dt = d.dtype
    return AT.astype(dt) @ ((G.astype(dt) @ g) * (BT.astype(dt) @ d))
    # END SOLUTION


def filter_transform(g):
    """g (3, 3) -> U = G g G^T (4, 4) in g.dtype (done once per filter, reused for every tile)."""
    # BEGIN SOLUTION: return G @ g @ G.T, shape (4, 4), dtype g.dtype.
    Gd = G.astype(g.dtype)
    return Gd @ g @ Gd.T
    # END SOLUTION


def winograd_tile(d, U):
    """One 2-D tile: d (4, 4) input tile, U (4, 4) transformed filter -> (2, 2) output tile.

    Uses only U (not the 3x3 filter): the element-wise product happens in the Winograd domain.
    """
    # BEGIN SOLUTION: V = BT @ d @ BT.T (the input transform, B = BT.T), M = U * V element-wise,
    # return AT @ M @ AT.T, shape (2, 2), dtype d.dtype.
    dt = d.dtype
    Bt, At = BT.astype(dt), AT.astype(dt)
    return At @ (U.astype(dt) * (Bt @ d @ Bt.T)) @ At.T
    # END SOLUTION


def winograd_correlate2d(x, g):
    """'valid' cross-correlation of x (H, W) with g (3, 3) -> (H-2, W-2), tile by tile.

    Output tiles are 2x2 and read 4x4 input tiles at a step of 2; when H-2 or W-2 is odd, pad
    the input with zeros at the bottom/right and crop the result.
    """
    # BEGIN SOLUTION: U = filter_transform(g) once; OH, OW = H-2, W-2; zero-pad x at the
    # bottom/right to (2*ceil(OH/2)+2, 2*ceil(OW/2)+2); for each tile origin (2r, 2c) write
    # winograd_tile(xp[2r:2r+4, 2c:2c+4], U) into out[2r:2r+2, 2c:2c+2]; crop out to (OH, OW),
    # dtype x.dtype.
    OH, OW = x.shape[0] - 2, x.shape[1] - 2
    th, tw = -(-OH // 2), -(-OW // 2)
    xp = np.zeros((2 * th + 2, 2 * tw + 2), dtype=x.dtype)
    xp[:x.shape[0], :x.shape[1]] = x
    U = filter_transform(g.astype(x.dtype))
    out = np.empty((2 * th, 2 * tw), dtype=x.dtype)
    for r in range(th):
        for c in range(tw):
            out[2 * r:2 * r + 2, 2 * c:2 * c + 2] = winograd_tile(xp[2 * r:2 * r + 4, 2 * c:2 * c + 4], U)
    return out[:OH, :OW]
    # END SOLUTION

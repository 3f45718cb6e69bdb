"""Central-difference gradient checks.

For a scalar function f, the central difference

    g_i ~ (f(x + eps*e_i) - f(x - eps*e_i)) / (2*eps)

has two error sources that pull eps in opposite directions:

* truncation (the Taylor remainder): about eps**2 / 6 * |f'''|, shrinks as eps shrinks;
* rounding: f is only known to about u*|f| (u = machine epsilon: 1.1e-16 in float64,
  6.0e-8 in float32), and dividing a difference of two such values by 2*eps gives an
  error of about u*|f|/eps, which grows as eps shrinks.

The total is smallest near eps ~ (3*u*|f|/|f'''|)**(1/3): about 1e-5..1e-6 in float64,
where both terms are ~1e-10 relative.  In float32 the same eps leaves a rounding term
of ~6e-8*|f|/1e-5 ~ 1e-2*|f|, so float32 gradient checks cannot reach tight
tolerances.  Everything here therefore evaluates f in float64 unless asked otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validate import check_array
from .conv.backward import conv2d_backward
from .conv.direct import conv2d_direct


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6,
                       *, dtype=np.float64) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``x`` is copied to ``dtype`` (float64 by default) and each element of the copy is
    moved by +eps and -eps in turn; ``f`` is called on the copy, so the caller's array
    is never changed.  ``f`` must return a scalar.  2 * x.size calls of f.

    ``dtype=np.float32`` reproduces a float32 check: the perturbed input and whatever
    f computes from it are float32, and the quotient uses the nominal ``2*eps``.  Use it
    to show how large the error gets (see the module docstring), not to test code.
    Returns the gradient as float64, shape of ``x``.
    """
    x = check_array("x", x)
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    xc = np.array(x, dtype=dtype, copy=True)
    grad = np.empty(xc.shape, dtype=np.float64)
    step = dtype.type(eps)
    for idx in np.ndindex(xc.shape):
        orig = xc[idx]
        xc[idx] = orig + step
        f_plus = f(xc)
        xc[idx] = orig - step
        f_minus = f(xc)
        xc[idx] = orig
        if np.ndim(f_plus) != 0:
            raise ValueError(f"f must return a scalar, got an array of shape {np.shape(f_plus)}")
        # the subtraction happens in f's own precision, as it would in a float32 program
        grad[idx] = float(f_plus - f_minus) / (2.0 * float(step))
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max|a - b| / max(max|a|, max|b|, tiny), in float64.

    One number for a whole tensor, scaled by the tensor's largest entry so that small
    entries (where elementwise relative errors blow up) do not dominate.  ``tiny`` is
    the smallest normal float64, so two all-zero arrays give 0.0 instead of 0/0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: a {a.shape}, b {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max(), np.finfo(np.float64).tiny)
    return float(np.abs(a - b).max() / scale)


@dataclass(frozen=True)
class GradcheckReport:
    """Result of comparing an analytic gradient with a numerical one."""

    max_abs_err: float
    rel_err: float
    tol: float
    passed: bool

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (f"{verdict}: relative error {self.rel_err:.2e} (tol {self.tol:.0e}), "
                f"max abs error {self.max_abs_err:.2e}")


def check_gradient(f: Callable[[np.ndarray], float], grad_f, x: np.ndarray,
                   eps: float = 1e-6, tol: float = 1e-7, *, dtype=np.float64) -> GradcheckReport:
    """Compare ``grad_f`` (an array, or a callable giving one from x) with the numerical gradient of f.

    Passes when :func:`relative_error` <= ``tol``.  With float64 and eps=1e-6, a correct
    gradient typically gives 1e-9..1e-11; a wrong one gives 1e-2 or more.
    """
    analytic = grad_f(np.array(x, copy=True)) if callable(grad_f) else grad_f
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != np.shape(x):
        raise ValueError(f"grad_f has shape {analytic.shape} but x has shape {np.shape(x)}")
    numeric = numerical_gradient(f, x, eps, dtype=dtype)
    rel = relative_error(analytic, numeric)
    return GradcheckReport(float(np.abs(analytic - numeric).max()), rel, tol, bool(rel <= tol))


def gradcheck_conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride=1,
                     padding=0, *, backward=conv2d_backward, forward=conv2d_direct,
                     eps: float = 1e-6, tol: float = 1e-7, seed: int = 0
                     ) -> dict[str, GradcheckReport]:
    """Check ``backward(dy, x, w, stride, padding) -> (dx, dw, db)`` against central differences.

    Everything is cast to float64.  The loss is L = sum(y * r) with a fixed random r
    (so dL/dy = r); a random r instead of ones keeps a kernel flip or a channel swap
    from cancelling out.  Returns reports keyed "x", "w" and (when b is given) "b".
    Meant for tiny shapes: it calls ``forward`` 2 * (x.size + w.size + b.size) times.
    """
    x64 = np.asarray(x, dtype=np.float64)
    w64 = np.asarray(w, dtype=np.float64)
    b64 = None if b is None else np.asarray(b, dtype=np.float64)
    y = forward(x64, w64, b64, stride, padding)
    r = np.random.default_rng(seed).standard_normal(y.shape)
    dx, dw, db = backward(r, x64, w64, stride, padding)

    def loss(**kw) -> float:
        args = {"x": x64, "w": w64, "b": b64, **kw}
        return float(np.sum(forward(args["x"], args["w"], args["b"], stride, padding) * r))

    reports = {"x": check_gradient(lambda v: loss(x=v), dx, x64, eps, tol),
               "w": check_gradient(lambda v: loss(w=v), dw, w64, eps, tol)}
    if b64 is not None:
        reports["b"] = check_gradient(lambda v: loss(b=v), db, b64, eps, tol)
    return reports

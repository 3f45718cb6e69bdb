"""Launch-configuration and argument checks shared by both backends.

A real GPU rejects a bad configuration with a terse ``cudaErrorInvalidConfiguration``; a wrong
argument type is worse: the kernel silently reads garbage. These checks turn both into errors that
name the parameter and say how to fix the call.
"""
from __future__ import annotations

import numbers

import numpy as np

from .errors import ArgumentTypeError, LaunchConfigError
from .signature import KernelSignature, Param

MAX_BLOCK = (1024, 1024, 64)
MAX_THREADS_PER_BLOCK = 1024
MAX_GRID = (2**31 - 1, 65535, 65535)
DEFAULT_SHARED = 48 * 1024          # static + dynamic without an opt-in
MAX_SHARED_OPTIN = 227 * 1024       # sm_90 (H100/H200) per-block maximum with an opt-in


def normalize_dim(what: str, value) -> tuple[int, int, int]:
    """``int`` or tuple of 1-3 ints -> ``(x, y, z)``, each >= 1."""
    vals = (value,) if isinstance(value, numbers.Integral) else value
    if not isinstance(vals, (tuple, list)) or not 1 <= len(vals) <= 3 or \
            not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in vals):
        raise LaunchConfigError(f"{what} must be an int or a tuple of 1-3 ints, got {value!r}")
    vals = tuple(int(v) for v in vals) + (1,) * (3 - len(vals))
    if min(vals) < 1:
        raise LaunchConfigError(f"{what} dimensions must be >= 1, got {vals}")
    return vals  # type: ignore[return-value]


def check_launch(kernel: str, grid: tuple[int, int, int], block: tuple[int, int, int],
                 shared_mem: int, static_shared: int, max_dynamic: int | None) -> None:
    """Raise :class:`LaunchConfigError` for a configuration a CUDA GPU would refuse."""
    nthreads = block[0] * block[1] * block[2]
    if any(b > m for b, m in zip(block, MAX_BLOCK)) or nthreads > MAX_THREADS_PER_BLOCK:
        raise LaunchConfigError(
            f"{kernel}: block {block} has {nthreads} threads; a block may have at most "
            f"{MAX_THREADS_PER_BLOCK} threads and dimensions up to {MAX_BLOCK}")
    if any(g > m for g, m in zip(grid, MAX_GRID)):
        raise LaunchConfigError(f"{kernel}: grid {grid} exceeds the limits {MAX_GRID}")
    if shared_mem < 0:
        raise LaunchConfigError(f"{kernel}: shared_mem must be >= 0 bytes, got {shared_mem}")
    if static_shared > DEFAULT_SHARED:
        raise LaunchConfigError(f"{kernel}: {static_shared} bytes of static __shared__ memory; "
                                f"the limit is {DEFAULT_SHARED} (use dynamic shared memory above it)")
    if max_dynamic is None:
        if static_shared + shared_mem > DEFAULT_SHARED:
            raise LaunchConfigError(
                f"{kernel}: {static_shared} bytes static + {shared_mem} bytes dynamic shared memory "
                f"exceeds the default limit of {DEFAULT_SHARED} bytes; set "
                "kernel.max_dynamic_shared_size_bytes to opt in to more")
    else:
        if static_shared + int(max_dynamic) > MAX_SHARED_OPTIN:
            raise LaunchConfigError(
                f"{kernel}: max_dynamic_shared_size_bytes={max_dynamic} + {static_shared} static "
                f"exceeds the per-block maximum of {MAX_SHARED_OPTIN} bytes")
        if shared_mem > int(max_dynamic):
            raise LaunchConfigError(f"{kernel}: shared_mem={shared_mem} exceeds "
                                    f"max_dynamic_shared_size_bytes={max_dynamic}")


#: The largest device of the course's targets, for the cooperative-launch residency check:
#: (name, SMs, max threads per SM, max blocks per SM, shared memory per SM, reserved per block).
RESIDENCY_DEVICE = ("an H100/H200 (sm_90)", 132, 2048, 32, 228 * 1024, 1024)
#: The smallest (Colab's free T4, sm_75), quoted in the message so a launcher sizes its grid.
SMALL_DEVICE = ("a T4 (sm_75)", 40, 1024, 16, 64 * 1024, 0)
#: The emulator runs every block of a cooperative grid at once, one fiber per thread.
EMULATOR_MAX_COOPERATIVE_THREADS = 16384


def resident_blocks_per_sm(threads: int, smem: int, device=RESIDENCY_DEVICE) -> int:
    """Blocks of ``threads`` threads and ``smem`` bytes of shared memory one SM keeps resident
    (threads, block-slot and shared-memory limits; registers are not modelled)."""
    _, _, max_threads, max_blocks, smem_sm, reserved = device
    fit = min(max_blocks, max_threads // threads)
    if smem:
        fit = min(fit, smem_sm // (smem + reserved))
    return fit


def check_cooperative(kernel: str, grid: tuple[int, int, int], block: tuple[int, int, int],
                      smem: int, emulator: bool) -> None:
    """A cooperative launch needs every block resident at once: refuse a grid no device holds.

    ``smem``: static + dynamic shared memory per block. On the emulator, also refuse a grid whose
    threads (one fiber each, all alive together) exceed :data:`EMULATOR_MAX_COOPERATIVE_THREADS`.
    """
    nblocks = grid[0] * grid[1] * grid[2]
    threads = block[0] * block[1] * block[2]
    name, sms = RESIDENCY_DEVICE[:2]
    per_sm = resident_blocks_per_sm(threads, smem)
    if nblocks > per_sm * sms:
        small = resident_blocks_per_sm(threads, smem, SMALL_DEVICE) * SMALL_DEVICE[1]
        raise LaunchConfigError(
            f"{kernel}: a cooperative launch keeps every block resident, but the grid has {nblocks} "
            f"blocks of {threads} threads and {smem} bytes of shared memory; one SM holds at most "
            f"{per_sm} such block(s), so {name} with {sms} SMs holds {per_sm * sms} "
            f"({SMALL_DEVICE[0]}: {small}). Size the grid from the occupancy (e.g. "
            "cupy's occupancy API or number of SMs x blocks per SM) and loop inside the kernel")
    if emulator and nblocks * threads > EMULATOR_MAX_COOPERATIVE_THREADS:
        raise LaunchConfigError(
            f"{kernel}: the emulator runs a cooperative grid with every thread alive at once; "
            f"{nblocks} blocks x {threads} threads = {nblocks * threads} threads is more than its "
            f"limit of {EMULATOR_MAX_COOPERATIVE_THREADS}; use a smaller grid on the emulator "
            "(a persistent kernel loops over its work, so fewer blocks give the same result)")


def _is_cupy_array(x) -> bool:
    return type(x).__module__.startswith("cupy") and hasattr(x, "__cuda_array_interface__")


def _scalar_hint(p: Param) -> str:
    dt = p.dtype
    return f"np.{dt.name}({p.name})" if dt is not None else p.name


def _check_pointer(kernel: str, p: Param, v, backend: str):
    if v is None:
        return None                        # NULL pointer
    is_np = isinstance(v, np.ndarray)
    if not is_np and not _is_cupy_array(v):
        raise ArgumentTypeError(f"{kernel}: parameter '{p.text}' is a pointer and needs an array, "
                                f"got {type(v).__name__}")
    if not is_np and backend == "emulator":
        raise ArgumentTypeError(f"{kernel}: parameter '{p.name}' got a CuPy array but the emulator "
                                "runs on host memory; pass cupy.asnumpy(x) (or use backend='cupy')")
    if p.pointer > 1:
        raise ArgumentTypeError(f"{kernel}: parameter '{p.text}': pointers to pointers cannot be "
                                "passed from Python")
    want = p.dtype
    if want is not None and v.dtype != want:
        raise ArgumentTypeError(
            f"{kernel}: parameter '{p.text}' needs a {want} array, got dtype {v.dtype} "
            f"(shape {v.shape}); convert with .astype(np.{want.name})")
    if not v.flags.c_contiguous:
        raise ArgumentTypeError(
            f"{kernel}: parameter '{p.name}' got a non-contiguous array (shape {v.shape}, strides "
            f"{v.strides}); the kernel indexes raw memory, so pass np.ascontiguousarray(x)")
    if is_np and not v.flags.writeable and not p.const:
        raise ArgumentTypeError(f"{kernel}: parameter '{p.name}' got a read-only array but the "
                                "kernel may write it (declare it const or pass a copy)")
    return v


def _check_scalar(kernel: str, p: Param, v):
    want = p.dtype
    if want is None:
        raise ArgumentTypeError(f"{kernel}: parameter '{p.text}': struct/unknown by-value parameter "
                                "types are not supported; pass the fields as separate scalars")
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if isinstance(v, np.generic):
        if v.dtype != want:
            raise ArgumentTypeError(
                f"{kernel}: parameter '{p.text}' is {want.itemsize} bytes ({want}), got "
                f"numpy.{v.dtype.name} ({v.dtype.itemsize} bytes); pass {_scalar_hint(p)}")
        return v
    if isinstance(v, (bool, np.bool_)) and want == np.bool_:
        return np.bool_(v)
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        if want.kind in "iu" and want.itemsize == 8:
            return want.type(v)             # CuPy passes a Python int as 8 bytes: same width
        raise ArgumentTypeError(
            f"{kernel}: parameter '{p.text}' is a {want.itemsize}-byte {p.ctype}, but a Python int "
            f"is passed as an 8-byte long long; wrap it: {_scalar_hint(p)}")
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        if want == np.float64:
            return np.float64(v)
        raise ArgumentTypeError(
            f"{kernel}: parameter '{p.text}' is a {want.itemsize}-byte {p.ctype}, but a Python float "
            f"is passed as an 8-byte double; wrap it: {_scalar_hint(p)}")
    raise ArgumentTypeError(f"{kernel}: parameter '{p.text}' needs a scalar ({_scalar_hint(p)}), "
                            f"got {type(v).__name__}")


def check_args(sig: KernelSignature, args: tuple, backend: str) -> list:
    """Check ``args`` against the kernel's C parameters; return them normalised (NumPy scalars of
    the exact width, arrays unchanged)."""
    if len(args) != len(sig.params):
        raise ArgumentTypeError(f"{sig.name} takes {len(sig.params)} argument(s) ({sig}), "
                                f"got {len(args)}")
    out = []
    for p, v in zip(sig.params, args):
        out.append(_check_pointer(sig.name, p, v, backend) if p.pointer
                   else _check_scalar(sig.name, p, v))
    return out

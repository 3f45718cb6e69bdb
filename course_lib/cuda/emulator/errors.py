"""Errors raised when a CUDA kernel is compiled, launched or run (both backends).

Every error is a :class:`KernelError`; the subclasses say *what kind* of mistake it was so a
test can ask for exactly that (``pytest.raises(BarrierDivergenceError)``). Argument and launch
mistakes also derive from ``TypeError`` / ``ValueError``, as the project's input checks do.
"""
from __future__ import annotations


class KernelError(RuntimeError):
    """Base class of every error from :mod:`course_lib.cuda`."""


class CompileError(KernelError):
    """The kernel source did not compile (g++ for the emulator, NVRTC for CuPy); message has the log."""


class UnsupportedFeatureError(KernelError):
    """The source uses a feature the CPU emulator cannot run (message starts "needs a real GPU: ...")."""


class LaunchConfigError(KernelError, ValueError):
    """Grid, block or shared-memory size outside what a CUDA GPU accepts."""


class CooperativeLaunchError(LaunchConfigError):
    """``this_grid().sync()`` in a kernel that was not launched cooperatively
    (``RawKernel(..., enable_cooperative_groups=True)``)."""


class ArgumentTypeError(KernelError, TypeError):
    """A kernel argument has the wrong type, dtype, layout or count for its C parameter."""


class BarrierDivergenceError(KernelError):
    """Threads of one block wait at different ``__syncthreads`` calls (message names file:line)."""


class DeadlockError(KernelError):
    """Threads wait at a barrier that can never be released (e.g. other threads already returned)."""


class WarpSyncError(KernelError):
    """A warp operation (``__shfl_*_sync``, ``__ballot_sync``, ``__syncwarp`` ...) whose mask names a
    live lane that waits somewhere else, or a shuffle that reads a lane not taking part (exited,
    absent or outside the mask: an undefined value on a GPU)."""


class KernelFaultError(KernelError):
    """The kernel crashed: invalid memory access (segfault), stack overflow, ``__trap()`` or a failed
    device ``assert``. Rerun with ``sanitizer="address"`` to get the exact line of a bad access."""


class SanitizerError(KernelError):
    """AddressSanitizer or ThreadSanitizer found a bug (out-of-bounds access, data race); the message
    holds the summarised report naming the kernel and the source line."""


__all__ = ["KernelError", "CompileError", "UnsupportedFeatureError", "LaunchConfigError",
           "CooperativeLaunchError",
           "ArgumentTypeError", "BarrierDivergenceError", "DeadlockError", "WarpSyncError",
           "KernelFaultError", "SanitizerError"]

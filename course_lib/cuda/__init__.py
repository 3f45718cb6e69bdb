"""CUDA C kernels launched through CuPy on a GPU, or through the CPU SIMT emulator elsewhere.

The API has the shape of CuPy's ``RawModule`` / ``RawKernel`` so learner code carries over::

    from course_lib import cuda
    mod = cuda.load_module("matmul_tiled.cu")       # a runtime example, course_lib/cuda/examples/
    matmul = mod.get_function("matmul_tiled")
    matmul((grid_x, grid_y), (16, 16), (A, B, C, np.int32(M), np.int32(N), np.int32(K)))

Course kernels live beside the rest of their ladder, in ``<package>/kernels/``, and are found with
``cuda.load_module("conv2d_naive.cu", package="course_lib.conv")`` (or by absolute path).

Signatures
----------
``RawModule(code=None, *, path=None, options=(), backend=None, enable_cooperative_groups=False,
name_expressions=None, **emulator_options)``
    ``code`` (CUDA C source text) or ``path`` (a ``.cu`` file); ``options`` are compiler options
    passed to NVRTC on the CuPy backend (``-D``/``-I`` options are also honoured by the emulator).
    ``module.get_function(name) -> RawKernel``; ``module.kernel_names`` lists the ``__global__``
    functions found in the source. ``name_expressions=["reduce<float, 256>"]`` instantiates template
    kernels, then ``get_function("reduce<float, 256>")`` (the same string), as in CuPy;
    ``module.get_global("coeffs")`` is a file-scope ``__constant__`` / ``__device__`` variable as an
    array to write into before a launch (and read after it).
``RawKernel(code, name, options=(), backend=None, *, enable_cooperative_groups=False,
**emulator_options)``
    one kernel out of ``code``. ``enable_cooperative_groups=True`` launches cooperatively: every
    block resident at once, so ``cooperative_groups::this_grid().sync()`` works (the emulator runs
    all blocks together; a grid larger than an H100/H200 holds is refused with the numbers).
``kernel(grid, block, args, shared_mem=0)``
    ``grid`` / ``block``: int or tuple of 1-3 ints; ``args``: tuple of arrays (NumPy, or CuPy on the
    CuPy backend) and NumPy scalars matching the C parameter types (``np.int32(n)`` for ``int``,
    ``np.float32(x)`` for ``float``); ``shared_mem``: bytes of dynamic (``extern __shared__``) memory.
    Arrays are modified in place on both backends (NumPy arrays given to the CuPy backend are copied
    to the device and back). ``kernel.max_dynamic_shared_size_bytes`` opts in to more than 48 KiB of
    shared memory, as in CuPy.

``backend``: ``"cupy"`` (needs CuPy and a CUDA device), ``"emulator"``, or ``None`` = CuPy when a
GPU is present, else the emulator (:func:`default_backend`). The environment variable
``COURSE_LIB_CUDA_BACKEND`` overrides the ``None`` choice.

Emulator options (keywords of ``RawModule`` / ``RawKernel``; ignored by the CuPy backend)
------------------------------------------------------------------------------------------
``schedule="forward" | "reverse" | "random"``
    order in which the threads of a block run between two synchronisation points (and the order of
    blocks). A kernel without races gives the same answer under every schedule; a missing
    ``__syncthreads`` usually does not.
``seed=0``
    seed of the ``"random"`` schedule.
``sanitizer=None | "address" | "thread"``
    ``"address"``: AddressSanitizer build run in a subprocess; an out-of-bounds access on a kernel
    argument or dynamic shared memory raises :class:`SanitizerError` naming kernel and line.
    ``"thread"``: ThreadSanitizer build, every CUDA thread a TSan fiber and only barriers / warp
    operations synchronising, so a missing ``__syncthreads`` is reported as a data race.
``workers=None``
    OS threads that run blocks in parallel (default ``min(2, os.cpu_count())``).
``opt_level=2``
    g++ optimisation level of the emulator build.

When NVRTC is installed, the emulator first runs NVRTC's front end on the source (cached per
source): what the GPU's compiler refuses (``atomicMax`` on ``float*``, host headers ...) is refused
with NVRTC's message (``COURSE_LIB_NVRTC_CHECK=0`` turns this off). The ``"address"`` build also
bounds-checks static ``__shared__`` arrays and ``__constant__`` / ``__device__`` variables.

Errors are :class:`KernelError` subclasses: :class:`CompileError`, :class:`UnsupportedFeatureError`
("needs a real GPU: ..." for inline PTX, ``cp.async``, TMA, clusters ...),
:class:`LaunchConfigError` (:class:`CooperativeLaunchError`: a grid sync without a cooperative
launch), :class:`ArgumentTypeError`, :class:`BarrierDivergenceError`, :class:`DeadlockError`,
:class:`WarpSyncError`, :class:`KernelFaultError`, :class:`SanitizerError`.

CUDA features the emulator runs besides the core language: warp intrinsics under CUDA's rules
(only non-exited lanes named in a mask take part; a read from an inactive lane is reported),
``<cooperative_groups.h>`` (blocks, ``tiled_partition<N>`` tiles up to 32, ``coalesced_threads``,
``cg::reduce`` / scans, ``this_grid().sync()``), template kernels and ``__constant__`` memory.
"""
from .emulator.errors import (ArgumentTypeError, BarrierDivergenceError, CompileError,
                              CooperativeLaunchError, DeadlockError, KernelError, KernelFaultError,
                              LaunchConfigError, SanitizerError, UnsupportedFeatureError,
                              WarpSyncError)
from .runtime import (EXAMPLES_DIR, RawKernel, RawModule, default_backend, gpu_available,
                      kernel_path, load_module)

__all__ = ["RawModule", "RawKernel", "load_module", "kernel_path", "EXAMPLES_DIR",
           "gpu_available", "default_backend",
           "KernelError", "CompileError", "UnsupportedFeatureError", "LaunchConfigError",
           "CooperativeLaunchError",
           "ArgumentTypeError", "BarrierDivergenceError", "DeadlockError", "WarpSyncError",
           "KernelFaultError", "SanitizerError"]

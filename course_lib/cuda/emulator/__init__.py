"""CPU SIMT emulator: runs CUDA C kernels on the CPU, one fiber per CUDA thread.

* :mod:`.signature` parses ``__global__`` parameter lists, :mod:`.checks` validates launches;
* :mod:`.build` compiles a ``.cu`` source with g++ (``-include simt.h``) into a cached shared library;
* :mod:`.module` loads it with ctypes and launches kernels in-process;
* :mod:`.sanitize` runs AddressSanitizer / ThreadSanitizer builds in a subprocess.

``simt.h`` (the CUDA device API on the CPU) and ``simt_runtime.cpp`` (fibers, barriers, warp
operations, block scheduling) are the C++ side.
"""

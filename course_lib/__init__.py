"""course_lib: every implementation the course shows, from NumPy loops to GPU kernels.

Sub-packages follow the book's sections:

* :mod:`course_lib.conv` -- 2-D convolution (16.1 forward/backward, 16.2 fast algorithms)
* :mod:`course_lib.gradcheck` -- central-difference gradient checks
* :mod:`course_lib.cuda` -- CUDA C kernels launched through CuPy or the CPU SIMT emulator
* :mod:`course_lib.grade` / :mod:`course_lib.release` -- the autograder and the student bundle

Conventions everywhere: NCHW tensors, PyTorch weight layouts, float32/float64 preserved.
"""

__version__ = "0.1.0"

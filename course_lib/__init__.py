"""course_lib: every implementation the course shows, from NumPy loops to GPU kernels.

Sub-packages follow the book's sections:

* :mod:`course_lib.conv` -- 2-D convolution (16.1 forward/backward, 16.2 fast algorithms)
* :mod:`course_lib.rnn` -- LSTM and GRU cells and layers with BPTT, and their fused kernels (16.3)
* :mod:`course_lib.attention` -- attention, multi-head attention, the Transformer encoder layer
  (16.4), FlashAttention, grouped-query attention and the KV cache (16.5), with their kernels
* :mod:`course_lib.gradcheck` -- central-difference gradient checks
* :mod:`course_lib.cuda` -- the kernel runtime: CuPy on a GPU, the CPU SIMT emulator elsewhere
* :mod:`course_lib.bench` -- the benchmark harness (timing, memory, machine record, plots)
* :mod:`course_lib.grade` / :mod:`course_lib.release` -- the autograder and the student bundle

Conventions everywhere: NCHW tensors, PyTorch weight layouts, float32/float64 preserved.
"""

__version__ = "0.1.0"

"""2-D convolution, NCHW, PyTorch weight layout (C_out, C_in, KH, KW)."""
from .naive import conv2d_naive, pad_hw
from .direct import conv2d_direct, window_slice
from .backward import conv2d_backward
from .backward_naive import (conv2d_backward_naive, dilate, pad_or_crop_hw, rot180,
                             swap_channels, transposed_padding)
from .layer import Conv2d
# 16.2: fast algorithms and the algorithm choice
from .im2col import col2im, conv2d_im2col, conv2d_im2col_backward, im2col
from .winograd import conv2d_winograd
from .fft import conv2d_fft
from .dispatch import conv2d, explain

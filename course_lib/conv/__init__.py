"""2-D convolution, NCHW, PyTorch weight layout (C_out, C_in, KH, KW)."""
from .naive import conv2d_naive, pad_hw
from .direct import conv2d_direct, window_slice
from .backward import conv2d_backward
from .backward_naive import (conv2d_backward_naive, dilate, pad_or_crop_hw, rot180,
                             swap_channels, transposed_padding)
from .layer import Conv2d

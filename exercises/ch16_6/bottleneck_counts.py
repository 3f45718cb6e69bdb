"""Exercise 16.6b -- parameters and multiply-accumulates of a ResNet bottleneck block.

ResNet-50 is 16 bottleneck blocks between a stem and a classifier.  One block with
input channels ``c_in``, inner width ``width`` and stride ``s`` (the layout of
torchvision's ``Bottleneck``, "ResNet v1.5": the stride sits on the 3x3 conv) is

    conv1  1x1, c_in  -> width,       stride 1, no bias    then BatchNorm(width)
    conv2  3x3, width -> width,       stride s, padding 1, no bias, then BatchNorm(width)
    conv3  1x1, width -> 4 * width,   stride 1, no bias    then BatchNorm(4 * width)
    shortcut: identity when s == 1 and c_in == 4 * width; otherwise a projection
              1x1 conv c_in -> 4 * width with stride s, no bias, then BatchNorm(4 * width)

(ReLUs and the residual addition have no parameters.)

1. ``bottleneck_params(c_in, width, stride)``: the number of trainable parameters, an
   int.  A BatchNorm over C channels has 2 C (its weight and bias); its running mean and
   variance are buffers, not parameters, and are not counted.
2. ``bottleneck_macs(c_in, width, stride, h, w)``: multiply-accumulates of the block's
   convolutions for ONE image of h x w pixels (batch 1), an int.  Convention: only the
   convolutions count (one MAC per weight per output position: a k x k conv from C_i to
   C_o channels with an OH x OW output does C_o * OH * OW * C_i * k * k); BatchNorm,
   ReLU and the addition are left out (they are O(output size), not O(weights x size)).
   Output size of a conv with kernel k, stride s, padding q: ``(h + 2 q - k) // s + 1``.
   FLOP counters (``torch.utils.flop_counter``) report 2 FLOPs per MAC.

Raise ``ValueError`` naming the argument and its value when any argument is < 1.
Plain NumPy (or plain Python) only.
"""
from __future__ import annotations

EXPANSION = 4  # conv3 expands the width by 4 (torchvision's Bottleneck.expansion)


def bottleneck_params(c_in, width, stride=1):
    """Trainable parameters of one bottleneck block (conv weights + BatchNorm weight/bias)."""
    # BEGIN SOLUTION: check c_in, width, stride >= 1 (ValueError naming it); out = 4 * width;
    # convs: c_in*width + 9*width*width + width*out; BatchNorms: 2*(width + width + out);
    # plus c_in*out + 2*out for the projection when stride != 1 or c_in != out. Return an int.
    _check_positive(c_in=c_in, width=width, stride=stride)
    out = EXPANSION * width
    n = c_in * width + 9 * width * width + width * out      # the three conv weights
    n += 2 * (width + width + out)                           # BN weight and bias
    if stride != 1 or c_in != out:
        n += c_in * out + 2 * out                            # projection conv + its BN
    return int(n)
    # END SOLUTION


def bottleneck_macs(c_in, width, stride, h, w):
    """Multiply-accumulates of the block's convolutions for one h x w image (batch 1)."""
    # BEGIN SOLUTION: check all five >= 1 (ValueError naming it); conv1 runs at h x w;
    # conv2 (3x3, pad 1, stride s) and the projection (1x1, pad 0, stride s) both give
    # oh = (h - 1) // s + 1, ow = (w - 1) // s + 1; MACs = h*w*c_in*width + oh*ow*(9*width*width
    # + width*4*width) + oh*ow*c_in*4*width if there is a projection. Return an int.
    _check_positive(c_in=c_in, width=width, stride=stride, h=h, w=w)
    out = EXPANSION * width
    oh, ow = (h + 2 - 3) // stride + 1, (w + 2 - 3) // stride + 1
    macs = h * w * c_in * width                  # conv1 at the input resolution
    macs += oh * ow * 9 * width * width          # conv2 at the strided resolution
    macs += oh * ow * width * out                # conv3
    if stride != 1 or c_in != out:
        macs += oh * ow * c_in * out             # projection: 1x1 stride s, same oh x ow
    return int(macs)
    # END SOLUTION


def _check_positive(**values):
    """ValueError naming the first argument that is not an integer >= 1."""
    # BEGIN SOLUTION: for each name, value: if value is not a whole number >= 1, raise
    # ValueError(f"{name} must be an integer >= 1, got {value!r}").
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {name}={value!r}")
    # END SOLUTION

"""Public tests for bottleneck_counts.py: the counts must equal those of the same block built
from torch.nn modules (sum of p.numel(); torch's FlopCounterMode, 2 FLOPs per MAC)."""
import numbers

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_lib.grading import (GradingFailure, assert_self_contained, exercise_path,
                                submission_fixture)

sub = submission_fixture("bottleneck_counts")

# the first FlopCounterMode use loads torch's tracing machinery (seconds): pay that while this
# file is collected, not inside a test's time limit
with FlopCounterMode(display=False):
    torch.ones(1, 1) @ torch.ones(1, 1)


class Block(nn.Module):
    """torchvision's Bottleneck layout (stride on the 3x3), written out here."""

    def __init__(self, c_in, width, stride):
        super().__init__()
        out = 4 * width
        self.body = nn.Sequential(
            nn.Conv2d(c_in, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out))
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out))

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def torch_counts(c_in, width, stride, h, w):
    """(parameters, MACs) of the torch block for one (c_in, h, w) image."""
    block = Block(c_in, width, stride).eval()
    params = sum(p.numel() for p in block.parameters())
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        block(torch.zeros(1, c_in, h, w))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return params, flops // 2


def check_count(name, got, expected, case, hint):
    if isinstance(got, bool) or not isinstance(got, (numbers.Integral, np.integer)):
        raise GradingFailure(f"case {case}: {name} should be an int, got {type(got).__name__} "
                             f"{got!r}", "wrong type")
    if got != expected:
        raise GradingFailure(f"case {case}: {name} is {got}, expected {expected} "
                             f"(off by {got - expected:+d}); hint: {hint}", "wrong values")


# (c_in, width, stride): identity shortcut; projection for the stride; projection for the
# channels only (the first block of ResNet-50's first stage)
BLOCKS = [(256, 64, 1), (256, 128, 2), (64, 64, 1)]


@pytest.mark.points(0)
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "bottleneck_counts"))


@pytest.mark.points(1)
@pytest.mark.parametrize("c_in,width,stride", BLOCKS, ids=["identity", "stride2", "channels"])
def test_params_match_torch(sub, c_in, width, stride):
    ref, _ = torch_counts(c_in, width, stride, 4, 4)
    check_count("bottleneck_params", sub.bottleneck_params(c_in, width, stride), ref,
                f"c_in={c_in} width={width} stride={stride}",
                "conv weights + 2 per BatchNorm channel; projection when stride != 1 or "
                "c_in != 4*width")


@pytest.mark.points(2)
@pytest.mark.parametrize("c_in,width,stride", BLOCKS, ids=["identity", "stride2", "channels"])
def test_macs_match_flop_counter(sub, c_in, width, stride):
    h, w = 8, 6  # non-square: h and w must not be swapped or assumed equal
    _, ref = torch_counts(c_in, width, stride, h, w)
    check_count("bottleneck_macs", sub.bottleneck_macs(c_in, width, stride, h, w), ref,
                f"c_in={c_in} width={width} stride={stride} h={h} w={w}",
                "conv1 runs at h x w, conv2, conv3 and the projection at the strided size")

"""Hidden tests for bottleneck_counts.py."""
import numbers

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_lib.grading import GradingFailure, submission_fixture

sub = submission_fixture("bottleneck_counts")

# the first FlopCounterMode use loads torch's tracing machinery (seconds): pay that while this
# file is collected, not inside a test's time limit
with FlopCounterMode(display=False):
    torch.ones(1, 1) @ torch.ones(1, 1)


class Bottleneck(nn.Module):
    def __init__(self, c_in, width, stride):
        super().__init__()
        out = 4 * width
        self.c1, self.n1 = nn.Conv2d(c_in, width, 1, bias=False), nn.BatchNorm2d(width)
        self.c2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.n2 = nn.BatchNorm2d(width)
        self.c3, self.n3 = nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out)
        self.proj = None
        if stride != 1 or c_in != out:
            self.proj = nn.Sequential(nn.Conv2d(c_in, out, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(out))

    def forward(self, x):
        y = self.n3(self.c3(torch.relu(self.n2(self.c2(torch.relu(self.n1(self.c1(x))))))))
        return torch.relu(y + (x if self.proj is None else self.proj(x)))


def counts(c_in, width, stride, h, w):
    """(params, MACs, output) of the block on the meta device (shapes only, no memory)."""
    with torch.device("meta"):
        block = Bottleneck(c_in, width, stride).eval()
        x = torch.zeros(1, c_in, h, w)
    with FlopCounterMode(display=False) as counter:
        y = block(x)
    return sum(p.numel() for p in block.parameters()), counter.get_total_flops() // 2, y


def check(got, ref):
    if isinstance(got, bool) or not isinstance(got, numbers.Integral) or got != ref:
        raise GradingFailure(f"got {got!r}", "wrong values")


@pytest.mark.points(1)
@pytest.mark.parametrize("h,w", [(7, 7), (15, 9)])
def test_odd_sizes_with_stride_2(sub, h, w):
    _, macs, _ = counts(512, 256, 2, h, w)
    check(sub.bottleneck_macs(512, 256, 2, h, w), macs)


@pytest.mark.points(2)
def test_resnet50_body(sub):
    """The 16 blocks of ResNet-50 at 224x224 (56x56 after the stem), summed."""
    params = macs = ref_params = ref_macs = 0
    c_in, size = 64, 56
    for width, n_blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(n_blocks):
            s = stride if i == 0 else 1
            params += sub.bottleneck_params(c_in, width, s)
            macs += sub.bottleneck_macs(c_in, width, s, size, size)
            p, m, y = counts(c_in, width, s, size, size)
            ref_params, ref_macs = ref_params + p, ref_macs + m
            c_in, size = y.shape[1], y.shape[2]
    check(params, ref_params)
    check(macs, ref_macs)


@pytest.mark.points(1)
@pytest.mark.parametrize("args", [(0, 64, 1, 8, 8), (64, 64, 0, 8, 8), (64, 64, 1, 8, -1)])
def test_non_positive_raise(sub, args):
    with pytest.raises(ValueError):
        sub.bottleneck_macs(*args)

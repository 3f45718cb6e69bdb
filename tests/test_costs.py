"""conv2d_cost against independent references: PyTorch's FLOP counter, its parameter
count and its output shape, and a brute-force count of the naive loop's products."""
import numpy as np
import pytest

from course_lib.costs import conv2d_cost, si

torch = pytest.importorskip("torch")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

CASES = [  # batch, c_in, c_out, kernel, in_hw, stride, padding
    (2, 3, 4, 3, (9, 7), 1, 0),
    (1, 2, 5, (3, 2), (8, 11), (2, 3), (1, 0)),
    (3, 4, 2, 5, 12, 2, 2),
    (1, 1, 1, 1, 1, 1, 0),
]


@pytest.mark.parametrize("case", CASES)
def test_matches_torch(case):
    batch, c_in, c_out, k, hw, s, p = case
    conv = torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p, bias=False)
    hw2 = hw if isinstance(hw, tuple) else (hw, hw)
    x = torch.zeros(batch, c_in, *hw2)
    with FlopCounterMode(display=False) as counter:
        y = conv(x)
    cost = conv2d_cost(batch, c_in, c_out, k, hw, s, p, bias=False)
    assert cost.flops == counter.get_total_flops()      # torch counts 2 FLOPs per MAC
    assert cost.macs * 2 == cost.flops
    assert cost.out_hw == tuple(y.shape[2:])
    assert cost.output_elems == y.numel() and cost.input_elems == x.numel()
    assert cost.params == sum(t.numel() for t in conv.parameters())
    with_bias = torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p, bias=True)
    cost_b = conv2d_cost(batch, c_in, c_out, k, hw, s, p, bias=True)
    assert cost_b.params == sum(t.numel() for t in with_bias.parameters())
    assert cost_b.flops == cost.flops + y.numel()       # one add per output for the bias


def test_macs_equal_products_of_a_loop():
    """Count the multiplications a loop over the definition really performs."""
    batch, c_in, c_out, k, h, s, p = 2, 3, 2, 3, 7, 2, 1
    xp = np.ones((batch, c_in, h + 2 * p, h + 2 * p))
    oh = (h + 2 * p - k) // s + 1
    products = 0
    for _n in range(batch):
        for _co in range(c_out):
            for i in range(oh):
                for j in range(oh):
                    products += xp[0, :, i * s:i * s + k, j * s:j * s + k].size
    assert conv2d_cost(batch, c_in, c_out, k, h, s, p).macs == products


def test_resnet18_conv1():
    cost = conv2d_cost(32, 3, 64, 7, 224, stride=2, padding=3, bias=False)
    assert cost.out_hw == (112, 112)
    assert cost.macs == 32 * 64 * 3 * 7 * 7 * 112 * 112
    assert cost.params == 9408
    assert si(cost.macs, "MAC") == "3.78 GMAC"
    assert cost.seconds_at(cost.flops) == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(batch=0), ValueError, "batch"),
    (dict(c_in=2.0), ValueError, "c_in"),
    (dict(stride=0), ValueError, "stride"),
    (dict(padding=-1), ValueError, "padding"),
    (dict(kernel_size=9), ValueError, "larger"),
    (dict(in_hw="8"), TypeError, "in_hw"),
])
def test_bad_input(kwargs, exc, word):
    args = dict(batch=1, c_in=1, c_out=1, kernel_size=3, in_hw=6, stride=1, padding=0)
    args.update(kwargs)
    with pytest.raises(exc, match=word):
        conv2d_cost(**args)


def test_seconds_at_rejects_zero():
    with pytest.raises(ValueError, match="flop_per_s"):
        conv2d_cost(1, 1, 1, 1, 1).seconds_at(0)


def test_si():
    assert si(7.552892928e9, "FLOP") == "7.55 GFLOP"
    assert si(118e6, "MAC") == "118 MMAC"
    assert si(12, "B") == "12 B"

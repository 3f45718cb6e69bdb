"""Forward convolution (naive loops and offset-vectorized direct) against torch.nn.functional.conv2d."""
import numpy as np
import pytest

from conv_cases import CASES, Case, assert_close, torch_forward_backward
from course_lib.conv import Conv2d, conv2d_direct, conv2d_naive

IMPLS = [conv2d_naive, conv2d_direct]
DTYPES = [np.float32, np.float64]


def test_cases_cover_the_corners():
    # the generator must actually produce the situations the suite claims to test
    assert len(CASES) >= 40
    assert any(c.leftover != (0, 0) for c in CASES)
    assert any(c.leftover != (0, 0) and c.pairs()[1] != (0, 0) for c in CASES)
    assert any(isinstance(c.stride, tuple) and c.stride[0] != c.stride[1] for c in CASES)
    assert any(c.KH != c.KW for c in CASES) and any(c.H != c.W for c in CASES)
    assert any(c.KH == c.KW == 1 for c in CASES) and any(not c.bias for c in CASES)
    assert any(c.B == 1 for c in CASES) and any(c.C_in == 1 for c in CASES)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("impl", IMPLS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward_matches_torch(case: Case, impl, dtype):
    x, w, b = case.arrays(dtype)
    y = impl(x, w, b, case.stride, case.padding)
    ref = torch_forward_backward(x, w, b, case.stride, case.padding)
    assert y.dtype == dtype
    assert y.shape == ref.shape
    assert_close(y, ref, dtype, str(case))


@pytest.mark.parametrize("impl", IMPLS, ids=lambda f: f.__name__)
def test_inputs_not_mutated(impl):
    x, w, b = Case(2, 3, 2, 6, 5, 3, 2, 2, 1).arrays(np.float64)
    copies = [a.copy() for a in (x, w, b)]
    impl(x, w, b, 2, 1)
    for a, c in zip((x, w, b), copies):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda f: f.__name__)
def test_non_contiguous_inputs(impl):
    rng = np.random.default_rng(5)
    # x: a transposed view with step slicing; w: a transposed view; b: a strided slice
    x = rng.standard_normal((2, 11, 3, 16)).transpose(0, 2, 1, 3)[:, :, ::2, ::3]
    w = rng.standard_normal((3, 2, 2, 4)).transpose(1, 0, 3, 2)
    b = rng.standard_normal(4)[::2]
    assert not (x.flags.c_contiguous or w.flags.c_contiguous or b.flags.c_contiguous)
    y = impl(x, w, b, (2, 1), (1, 0))
    ref = torch_forward_backward(np.ascontiguousarray(x), np.ascontiguousarray(w),
                                 np.ascontiguousarray(b), (2, 1), (1, 0))
    assert_close(y, ref, np.float64)


def test_direct_on_a_larger_input():
    # a size where the naive loops would be slow: the vectorized path must still be exact
    x, w, b = Case(4, 16, 32, 28, 28, 3, 3, 2, 1).arrays(np.float32)
    assert_close(conv2d_direct(x, w, b, 2, 1), torch_forward_backward(x, w, b, 2, 1), np.float32)


@pytest.mark.parametrize("algo", ["direct", "naive"])
def test_layer_forward_matches_torch_module(algo):
    import torch
    layer = Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1, dtype=np.float64, seed=7, algo=algo)
    ref = torch.nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.weight))
        ref.bias.copy_(torch.tensor(layer.bias))
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    y = layer(x)
    assert_close(y, ref(torch.tensor(x)).detach().numpy(), np.float64)


def test_layer_init_like_pytorch():
    c_in, kh, kw = 8, 3, 5
    bound = 1 / np.sqrt(c_in * kh * kw)
    layer = Conv2d(c_in, 64, (kh, kw), seed=0)
    assert layer.weight.shape == (64, c_in, kh, kw) and layer.bias.shape == (64,)
    assert layer.weight.dtype == np.float32
    assert np.abs(layer.weight).max() <= bound and np.abs(layer.bias).max() <= bound
    # uniform on [-bound, bound]: standard deviation bound / sqrt(3); 7680 draws -> ~1% noise
    assert abs(layer.weight.std() / (bound / np.sqrt(3)) - 1) < 0.05
    # PyTorch's default init draws from the same distribution
    import torch
    torch.manual_seed(0)
    tw = torch.nn.Conv2d(c_in, 64, (kh, kw)).weight.detach().numpy()
    assert abs(tw.std() / layer.weight.std() - 1) < 0.05
    np.testing.assert_array_equal(layer.weight, Conv2d(c_in, 64, (kh, kw), seed=0).weight)
    assert not np.array_equal(layer.weight, Conv2d(c_in, 64, (kh, kw), seed=1).weight)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(Conv2d(2, 2, 3, rng=rng).weight,
                                  Conv2d(2, 2, 3, rng=np.random.default_rng(3)).weight)
    assert Conv2d(2, 2, 3, bias=False).bias is None

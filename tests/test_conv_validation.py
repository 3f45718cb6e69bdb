"""Bad input raises TypeError/ValueError naming the argument and the shapes."""
import numpy as np
import pytest

from course_lib.conv import (Conv2d, conv2d_backward, conv2d_backward_naive, conv2d_direct,
                             conv2d_naive)

FORWARD = [conv2d_naive, conv2d_direct]
BACKWARD = [conv2d_backward, conv2d_backward_naive]

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3, 6, 5))
W = rng.standard_normal((4, 3, 3, 3))
Bv = rng.standard_normal(4)
DY = rng.standard_normal((2, 4, 4, 3))  # output of X, W with stride 1, padding 0


def _forward_call(impl, x=X, w=W, b=Bv, stride=1, padding=0):
    return impl(x, w, b, stride, padding)


# (kwargs replacing the defaults, error type, regex the message must match)
FORWARD_BAD = {
    "x_3d": (dict(x=X[0]), ValueError, r"x must be 4-D.*\(3, 6, 5\)"),
    "w_5d": (dict(w=W[None]), ValueError, r"w must be 4-D.*\(1, 4, 3, 3, 3\)"),
    "b_2d": (dict(b=Bv[:, None]), ValueError, r"b must be 1-D.*\(4, 1\)"),
    "b_len": (dict(b=Bv[:3]), ValueError, r"b has shape \(3,\).*C_out=4"),
    "channels": (dict(w=W[:, :2]), ValueError, r"channel mismatch.*C_in=3.*\(2, 3, 6, 5\).*C_in=2"),
    "kernel_big": (dict(w=rng.standard_normal((4, 3, 7, 3))), ValueError,
                   r"kernel 7x3.*larger than the padded input 6x5"),
    "kernel_big_w": (dict(w=rng.standard_normal((4, 3, 3, 8)), padding=1), ValueError,
                     r"larger than the padded input 8x7"),
    "stride0": (dict(stride=0), ValueError, r"stride must be >= 1"),
    "stride_neg": (dict(stride=(1, -2)), ValueError, r"stride must be >= 1"),
    "stride_float": (dict(stride=1.0), TypeError, r"stride must be an int"),
    "padding_neg": (dict(padding=-1), ValueError, r"padding must be >= 0"),
    "padding_triple": (dict(padding=(1, 1, 1)), TypeError, r"padding must be an int or a pair"),
    "x_int": (dict(x=X.astype(np.int64)), TypeError, r"x must be float32 or float64.*int64.*\(2, 3, 6, 5\)"),
    "x_complex": (dict(x=X.astype(np.complex128)), TypeError, r"x must be float32 or float64.*complex128"),
    "w_bool": (dict(w=W > 0), TypeError, r"w must be float32 or float64.*bool"),
    "x_float16": (dict(x=X.astype(np.float16)), TypeError, r"x must be float32 or float64.*float16"),
    "mixed": (dict(x=X.astype(np.float32)), TypeError, r"dtypes differ.*x: float32.*w: float64"),
    "b_mixed": (dict(b=Bv.astype(np.float32)), TypeError, r"dtypes differ.*b: float32"),
    "x_nan": (dict(x=np.where(X > 1.5, np.nan, X)), ValueError, r"x \(shape \(2, 3, 6, 5\)\) contains \d+ NaN"),
    "w_inf": (dict(w=np.full_like(W, np.inf)), ValueError, r"w \(shape .*\) contains 108 NaN/inf"),
    "x_list": (dict(x=X.tolist()), TypeError, r"x must be a numpy.ndarray, got list"),
    "w_torch": (dict(w="weights"), TypeError, r"w must be a numpy.ndarray, got str"),
}


@pytest.mark.parametrize("impl", FORWARD, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", list(FORWARD_BAD))
def test_forward_rejects(impl, name):
    kwargs, err, pattern = FORWARD_BAD[name]
    with pytest.raises(err, match=pattern):
        _forward_call(impl, **kwargs)


def _backward_call(impl, dy=DY, x=X, w=W, stride=1, padding=0):
    return impl(dy, x, w, stride, padding)


BACKWARD_BAD = {
    "dy_shape": (dict(dy=DY[:, :, :3]), ValueError, r"dy has shape \(2, 4, 3, 3\).*is \(2, 4, 4, 3\)"),
    "dy_stride": (dict(stride=2), ValueError, r"dy has shape \(2, 4, 4, 3\).*stride \(2, 2\).*\(2, 4, 2, 2\)"),
    "dy_3d": (dict(dy=DY[0]), ValueError, r"dy must be 4-D.*\(4, 4, 3\)"),
    "dy_dtype": (dict(dy=DY.astype(np.float32)), TypeError, r"dtypes differ.*dy: float32"),
    "dy_int": (dict(dy=DY.astype(np.int32)), TypeError, r"dy must be float32 or float64"),
    "dy_nan": (dict(dy=np.full_like(DY, np.nan)), ValueError, r"dy .* contains 96 NaN"),
    "dy_list": (dict(dy=DY.tolist()), TypeError, r"dy must be a numpy.ndarray"),
    "channels": (dict(w=W[:, :2]), ValueError, r"channel mismatch"),
    "stride0": (dict(stride=0), ValueError, r"stride must be >= 1"),
    "padding_neg": (dict(padding=(0, -1)), ValueError, r"padding must be >= 0"),
    "kernel_big": (dict(w=rng.standard_normal((4, 3, 3, 6))), ValueError, r"larger than the padded input"),
}


@pytest.mark.parametrize("impl", BACKWARD, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", list(BACKWARD_BAD))
def test_backward_rejects(impl, name):
    kwargs, err, pattern = BACKWARD_BAD[name]
    with pytest.raises(err, match=pattern):
        _backward_call(impl, **kwargs)


def test_good_call_passes():
    # the fixtures above are valid except for the one changed argument
    for impl in FORWARD:
        assert _forward_call(impl).shape == (2, 4, 4, 3)
    for impl in BACKWARD:
        assert [a.shape for a in _backward_call(impl)] == [X.shape, W.shape, Bv.shape]


def test_layer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        Conv2d(1, 1, 0)
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        Conv2d(0, 1, 3)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        Conv2d(1, 1, 3, stride=0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        Conv2d(1, 1, 3, dtype=np.int32)
    with pytest.raises(ValueError, match="algo"):
        Conv2d(1, 1, 3, algo="fft")
    layer = Conv2d(3, 2, 3, seed=0)
    with pytest.raises(ValueError, match="channel mismatch"):
        layer(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(TypeError, match="dtypes differ"):
        layer(np.zeros((1, 3, 5, 5), np.float64))

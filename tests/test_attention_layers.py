"""LayerNorm, activations, the feed-forward block and positional encoding against torch / float64 maths."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attention_cases import close, tt
from course_lib.attention import (FeedForward, LayerNorm, Linear, gelu, gelu_backward, relu,
                                  relu_backward, sinusoidal_positional_encoding)
from course_lib.gradcheck import check_gradient

LN_CASES = [((4, 6), 6), ((2, 3, 5), 5), ((2, 3, 4, 5), (4, 5)), ((1, 1), 1), ((3, 7), 7)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape,norm", LN_CASES, ids=str)
def test_layernorm_forward_backward_match_torch(shape, norm, dtype):
    rng = np.random.default_rng(len(shape))
    tm = torch.nn.LayerNorm(norm, eps=1e-5, dtype={np.float32: torch.float32,
                                                   np.float64: torch.float64}[dtype])
    with torch.no_grad():
        tm.weight.normal_()
        tm.bias.normal_()
    ln = LayerNorm.from_torch(tm)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    xt = tt(x, grad=True)
    yt = tm(xt)
    yt.backward(tt(dy))
    y = ln(x)
    assert y.dtype == dtype
    close(y, yt, dtype, "y")
    close(ln.backward(dy), xt.grad, dtype, "dx", scale=10)
    close(ln.grads["weight"], tm.weight.grad, dtype, "dgamma", scale=10)
    close(ln.grads["bias"], tm.bias.grad, dtype, "dbeta", scale=10)


def test_layernorm_backward_central_differences_and_options():
    rng = np.random.default_rng(1)
    ln = LayerNorm(5, eps=1e-3, dtype=np.float64)
    ln.params["weight"][...] = rng.standard_normal(5)
    x, r = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    ln(x)
    dx = ln.backward(r)
    assert check_gradient(lambda a: float(np.sum(ln(a) * r)), dx, x).passed
    plain = LayerNorm(5, elementwise_affine=False, dtype=np.float64)
    close(plain(x), F.layer_norm(tt(x), (5,)), np.float64)
    assert plain.named_parameters() == {}
    nobias = LayerNorm(5, bias=False, dtype=np.float64).to_torch()
    assert nobias.bias is None
    with pytest.raises(ValueError, match=r"x must end with normalized_shape \(5,\), got shape \(3, 4\)"):
        ln(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(5, eps=0)
    with pytest.raises(TypeError, match="normalized_shape"):
        LayerNorm("5")
    with pytest.raises(TypeError, match="dtype float32 but the layer is float64"):
        ln(np.zeros((3, 5), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_activations_match_torch(dtype):
    x = np.linspace(-6, 6, 97).astype(dtype)
    dy = np.cos(x).astype(dtype)
    for ours, back, ref in ((relu, relu_backward, torch.relu),
                            (gelu, gelu_backward, lambda t: F.gelu(t, approximate="none"))):
        xt = tt(x, grad=True)
        yt = ref(xt)
        yt.backward(tt(dy))
        close(ours(x), yt, dtype, ours.__name__)
        close(back(dy, x), xt.grad, dtype, ours.__name__ + " backward")
    # the exact GELU differs from the tanh approximation by ~1e-4: which one we have matters
    tanh_form = F.gelu(tt(x.astype(np.float64)), approximate="tanh").numpy()
    assert np.abs(gelu(x.astype(np.float64)) - tanh_form).max() > 1e-4


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_feedforward_matches_torch_and_gradchecks(activation):
    rng = np.random.default_rng(2)
    ff = FeedForward(6, 10, activation, dtype=np.float64, rng=0)
    l1, l2 = torch.nn.Linear(6, 10).double(), torch.nn.Linear(10, 6).double()
    with torch.no_grad():
        for lin, name in ((l1, "linear1"), (l2, "linear2")):
            lin.weight.copy_(tt(ff.named_parameters()[f"{name}.weight"]))
            lin.bias.copy_(tt(ff.named_parameters()[f"{name}.bias"]))
    x, r = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3, 6))
    xt = tt(x, grad=True)
    act = torch.relu if activation == "relu" else F.gelu
    yt = l2(act(l1(xt)))
    yt.backward(tt(r))
    close(ff(x), yt, np.float64)
    dx = ff.backward(r)
    close(dx, xt.grad, np.float64)
    g = ff.named_grads()
    close(g["linear1.weight"], l1.weight.grad, np.float64)
    close(g["linear2.bias"], l2.bias.grad, np.float64)
    assert check_gradient(lambda a: float(np.sum(ff(a) * r)), dx, x).passed


def test_linear_matches_torch_and_checks():
    lin = Linear(4, 3, rng=0)
    tl = torch.nn.Linear(4, 3)
    with torch.no_grad():
        tl.weight.copy_(tt(lin.params["weight"]))
        tl.bias.copy_(tt(lin.params["bias"]))
    x = np.random.default_rng(0).standard_normal((5, 2, 4)).astype(np.float32)
    close(lin(x), tl(tt(x)), np.float32)
    bound = 1 / math.sqrt(4)
    assert np.abs(lin.params["weight"]).max() <= bound
    with pytest.raises(ValueError, match="in_features=4"):
        lin(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="out_features"):
        Linear(4, 0)


def test_positional_encoding_against_the_formula():
    for length, d in ((7, 8), (5, 7), (1, 1), (50, 16)):
        pe = sinusoidal_positional_encoding(length, d, dtype=np.float64)
        ref = np.zeros((length, d))
        for pos in range(length):                      # the definition, term by term
            for j in range(d):
                i2 = j - j % 2
                angle = pos / 10000 ** (i2 / d)
                ref[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
        np.testing.assert_allclose(pe, ref, rtol=1e-12, atol=1e-12)
    assert sinusoidal_positional_encoding(4, 6).dtype == np.float32
    # PE[pos + k] is a rotation of PE[pos]: inner products depend only on the offset
    pe = sinusoidal_positional_encoding(40, 16, dtype=np.float64)
    assert np.allclose(pe[3] @ pe[8], pe[20] @ pe[25])
    with pytest.raises(ValueError, match="d_model"):
        sinusoidal_positional_encoding(4, 0)

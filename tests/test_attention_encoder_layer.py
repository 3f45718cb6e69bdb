"""TransformerEncoderLayer against torch.nn.TransformerEncoderLayer (eval mode, copied weights)."""
import numpy as np
import pytest
import torch

from attention_cases import close, tt
from course_lib.attention import TransformerEncoderLayer
from course_lib.gradcheck import check_gradient

# (d_model, nhead, d_ff, activation, norm_first, batch_first, N (None: unbatched), S, masks)
CASES = [
    (8, 2, 16, "relu", False, False, 3, 5, "none"),
    (8, 2, 16, "relu", True, False, 3, 5, "bool"),
    (12, 3, 20, "gelu", False, True, 2, 6, "float"),
    (12, 3, 20, "gelu", True, True, 2, 6, "bool"),
    (6, 1, 4, "relu", True, True, 1, 1, "none"),
    (8, 4, 8, "gelu", False, False, None, 4, "bool"),
    (8, 2, 16, "relu", False, True, 2, 5, "causal"),
]
IDS = [f"E{c[0]}_H{c[1]}_{c[3]}_{'pre' if c[4] else 'post'}LN_{'bf' if c[5] else 'sf'}_N{c[6]}_{c[8]}"
       for c in CASES]


def make(case, dtype, seed=0):
    E, H, dff, act, nf, bf, N, S, masks = case
    torch.manual_seed(seed)
    tm = torch.nn.TransformerEncoderLayer(E, H, dff, 0.1, act, batch_first=bf, norm_first=nf,
                                          dtype={np.float32: torch.float32,
                                                 np.float64: torch.float64}[dtype])
    with torch.no_grad():      # random norms and biases, so every parameter matters
        for name, p in tm.named_parameters():
            if "norm" in name or "bias" in name:
                p.uniform_(0.5, 1.5) if name.endswith("weight") else p.uniform_(-0.3, 0.3)
    tm.eval()
    rng = np.random.default_rng(seed)
    shape = (S, E) if N is None else ((N, S, E) if bf else (S, N, E))
    x = rng.standard_normal(shape).astype(dtype)
    am = kpm = None
    if masks == "bool":
        am = rng.random((S, S)) < 0.3
        np.fill_diagonal(am, False)
        kpm = rng.random((S,) if N is None else (N, S)) < 0.3
        kpm[..., 0] = False
        am[:, 0] = False
    elif masks == "float":
        am = rng.standard_normal((S, S)).astype(dtype)
        kpm = rng.standard_normal((N, S)).astype(dtype)
    elif masks == "causal":
        am = np.triu(np.ones((S, S), bool), 1)        # torch's is_causal needs the mask too
    return tm, x, am, kpm, masks == "causal"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_and_backward_match_torch(case, dtype):
    tm, x, am, kpm, causal = make(case, dtype)
    layer = TransformerEncoderLayer.from_torch(tm)
    assert not layer.training
    y = layer(x, src_mask=am, src_key_padding_mask=kpm, is_causal=causal)
    xt = tt(x, grad=True)
    yt = tm(xt, src_mask=tt(am), src_key_padding_mask=tt(kpm), is_causal=causal)
    assert y.dtype == dtype
    close(y, yt, dtype, "y", scale=2)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    yt.backward(tt(dy))
    close(layer.backward(dy), xt.grad, dtype, "dx", scale=10)
    grads = layer.named_grads()
    assert set(grads) == {n for n, _ in tm.named_parameters()}
    for name, p in tm.named_parameters():
        close(grads[name], p.grad, dtype, name, scale=20)


@pytest.mark.parametrize("norm_first", [False, True], ids=["postLN", "preLN"])
def test_backward_in_training_mode_against_central_differences(norm_first):
    """Dropout active: the masks are redrawn from the same seed for every evaluation."""
    layer = TransformerEncoderLayer(6, 2, 8, dropout=0.3, activation="gelu", norm_first=norm_first,
                                    batch_first=True, dtype=np.float64, rng=0)
    rng = np.random.default_rng(1)
    x, r = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 4, 6))
    kpm = np.array([[False, False, True, False], [False, True, False, False]])

    def run(a):
        gen = np.random.default_rng(42)             # one generator shared by every dropout
        for mod in (layer.dropout1, layer.dropout2, layer.ff.dropout, layer.self_attn.attn_dropout):
            mod.rng = gen
        return layer(a, src_key_padding_mask=kpm)

    y = run(x)
    dx = layer.backward(r)
    assert check_gradient(lambda a: float(np.sum(run(a) * r)), dx, x).passed
    # the dropout did act: the eval output differs
    assert not np.allclose(y, layer.eval()(x, src_key_padding_mask=kpm))


def test_dropout_seeded_and_only_in_training():
    x = np.random.default_rng(0).standard_normal((5, 2, 8)).astype(np.float32)
    a = TransformerEncoderLayer(8, 2, 16, dropout=0.2, rng=7)
    b = TransformerEncoderLayer(8, 2, 16, dropout=0.2, rng=7)
    assert a.training                                   # like torch, modules start in training mode
    ya, yb = a(x), b(x)
    np.testing.assert_array_equal(ya, yb)               # same seed: same weights and masks
    assert not np.array_equal(ya, a(x))                 # next call: new masks
    a.eval()
    np.testing.assert_array_equal(a(x), a(x))
    close(a(x), a.to_torch().eval()(tt(x)), np.float32, scale=2)


def test_roundtrip_and_names():
    layer = TransformerEncoderLayer(16, 4, 32, activation="gelu", norm_first=True, batch_first=True,
                                    dtype=np.float64, rng=1)
    tm = layer.to_torch()
    assert tm.norm_first and tm.self_attn.batch_first and tm.linear1.out_features == 32
    assert set(layer.named_parameters()) == {n for n, _ in tm.named_parameters()}
    back = TransformerEncoderLayer.from_torch(tm)
    for name, p in layer.named_parameters().items():
        np.testing.assert_array_equal(back.named_parameters()[name], p)
    nobias = TransformerEncoderLayer(8, 2, 16, bias=False).to_torch()
    assert nobias.linear1.bias is None and nobias.norm1.bias is None


def test_bad_input():
    with pytest.raises(ValueError, match="embed_dim=10 must be divisible by num_heads=3"):
        TransformerEncoderLayer(10, 3)
    with pytest.raises(ValueError, match="activation must be one of"):
        TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="dropout probability"):
        TransformerEncoderLayer(8, 2, dropout=1.0)
    layer = TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(ValueError, match=r"src must be .*d_model=8; got shape \(5, 2, 6\)"):
        layer(np.zeros((5, 2, 6), np.float32))
    with pytest.raises(TypeError, match="src must be float32 or float64"):
        layer(np.zeros((5, 2, 8), np.int64))
    with pytest.raises(ValueError, match=r"attn_mask must have shape"):
        layer(np.zeros((5, 2, 8), np.float32), src_mask=np.zeros((4, 4), bool))
    tm = torch.nn.TransformerEncoderLayer(8, 2, 16, activation=torch.nn.functional.silu)
    with pytest.raises(ValueError, match="relu and exact gelu"):
        TransformerEncoderLayer.from_torch(tm)

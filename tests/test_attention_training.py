"""The training pieces (embedding, cross entropy, Adam, the tiny model) and the reversal run."""
import numpy as np
import torch

from attention_cases import close, tt
from course_lib.attention.blas_threads import blas_threads
from course_lib.attention.embedding import Embedding
from course_lib.attention.loss import cross_entropy
from course_lib.attention.optim import Adam
from course_lib.attention.train import TinyEncoder, reverse_batch, train_reverse
from course_lib.gradcheck import check_gradient


def test_cross_entropy_matches_torch():
    rng = np.random.default_rng(0)
    z, t = 5 * rng.standard_normal((3, 4, 7)), rng.integers(0, 7, (3, 4))
    zt = tt(z, grad=True)
    lt = torch.nn.functional.cross_entropy(zt.reshape(-1, 7), torch.from_numpy(t).reshape(-1))
    lt.backward()
    loss, dz = cross_entropy(z, t)
    assert abs(loss - lt.item()) < 1e-12
    close(dz, zt.grad, np.float64)


def test_embedding_backward_with_repeated_tokens():
    emb = Embedding(5, 3, dtype=np.float64, rng=0)
    te = torch.nn.Embedding(5, 3).double()
    with torch.no_grad():
        te.weight.copy_(tt(emb.params["weight"]))
    tokens = np.array([[1, 1, 4], [0, 1, 4]])
    dy = np.random.default_rng(1).standard_normal((2, 3, 3))
    y = te(torch.from_numpy(tokens))
    y.backward(tt(dy))
    close(emb(tokens), y, np.float64)
    emb.backward(dy)
    close(emb.grads["weight"], te.weight.grad, np.float64)


def test_adam_matches_torch():
    rng = np.random.default_rng(2)
    p0 = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    ours = {k: v.copy() for k, v in p0.items()}
    theirs = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in p0.items()}
    opt = Adam(ours, lr=0.05, weight_decay=0.01)
    topt = torch.optim.Adam(theirs.values(), lr=0.05, weight_decay=0.01)
    for step in range(5):
        grads = {k: rng.standard_normal(v.shape) for k, v in p0.items()}
        opt.step(grads)
        for k, t in theirs.items():
            t.grad = tt(grads[k])
        topt.step()
    for k in p0:
        close(ours[k], theirs[k], np.float64, k)


def test_model_gradient_central_differences():
    model = TinyEncoder(vocab=5, d_model=8, nhead=2, num_layers=2, dim_feedforward=8, max_len=4,
                        dtype=np.float64, rng=3)
    tokens, targets = reverse_batch(np.random.default_rng(4), 2, 4, 5)
    _, d = cross_entropy(model(tokens), targets)
    model.backward(d)
    grads = model.named_grads()
    for name in ("embed.weight", "layers.0.self_attn.in_proj_weight", "layers.1.linear2.bias",
                 "norm.weight"):
        p = model.named_parameters()[name]

        def f(a, p=p):
            saved = p.copy()
            p[...] = a
            try:
                return cross_entropy(model(tokens), targets)[0]
            finally:
                p[...] = saved
        rep = check_gradient(f, grads[name], p.copy())
        assert rep.passed, (name, rep)


def test_reversal_is_learned():
    """Seeded run: 200 Adam steps (about 5 s on a busy 2-core CPU) reverse every test sequence."""
    r = train_reverse(steps=200, seed=0)
    assert r.losses[0] > 2.0                      # starts near log(10) = 2.3: chance level
    assert np.mean(r.losses[-20:]) < 0.05
    assert r.test_accuracy >= 0.99 and r.sequence_accuracy >= 0.95
    # the learned attention: in the last layer, position i attends mostly to L-1-i somewhere
    tokens, _ = reverse_batch(np.random.default_rng(9), 4, 8)
    r.model(tokens)
    maps = r.model.attention_maps()
    assert len(maps) == 2 and maps[0].shape == (4, 4, 8, 8)
    anti = np.array([m[:, :, np.arange(8), 7 - np.arange(8)].mean(axis=(0, 2)).max() for m in maps])
    assert anti.max() > 0.5


def test_blas_thread_limit_changes_nothing_but_speed():
    a = np.random.default_rng(0).standard_normal((200, 200))
    with blas_threads(1):
        one = a @ a
    np.testing.assert_allclose(one, a @ a, rtol=1e-12)

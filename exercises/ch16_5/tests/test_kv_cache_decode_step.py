"""Public tests for kv_cache_decode_step.py: decoding token by token must give torch's
full causal attention, row by row."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import assert_self_contained, compare, exercise_path, submission_fixture

sub = submission_fixture("kv_cache_decode_step")
HINT = "write k_new/v_new at position length, then softmax over positions 0..length"


def decode_all(sub, q, k, v, max_len):
    """Run the learner's step for every token; returns outputs (B, H, T, Ev) and caches."""
    B, H, T, E = q.shape
    Hkv, Ev = k.shape[1], v.shape[3]
    kc, vc = np.zeros((B, Hkv, max_len, E), q.dtype), np.zeros((B, Hkv, max_len, Ev), q.dtype)
    outs = []
    for t in range(T):
        out, kc, vc = sub.kv_cache_decode_step(q[:, :, t], k[:, :, t], v[:, :, t], kc, vc, t)
        outs.append(np.asarray(out))
    return np.stack(outs, axis=2), kc, vc


def torch_causal(q, k, v):
    return F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)),
                                          is_causal=True,
                                          enable_gqa=q.shape[1] != k.shape[1]).numpy()


@pytest.mark.points(0)
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "kv_cache_decode_step"))


@pytest.mark.points(3)
@pytest.mark.parametrize("B,H,Hkv,T,E,Ev", [(2, 4, 4, 6, 5, 5), (1, 6, 2, 5, 4, 3)],
                         ids=["mha", "gqa"])
def test_every_step_equals_full_causal_attention(sub, B, H, Hkv, T, E, Ev):
    rng = np.random.default_rng(T * H)
    q, k, v = (rng.standard_normal(s) for s in ((B, H, T, E), (B, Hkv, T, E), (B, Hkv, T, Ev)))
    out, kc, vc = decode_all(sub, q, k, v, max_len=T + 2)
    case = {"B": B, "H": H, "H_kv": Hkv, "T": T}
    compare("outputs of the steps", out, torch_causal(q, k, v), rtol=1e-12, atol=1e-12,
            case=case, hint=HINT)
    compare("k_cache[:, :, :T]", np.asarray(kc)[:, :, :T], k, rtol=0, atol=0, case=case,
            hint="the step must store the new key at position length")


@pytest.mark.points(2)
def test_full_cache_raises(sub):
    z = np.zeros((1, 1, 2, 3))
    with pytest.raises(ValueError):
        sub.kv_cache_decode_step(np.ones((1, 1, 3)), np.ones((1, 1, 3)), np.ones((1, 1, 3)),
                                 z, z.copy(), 2)

"""Public tests for mha_split_merge.py: index formulas written out, and torch's MultiheadAttention."""
import numpy as np
import pytest
import torch

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)

sub = submission_fixture("mha_split_merge")


def torch_mha(q, k, v, num_heads, seed=0):
    """Reference output and per-head weights from torch.nn.MultiheadAttention (float64)."""
    E = q.shape[-1]
    torch.manual_seed(seed)
    m = torch.nn.MultiheadAttention(E, num_heads, batch_first=True).double()
    with torch.no_grad():
        m.in_proj_bias.uniform_(-0.5, 0.5)
        m.out_proj.bias.uniform_(-0.5, 0.5)
    out, w = m(*(torch.from_numpy(a) for a in (q, k, v)), average_attn_weights=False)
    params = [m.in_proj_weight, m.in_proj_bias, m.out_proj.weight, m.out_proj.bias]
    return out.detach().numpy(), w.detach().numpy(), [p.detach().numpy() for p in params]


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "mha_split_merge"))


@pytest.mark.points(2)
def test_split_heads_index_formula(sub):
    N, L, H, D = 2, 3, 4, 2
    x = np.random.default_rng(0).standard_normal((N, L, H * D))
    expected = np.empty((N, H, L, D))
    for n in range(N):
        for h in range(H):
            for pos in range(L):
                expected[n, h, pos] = x[n, pos, h * D:(h + 1) * D]
    got = call_checked(sub.split_heads, x, H, case={"x.shape": x.shape, "num_heads": H})
    compare("split_heads(x)", got, expected, rtol=0, atol=0, case={"x.shape": x.shape, "H": H},
            hint="head h is features h*D..h*D+D-1: reshape to (N, L, H, D), then put H before L")


@pytest.mark.points(2)
def test_merge_heads_index_formula(sub):
    N, H, L, D = 2, 3, 4, 2
    x = np.random.default_rng(1).standard_normal((N, H, L, D))
    expected = np.empty((N, L, H * D))
    for n in range(N):
        for h in range(H):
            expected[n, :, h * D:(h + 1) * D] = x[n, h]
    got = call_checked(sub.merge_heads, x, case={"x.shape": x.shape})
    compare("merge_heads(x)", got, expected, rtol=0, atol=0, case={"x.shape": x.shape},
            hint="transpose to (N, L, H, D) before the reshape, not after")


@pytest.mark.points(3)
def test_mha_forward_matches_torch(sub):
    rng = np.random.default_rng(2)
    N, L, S, E, H = 2, 5, 7, 12, 3
    q, k, v = rng.standard_normal((N, L, E)), rng.standard_normal((N, S, E)), rng.standard_normal((N, S, E))
    ref_out, ref_w, params = torch_mha(q, k, v, H)
    case = {"N": N, "L": L, "S": S, "E": E, "num_heads": H}
    out, w = call_checked(sub.mha_forward, q, k, v, *params, H, case=case)
    compare("weights", w, ref_w, rtol=1e-10, atol=1e-12, case=case)
    compare("out", out, ref_out, rtol=1e-10, atol=1e-12, case=case)

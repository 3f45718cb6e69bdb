"""Hidden tests for mha_split_merge.py."""
import numpy as np
import pytest
import torch

from course_lib.grading import call_checked, compare, submission_fixture

sub = submission_fixture("mha_split_merge")


@pytest.mark.points(2)
def test_self_attention_float32_many_heads(sub):
    rng = np.random.default_rng(5)
    N, L, E, H = 3, 6, 16, 8
    x = rng.standard_normal((N, L, E)).astype(np.float32)
    torch.manual_seed(3)
    m = torch.nn.MultiheadAttention(E, H, batch_first=True)
    xt = torch.from_numpy(x)
    ref, _ = m(xt, xt, xt)
    params = [p.detach().numpy() for p in (m.in_proj_weight, m.in_proj_bias, m.out_proj.weight,
                                           m.out_proj.bias)]
    out, _ = call_checked(sub.mha_forward, x, x, x, *params, H, case={"E": E, "H": H})
    compare("out", out, ref.detach().numpy(), rtol=1e-4, atol=1e-5, case={"E": E, "H": H})
    assert out.dtype == np.float32, f"out has dtype {out.dtype}, expected float32"


@pytest.mark.points(1)
def test_roundtrip_one_head_and_head_width_one(sub):
    rng = np.random.default_rng(6)
    for H, E in ((1, 5), (5, 5)):
        x = rng.standard_normal((2, 3, E))
        back = call_checked(sub.merge_heads, call_checked(sub.split_heads, x, H), case={"H": H})
        compare("merge_heads(split_heads(x))", back, x, rtol=0, atol=0, case={"H": H, "E": E})

"""Public tests for gqa_head_mapping.py: against torch's repeat_interleave and torch SDPA
with enable_gqa=True."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)

sub = submission_fixture("gqa_head_mapping")


@pytest.mark.points(0)
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "gqa_head_mapping"))


@pytest.mark.points(2)
@pytest.mark.parametrize("H,Hkv", [(8, 2), (6, 1), (4, 4), (12, 3)])
def test_index_matches_repeat_interleave(sub, H, Hkv):
    ref = torch.arange(Hkv).repeat_interleave(H // Hkv).numpy()
    got = call_checked(sub.kv_head_index, H, Hkv, case={"H": H, "H_kv": Hkv})
    compare("index", np.asarray(got), ref, rtol=0, atol=0, case={"H": H, "H_kv": Hkv},
            hint="consecutive query heads share a key/value head: h // (H // H_kv)")


@pytest.mark.points(2)
def test_repeated_heads_give_torch_gqa_attention(sub):
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 6, 4, 5)), rng.standard_normal((2, 2, 7, 5)), \
        rng.standard_normal((2, 2, 7, 3))
    ref = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)),
                                         enable_gqa=True).numpy()
    kr = call_checked(sub.repeat_kv_heads, k, 6, case={"k": k.shape, "H": 6})
    vr = call_checked(sub.repeat_kv_heads, v, 6, case={"v": v.shape, "H": 6})
    out = F.scaled_dot_product_attention(*(torch.from_numpy(np.asarray(a)) for a in (q, kr, vr))).numpy()
    compare("attention with repeated heads", out, ref, rtol=1e-12, atol=1e-12,
            case={"q": q.shape, "k": k.shape}, hint="head h of the result is kv head h // G")

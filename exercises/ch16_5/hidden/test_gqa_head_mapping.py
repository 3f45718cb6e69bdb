"""Hidden tests for gqa_head_mapping.py."""
import numpy as np
import pytest
import torch

from course_lib.grading import call_checked, compare, submission_fixture

sub = submission_fixture("gqa_head_mapping")


@pytest.mark.points(2)
@pytest.mark.parametrize("H,Hkv", [(6, 4), (3, 2), (5, 0)])
def test_not_divisible_raises_value_error(sub, H, Hkv):
    with pytest.raises(ValueError):
        sub.kv_head_index(H, Hkv)


@pytest.mark.points(1)
def test_float32_mqa_repeat(sub):
    x = np.random.default_rng(2).standard_normal((1, 1, 3, 2)).astype(np.float32)
    got = call_checked(sub.repeat_kv_heads, x, 4, case={"x": x.shape, "H": 4})
    ref = torch.from_numpy(x).repeat_interleave(4, dim=1).numpy()
    compare("repeated", got, ref, rtol=0, atol=0, case={"H_kv": 1, "H": 4})

"""Hidden tests for merge_softmax_partials.py."""
import numpy as np
import pytest
import torch

from course_lib.grading import call_checked, compare, submission_fixture

sub = submission_fixture("merge_softmax_partials")


def partial(s, v, dtype=np.float64):
    st, vt = torch.from_numpy(np.asarray(s, np.float64)), torch.from_numpy(np.asarray(v, np.float64))
    m = st.max(dim=-1).values
    e = torch.exp(st - m[..., None])
    return tuple(a.numpy().astype(dtype) for a in (m, e.sum(-1), e @ vt))


@pytest.mark.points(2)
def test_two_empty_partials_stay_empty_without_nan(sub):
    em, el, eacc = np.full((2, 3), -np.inf), np.zeros((2, 3)), np.zeros((2, 3, 4))
    m, l, acc = call_checked(sub.merge_softmax_partials, em, el, eacc, em, el, eacc,
                             case={"both": "empty"})
    assert np.all(np.isneginf(m)), f"m of two empty partials must be -inf, got {m}"
    compare("l", l, el, rtol=0, atol=0, case={"both": "empty"})
    compare("acc", acc, eacc, rtol=0, atol=0, case={"both": "empty"})


@pytest.mark.points(2)
def test_float32_huge_scores_batched(sub):
    rng = np.random.default_rng(5)
    s = (rng.standard_normal((2, 3, 8)) * 50 + 500)
    v = rng.standard_normal((8, 5))
    p1, p2 = partial(s[..., :3], v[:3], np.float32), partial(s[..., 3:], v[3:], np.float32)
    m, l, acc = call_checked(sub.merge_softmax_partials, *p1, *p2, case={"dtype": "float32"})
    ref = (torch.softmax(torch.from_numpy(s), -1) @ torch.from_numpy(v)).numpy()
    compare("acc / l", (acc / l[..., None]).astype(np.float32), ref.astype(np.float32),
            rtol=1e-4, atol=1e-5, case={"scores": "around 500, float32"})
    assert acc.dtype == np.float32 and l.dtype == np.float32

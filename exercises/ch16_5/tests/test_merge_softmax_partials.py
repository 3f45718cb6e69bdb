"""Public tests for merge_softmax_partials.py: the merged partial equals the partial of all
keys at once, computed with torch in float64."""
import numpy as np
import pytest
import torch

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)

sub = submission_fixture("merge_softmax_partials")
HINT = "m = max(m1, m2); rescale each side by exp(m_i - m) before adding l and acc"


def partial(s, v):
    """(m, l, acc) of scores s (n, k) and values v (k, Ev), from torch in float64."""
    st, vt = torch.from_numpy(np.asarray(s, np.float64)), torch.from_numpy(np.asarray(v, np.float64))
    m = st.max(dim=-1).values
    e = torch.exp(st - m[:, None])
    return m.numpy(), e.sum(-1).numpy(), (e @ vt).numpy()


@pytest.mark.points(0)
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "merge_softmax_partials"))


@pytest.mark.points(2)
@pytest.mark.parametrize("split", [1, 4, 9], ids=["1|9", "4|6", "9|1"])
def test_two_blocks_merge_into_the_whole(sub, split):
    rng = np.random.default_rng(split)
    s = 3 * rng.standard_normal((5, 10))
    v = rng.standard_normal((10, 3))
    p1, p2 = partial(s[:, :split], v[:split]), partial(s[:, split:], v[split:])
    case = {"scores": s.shape, "split": split}
    m, l, acc = call_checked(sub.merge_softmax_partials, *p1, *p2, case=case)
    m_ref, l_ref, acc_ref = partial(s, v)
    compare("m", m, m_ref, rtol=0, atol=0, case=case, hint=HINT)
    compare("l", l, l_ref, rtol=1e-12, atol=1e-12, case=case, hint=HINT)
    compare("acc", acc, acc_ref, rtol=1e-12, atol=1e-12, case=case, hint=HINT)
    out_ref = (torch.softmax(torch.from_numpy(s), -1) @ torch.from_numpy(v)).numpy()
    compare("acc / l", acc / l[:, None], out_ref, rtol=1e-12, atol=1e-12, case=case, hint=HINT)


@pytest.mark.points(2)
def test_empty_partial_is_the_identity(sub):
    rng = np.random.default_rng(3)
    m, l, acc = partial(rng.standard_normal((4, 6)), rng.standard_normal((6, 2)))
    em, el, eacc = np.full(4, -np.inf), np.zeros(4), np.zeros((4, 2))
    case = {"second partial": "empty (m=-inf, l=0, acc=0)"}
    got = call_checked(sub.merge_softmax_partials, m, l, acc, em, el, eacc, case=case)
    for name, g, r in zip(("m", "l", "acc"), got, (m, l, acc)):
        compare(name, g, r, rtol=1e-15, atol=0, case=case,
                hint="exp(-inf - m) is 0: an empty side must not change the other")

"""Hidden tests for flash_forward_tile.py."""
import numpy as np
import pytest
import torch

from course_lib.grading import call_checked, compare, submission_fixture

sub = submission_fixture("flash_forward_tile")


@pytest.mark.points(2)
def test_one_update_against_float64_formula(sub):
    rng = np.random.default_rng(21)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    m, l, acc = rng.standard_normal(3), rng.random(3) + 0.5, rng.standard_normal((3, 2))
    s = torch.from_numpy(q) @ torch.from_numpy(k).T * 0.7
    m_new = torch.maximum(torch.from_numpy(m), s.max(-1).values)
    p = torch.exp(s - m_new[:, None])
    a = torch.exp(torch.from_numpy(m) - m_new)
    ref = (m_new.numpy(), (a * torch.from_numpy(l) + p.sum(-1)).numpy(),
           (a[:, None] * torch.from_numpy(acc) + p @ torch.from_numpy(v)).numpy())
    got = call_checked(sub.flash_forward_tile, q, k, v, m, l, acc, 0.7, None,
                       case={"scale": 0.7})
    for name, g, r in zip(("m", "l", "acc"), got, ref):
        compare(name, g, r, rtol=1e-12, atol=1e-12, case={"scale": 0.7})


@pytest.mark.points(2)
def test_float32_large_scores_keep_dtype(sub):
    rng = np.random.default_rng(22)
    q = (rng.standard_normal((4, 8)) * 30).astype(np.float32)
    k = (rng.standard_normal((6, 8)) * 30).astype(np.float32)
    v = rng.standard_normal((6, 3)).astype(np.float32)
    m, l, acc = np.full(4, -np.inf, np.float32), np.zeros(4, np.float32), np.zeros((4, 3), np.float32)
    for k0 in (0, 3):
        m, l, acc = call_checked(sub.flash_forward_tile, q, k[k0:k0 + 3], v[k0:k0 + 3], m, l, acc,
                                 0.125, None, case={"dtype": "float32"})
    ref = torch.softmax(torch.from_numpy(q.astype(np.float64)) @ torch.from_numpy(
        k.astype(np.float64)).T * 0.125, -1) @ torch.from_numpy(v.astype(np.float64))
    assert acc.dtype == np.float32
    compare("acc / l", acc / l[:, None], ref.numpy().astype(np.float32), rtol=1e-4, atol=1e-5,
            case={"scores": "large, float32"})

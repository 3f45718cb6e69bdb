"""The online softmax and the merge of partial results, against torch and float64 sums."""
import numpy as np
import pytest
import torch

from course_lib.attention.online_softmax import (finish, merge_partials, online_softmax,
                                                 tile_partial_)


def partial_by_hand(s, v):
    """(m, l, acc) of scores s (n, St) and values v (St, Ev) from float64 sums, loop by loop."""
    m = s.max(axis=-1)
    l = np.array([sum(np.exp(x - mi) for x in row) for row, mi in zip(s, m)])
    acc = np.array([sum(np.exp(x - mi) * vj for x, vj in zip(row, v)) for row, mi in zip(s, m)])
    return m, l, acc


@pytest.mark.parametrize("split", [1, 3, 7, 9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_merging_two_halves_gives_attention(split, dtype):
    rng = np.random.default_rng(split)
    s = (rng.standard_normal((4, 10)) * 5).astype(dtype)
    v = rng.standard_normal((10, 3)).astype(dtype)
    m, l, acc = merge_partials(*tile_partial_(s[:, :split], v[:split]),
                               *tile_partial_(s[:, split:], v[split:]))
    out, lse = finish(m, l, acc)
    ref = torch.softmax(torch.from_numpy(s.astype(np.float64)), -1) @ torch.from_numpy(
        v.astype(np.float64))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(lse, torch.logsumexp(torch.from_numpy(s.astype(np.float64)), -1),
                               rtol=tol, atol=tol)
    # and the merged (m, l, acc) equal the one-piece partial
    m_ref, l_ref, acc_ref = partial_by_hand(s.astype(np.float64), v.astype(np.float64))
    np.testing.assert_allclose(m, m_ref)
    np.testing.assert_allclose(l, l_ref, rtol=tol)
    np.testing.assert_allclose(acc, acc_ref, rtol=tol, atol=tol)


def test_empty_partial_is_the_identity_and_two_empties_stay_empty():
    rng = np.random.default_rng(0)
    m, l, acc = rng.standard_normal(3), rng.random(3) + 1, rng.standard_normal((3, 2))
    em, el, eacc = np.full(3, -np.inf), np.zeros(3), np.zeros((3, 2))
    for merged in (merge_partials(m, l, acc, em, el, eacc), merge_partials(em, el, eacc, m, l, acc)):
        np.testing.assert_array_equal(merged[0], m)
        np.testing.assert_allclose(merged[1], l, rtol=1e-15)
        np.testing.assert_allclose(merged[2], acc, rtol=1e-15)
    m2, l2, acc2 = merge_partials(em, el, eacc, em, el, eacc)
    assert np.isneginf(m2).all() and (l2 == 0).all() and (acc2 == 0).all()
    out, lse = finish(m2, l2, acc2)
    assert (out == 0).all() and np.isneginf(lse).all()


def test_large_scores_do_not_overflow():
    s = np.array([[1000.0, 999.0, -1000.0, 998.0]], np.float32)
    v = np.eye(4, dtype=np.float32)
    out, _ = finish(*merge_partials(*tile_partial_(s[:, :2], v[:2]), *tile_partial_(s[:, 2:], v[2:])))
    np.testing.assert_allclose(out[0], torch.softmax(torch.from_numpy(s), -1)[0].numpy(), rtol=1e-6)


@pytest.mark.parametrize("block", [1, 2, 5, 16, 100])
def test_online_softmax_equals_torch(block):
    x = np.random.default_rng(block).standard_normal((3, 4, 17)) * 30
    np.testing.assert_allclose(online_softmax(x, block), torch.softmax(torch.from_numpy(x), -1),
                               rtol=1e-12, atol=1e-300)


def test_bad_partials_are_rejected():
    m, l, acc = np.zeros(3), np.ones(3), np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"acc2.*\(4, 2\)"):
        merge_partials(m, l, acc, m, l, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="m1"):
        merge_partials(np.full(3, np.nan), l, acc, m, l, acc)
    with pytest.raises(TypeError, match="dtype"):
        merge_partials(m.astype(np.float32), l, acc, m, l, acc)
    with pytest.raises(ValueError, match="block"):
        online_softmax(np.zeros((2, 3)), 0)

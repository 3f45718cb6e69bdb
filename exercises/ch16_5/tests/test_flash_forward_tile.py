"""Public tests for flash_forward_tile.py: running the tile update over every key tile
must give torch's scaled_dot_product_attention."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)

sub = submission_fixture("flash_forward_tile")
HINT = "m_new = max(m, rowmax(S)); rescale l and acc by exp(m - m_new); add rowsum(P), P @ V"


def run_tiles(sub, q, k, v, bk, causal=False):
    """The learner's tile update over all key tiles, for one query tile holding all of q."""
    L, Ev = q.shape[0], v.shape[1]
    scale = 1 / np.sqrt(q.shape[1])
    m, l, acc = np.full(L, -np.inf, q.dtype), np.zeros(L, q.dtype), np.zeros((L, Ev), q.dtype)
    for k0 in range(0, k.shape[0], bk):
        k1 = min(k0 + bk, k.shape[0])
        mask = (np.arange(k0, k1)[None, :] <= np.arange(L)[:, None]) if causal else None
        case = {"L": L, "S": k.shape[0], "tile": (k0, k1), "causal": causal}
        m, l, acc = call_checked(sub.flash_forward_tile, q, k[k0:k1], v[k0:k1], m, l, acc,
                                 scale, mask, case=case)
    return acc / l[:, None]


def torch_sdpa(q, k, v, causal=False):
    mask = torch.ones(q.shape[0], k.shape[0], dtype=torch.bool).tril() if causal else None
    return F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)),
                                          attn_mask=mask).numpy()


@pytest.mark.points(0)
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "flash_forward_tile"))


@pytest.mark.points(3)
@pytest.mark.parametrize("L,S,E,Ev,bk", [(4, 12, 3, 2, 4), (5, 7, 4, 4, 3), (3, 5, 2, 3, 5)])
def test_tiles_give_attention(sub, L, S, E, Ev, bk):
    rng = np.random.default_rng(L * S)
    q, k, v = rng.standard_normal((L, E)), rng.standard_normal((S, E)), rng.standard_normal((S, Ev))
    compare("acc / l", run_tiles(sub, q, k, v, bk), torch_sdpa(q, k, v), rtol=1e-12,
            atol=1e-12, case={"L": L, "S": S, "block_k": bk}, hint=HINT)


@pytest.mark.points(3)
def test_causal_diagonal_tiles_with_rows_that_see_nothing(sub):
    rng = np.random.default_rng(9)
    q, k, v = rng.standard_normal((6, 4)), rng.standard_normal((6, 4)), rng.standard_normal((6, 2))
    compare("acc / l", run_tiles(sub, q, k, v, 4, causal=True), torch_sdpa(q, k, v, True),
            rtol=1e-12, atol=1e-12, case={"causal": True, "block_k": 4},
            hint="rows with every key of a tile masked: shift by 0 where m_new is -inf")

"""Hidden tests for masked_softmax.py."""
import numpy as np
import pytest
import torch

from course_lib.grading import call_checked, compare, submission_fixture

sub = submission_fixture("masked_softmax")


def reference(x, mask, axis):
    xt = torch.from_numpy(np.array(x, dtype=np.float64))
    mt = torch.from_numpy(np.broadcast_to(mask, x.shape).copy())
    return torch.nan_to_num(torch.softmax(xt.masked_fill(~mt, float("-inf")), dim=axis),
                            nan=0.0).numpy()


@pytest.mark.points(2)
def test_broadcast_causal_mask_over_heads(sub):
    rng = np.random.default_rng(11)
    x = 4 * rng.standard_normal((2, 3, 5, 5))
    mask = np.tril(np.ones((5, 5), bool))              # (L, S), broadcast over batch and heads
    got = call_checked(sub.masked_softmax, x, mask, case={"x": x, "mask": mask})
    compare("p", got, reference(x, mask, -1), rtol=1e-10, atol=1e-12, case={"mask": "causal"})


@pytest.mark.points(1)
def test_masked_max_is_ignored(sub):
    """A huge masked value must not set the shift (else every allowed exp underflows to 0)."""
    x = np.array([[2e4, 1.0, 2.0], [0.0, 5e3, 1.0]], dtype=np.float32)
    mask = np.array([[False, True, True], [True, False, True]])
    got = call_checked(sub.masked_softmax, x, mask, case={"x": x, "mask": mask})
    compare("p", got, reference(x, mask, -1).astype(np.float32), rtol=1e-5, atol=1e-6,
            case={"x": x, "mask": mask})


@pytest.mark.points(1)
def test_axis0_and_all_masked_column(sub):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((4, 3))
    mask = rng.random((4, 3)) > 0.4
    mask[:, 1] = False
    got = call_checked(sub.masked_softmax, x, mask, 0, case={"x": x, "mask": mask, "axis": 0})
    compare("p", got, reference(x, mask, 0), rtol=1e-10, atol=1e-12, case={"axis": 0})

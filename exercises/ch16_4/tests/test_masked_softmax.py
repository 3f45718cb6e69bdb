"""Public tests for masked_softmax.py: compared with torch.softmax on the allowed entries."""
import numpy as np
import pytest
import torch

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)

sub = submission_fixture("masked_softmax")
HINT = "subtract the row max over allowed entries, exp, zero the masked ones, divide by the sum"


def torch_masked_softmax(x, mask, axis):
    """Reference: torch.softmax of x with -inf on masked entries; all-masked rows -> 0."""
    xt = torch.from_numpy(np.array(x, dtype=np.float64))
    mt = torch.from_numpy(np.broadcast_to(mask, x.shape).copy())
    p = torch.softmax(xt.masked_fill(~mt, float("-inf")), dim=axis)
    return torch.nan_to_num(p, nan=0.0).numpy()


@pytest.mark.points(0)  # a gate, not a skill: the loader also enforces it for every test
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "masked_softmax"))


@pytest.mark.points(2)
@pytest.mark.parametrize("shape,axis", [((4, 6), -1), ((2, 3, 5), 1), ((3, 1, 7), -1)],
                         ids=["2d", "axis1", "row-of-one"])
def test_matches_torch_with_a_mask(sub, shape, axis):
    rng = np.random.default_rng(len(shape) + axis)
    x = rng.standard_normal(shape)
    mask = rng.random(shape) > 0.3
    case = {"x": x, "mask": mask, "axis": axis}
    got = call_checked(sub.masked_softmax, x, mask, axis, case=case)
    compare("p", got, torch_masked_softmax(x, mask, axis), rtol=1e-10, atol=1e-12, case=case,
            hint=HINT)


@pytest.mark.points(2)
def test_all_masked_row_is_zero_not_nan(sub):
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    mask = np.array([[True, False, True], [False, False, False]])
    case = {"x": x, "mask": mask}
    got = call_checked(sub.masked_softmax, x, mask, case=case)
    compare("p", got, torch_masked_softmax(x, mask, -1), rtol=1e-10, atol=1e-12, case=case,
            hint="a row with nothing allowed has no distribution: return zeros there, not NaN")


@pytest.mark.points(2)
def test_huge_logits_float32(sub):
    x = np.array([[1e4, 1e4 - 1.0, -1e4, 3.0], [-1e4, -1e4 + 2.0, 0.0, 1e4]], dtype=np.float32)
    mask = np.array([[True, True, True, False], [True, True, True, False]])
    case = {"x": x, "mask": mask, "dtype": "float32"}
    got = call_checked(sub.masked_softmax, x, mask, case=case)
    compare("p", got, torch_masked_softmax(x, mask, -1).astype(np.float32), rtol=1e-5,
            atol=1e-6, case=case, hint="exp(1e4) overflows: subtract the max over allowed entries")

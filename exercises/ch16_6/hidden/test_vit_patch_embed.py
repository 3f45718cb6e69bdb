"""Hidden tests for vit_patch_embed.py."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import call_checked, compare, submission_fixture

sub = submission_fixture("vit_patch_embed")


@pytest.mark.points(1)
@pytest.mark.parametrize("p", [1, 6], ids=["patch=1", "patch=H=W"])
def test_float32_extreme_patch_sizes(sub, p):
    rng = np.random.default_rng(p)
    x = rng.standard_normal((2, 4, 6, 6)).astype(np.float32)
    w = rng.standard_normal((5, 4, p, p)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    ref = F.conv2d(*(torch.from_numpy(a.astype(np.float64)) for a in (x, w, b)), stride=p)
    ref = ref.flatten(2).transpose(1, 2).numpy().astype(np.float32)
    got = call_checked(sub.patch_embed, x, w, b, case={"patch": p, "dtype": "float32"})
    compare("tokens", got, ref, rtol=1e-4, atol=1e-5, case={"patch": p, "dtype": "float32"})


@pytest.mark.points(1)
@pytest.mark.parametrize("shape,p", [((3, 8, 8), 2), ((1, 3, 8, 8), 0)], ids=["3-D", "patch=0"])
def test_bad_images_or_patch_raise(sub, shape, p):
    with pytest.raises(ValueError):
        sub.patchify(np.zeros(shape), p)


@pytest.mark.points(1)
def test_weight_channels_must_match(sub):
    with pytest.raises(ValueError):
        sub.patch_embed(np.zeros((1, 3, 4, 4)), np.zeros((2, 1, 2, 2)), np.zeros(2))

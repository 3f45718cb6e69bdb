"""Public tests for vit_patch_embed.py: patches in torch's unfold order, tokens equal to
torch's Conv2d(C, D, p, stride=p) flattened to (N, L, D)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.grading import (assert_self_contained, call_checked, compare, exercise_path,
                                submission_fixture)

sub = submission_fixture("vit_patch_embed")
HINT = ("reshape to (N, C, H/p, p, W/p, p), put the grid axes first: (N, H/p, W/p, C, p, p), "
        "then flatten to (N, L, C*p*p)")

# (N, C, H, W, patch): non-square images, C != 3, a patch that is not a power of two
SHAPES = [(2, 3, 8, 12, 4), (1, 1, 6, 4, 2), (3, 5, 9, 6, 3)]


def conv_tokens(x, w, b):
    """torch's patch-embedding conv in float64, flattened to (N, L, D)."""
    p = w.shape[2]
    y = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=p)
    return y.flatten(2).transpose(1, 2).numpy()


@pytest.mark.points(0)
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "vit_patch_embed"))


@pytest.mark.points(1)
@pytest.mark.parametrize("N,C,H,W,p", SHAPES)
def test_patchify_matches_unfold(sub, N, C, H, W, p):
    x = np.random.default_rng(H * W).standard_normal((N, C, H, W))
    # unfold with stride = kernel gives the non-overlapping patches, (N, C*p*p, L)
    ref = F.unfold(torch.from_numpy(x), kernel_size=p, stride=p).transpose(1, 2).numpy()
    got = call_checked(sub.patchify, x, p, case={"images": x, "patch": p})
    compare("patches", got, ref, rtol=0, atol=0, case={"images": x, "patch": p}, hint=HINT)


@pytest.mark.points(2)
@pytest.mark.parametrize("N,C,H,W,p", SHAPES)
def test_patch_embed_equals_conv2d(sub, N, C, H, W, p):
    rng = np.random.default_rng(N + 10 * C)
    D = 7
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((D, C, p, p)), \
        rng.standard_normal(D)
    case = {"images": x, "weight": w}
    got = call_checked(sub.patch_embed, x, w, b, case=case)
    compare("tokens", got, conv_tokens(x, w, b), rtol=1e-12, atol=1e-12, case=case,
            hint="tokens = patchify(images, p) @ weight.reshape(D, -1).T + bias")


@pytest.mark.points(1)
@pytest.mark.parametrize("H,W,bad", [(10, 12, "H"), (12, 10, "W")])
def test_size_not_divisible_names_it(sub, H, W, bad):
    x = np.zeros((1, 3, H, W))
    with pytest.raises(ValueError) as e:
        sub.patchify(x, 4)
    msg = str(e.value)
    assert "10" in msg and "4" in msg and "patch" in msg, (
        f"the ValueError for {bad}=10 with patch=4 should name the size and the patch, "
        f"got: {msg!r}")

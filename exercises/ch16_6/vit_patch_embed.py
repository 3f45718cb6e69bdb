"""Exercise 16.6a -- the patch embedding of a Vision Transformer (ViT).

ViT-B/16 cuts a 224x224 image into a 14x14 grid of 16x16 patches and maps each patch to
a D-dimensional token with one linear layer.  Because the patches do not overlap, that
linear layer *is* a convolution with kernel size = stride = patch, and PyTorch models
write it as ``torch.nn.Conv2d(C, D, patch, stride=patch)``.  Here you write it the other
way round: cut the patches out, flatten them, multiply by the conv weight.

1. ``patchify(images, patch)``: images (N, C, H, W) -> patches (N, L, C*patch*patch) with
   ``L = (H // patch) * (W // patch)``.  Patches are numbered row by row over the patch
   grid (patch (i, j) is number ``i * (W // patch) + j``); inside one patch the values are
   flattened in the order (channel, row, column) -- the order of a conv weight
   (D, C, patch, patch) flattened to (D, C*patch*patch).  Same dtype, a new array.
   Raise ``ValueError`` naming the problem and the values when ``images`` is not 4-D,
   ``patch < 1``, or H or W is not divisible by ``patch``.
2. ``patch_embed(images, weight, bias)``: weight (D, C, p, p), bias (D,) -> tokens
   (N, L, D) ``= patchify(images, p) @ weight.reshape(D, -1).T + bias``, equal to the
   conv's output (N, D, H/p, W/p) flattened to (N, D, L) and transposed.  ``ValueError``
   when the weight is not (D, C, p, p) with the images' C, or bias is not (D,).
   Result in the images' dtype.

Plain NumPy only; do not modify the inputs.
"""
from __future__ import annotations

import numpy as np


def patchify(images, patch):
    """images (N, C, H, W) -> (N, (H/patch)*(W/patch), C*patch*patch), same dtype."""
    # BEGIN SOLUTION: check images.ndim == 4, patch >= 1, H % patch == 0 and W % patch == 0
    # (ValueError naming images.shape / patch / H / W); x = images.reshape(N, C, H//p, p, W//p, p),
    # move the axes to (N, H//p, W//p, C, p, p), reshape to (N, L, C*p*p) (a copy).
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must be 4-D (N, C, H, W), got shape {images.shape}")
    if int(patch) != patch or patch < 1:
        raise ValueError(f"patch must be a positive integer, got patch={patch!r}")
    p = int(patch)
    N, C, H, W = images.shape
    if H % p or W % p:
        raise ValueError(f"image size H={H}, W={W} must be divisible by patch={p}")
    x = images.reshape(N, C, H // p, p, W // p, p)
    # grid position first (rows, then columns), then the (C, p, p) content of each patch
    return np.ascontiguousarray(x.transpose(0, 2, 4, 1, 3, 5)).reshape(N, -1, C * p * p)
    # END SOLUTION


def patch_embed(images, weight, bias):
    """images (N, C, H, W), weight (D, C, p, p), bias (D,) -> tokens (N, L, D)."""
    # BEGIN SOLUTION: check weight is 4-D with weight.shape[1] == C and a square p x p kernel,
    # bias.shape == (D,) (ValueError naming the shapes); tokens = patchify(images, p)
    # @ weight.reshape(D, -1).T + bias, cast to images.dtype.
    images, weight, bias = np.asarray(images), np.asarray(weight), np.asarray(bias)
    if weight.ndim != 4 or weight.shape[2] != weight.shape[3]:
        raise ValueError(f"weight must be (D, C, p, p), got shape {weight.shape}")
    if images.ndim == 4 and weight.shape[1] != images.shape[1]:
        raise ValueError(f"weight has C={weight.shape[1]} input channels but images have "
                         f"C={images.shape[1]} (images {images.shape}, weight {weight.shape})")
    D = weight.shape[0]
    if bias.shape != (D,):
        raise ValueError(f"bias must have shape ({D},) for weight {weight.shape}, got {bias.shape}")
    patches = patchify(images, weight.shape[2])
    tokens = patches @ weight.reshape(D, -1).T.astype(images.dtype) + bias.astype(images.dtype)
    return tokens.astype(images.dtype, copy=False)
    # END SOLUTION

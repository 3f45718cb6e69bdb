"""The three image classifiers of section 16.6: build, count, measure.

ResNet-50 (a CNN), ViT-B/16 (a Transformer) and ConvNeXt-B (a CNN redesigned after the
Transformer) are taken from torchvision with **random weights**: speed and memory do
not depend on the weights, and accuracy cannot be measured here (no ImageNet), so the
accuracies in :data:`PUBLISHED_TOP1` are quoted with their sources, never measured.

Counts, derived from each architecture's configuration, independently of torch modules:

* :func:`analytic_params` -- learnable parameters (what ``sum(p.numel())`` counts;
  BatchNorm's running statistics are buffers, not parameters).
* :func:`analytic_macs` -- multiply-accumulates (MACs) of one image's forward pass in
  the convolutions, the linear layers and the attention matmuls (Q K^T and A V).

``torch.utils.flop_counter.FlopCounterMode`` counts ``2 x MACs`` for exactly those
operations (``aten.convolution``, ``mm``/``addmm``/``bmm``, and the SDPA kernels it
has formulas for) and nothing else: bias additions (also the one fused into
``addmm``), BatchNorm, LayerNorm, ReLU/GELU, softmax, pooling, residual additions,
ConvNeXt's layer-scale multiply, ViT's position-embedding add are all left out, so
``FlopCounterMode total == 2 * analytic_macs`` exactly (the tests check it).  These
element-wise operations are about one operation per activation element each, a few
percent of the MACs at most, but they move memory and are not free in time.

A trap measured with torch 2.13 on the CPU (:func:`count_flops` avoids it): in eval
mode without gradients ``nn.MultiheadAttention`` takes its fused "fast path"
(``aten._native_multi_head_attention``), which FlopCounterMode does not see into --
ViT's QKV and output projections and its attention matmuls vanish from the count; with
the fast path off, ``scaled_dot_product_attention`` runs the fused CPU flash kernel,
which FlopCounterMode has no formula for, so Q K^T and A V still vanish.  Counting
with the fast path off and SDPA's math backend makes every matmul visible.

Measurement helpers: :func:`forward_fn` (a forward under ``torch.inference_mode``
for the timers of :mod:`course_lib.bench.timing`), :func:`forward_peak_memory` (the
resident-set peak of one forward in a fresh Python process) and, on a GPU,
:func:`cuda_forward_memory` (the caching allocator's peak).
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

import torch

from .memory import peak_rss_bytes, reset_peak_rss, rss_bytes
from .torchvision_import import import_torchvision

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- configurations

@dataclass(frozen=True)
class ResNetConfig:
    """Bottleneck ResNet: a 7x7/2 stem conv and a 3x3/2 max-pool, then stages of
    ``depths[i]`` bottlenecks (1x1 -> 3x3 -> 1x1) of width ``widths[i]`` whose output
    is ``expansion * width`` channels; torchvision's v1.5 puts the stride on the 3x3."""

    depths: tuple[int, ...] = (3, 4, 6, 3)
    widths: tuple[int, ...] = (64, 128, 256, 512)
    expansion: int = 4
    stem_width: int = 64
    num_classes: int = 1000


@dataclass(frozen=True)
class ViTConfig:
    """Vision Transformer: ``patch`` x ``patch`` patches embedded to ``dim``, a class
    token, ``depth`` pre-norm encoder blocks (``heads`` heads, MLP of width
    ``mlp_dim``), a linear head on the class token."""

    patch: int = 16
    dim: int = 768
    depth: int = 12
    heads: int = 12
    mlp_dim: int = 3072
    num_classes: int = 1000


@dataclass(frozen=True)
class ConvNeXtConfig:
    """ConvNeXt: a 4x4/4 "patchify" stem, stages of ``depths[i]`` blocks at ``dims[i]``
    channels (7x7 depthwise conv -> LayerNorm -> 1x1 to ``mlp_ratio * C`` -> GELU ->
    1x1 back, layer scale, residual), 2x2/2 convs between stages."""

    depths: tuple[int, ...] = (3, 3, 27, 3)
    dims: tuple[int, ...] = (128, 256, 512, 1024)
    kernel: int = 7
    mlp_ratio: int = 4
    stem_patch: int = 4
    num_classes: int = 1000


Config = Union[ResNetConfig, ViTConfig, ConvNeXtConfig]


@dataclass(frozen=True)
class ModelSpec:
    """One model of the table: torchvision builder name, display name, family, config."""

    name: str
    display: str
    family: str
    config: Config


MODELS: dict[str, ModelSpec] = {
    "resnet50": ModelSpec("resnet50", "ResNet-50", "CNN", ResNetConfig()),
    "vit_b_16": ModelSpec("vit_b_16", "ViT-B/16", "Transformer", ViTConfig()),
    "convnext_base": ModelSpec("convnext_base", "ConvNeXt-B", "modernised CNN", ConvNeXtConfig()),
}


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name``; ValueError naming the valid names otherwise."""
    if name not in MODELS:
        raise ValueError(f"name must be one of {sorted(MODELS)}, got {name!r}")
    return MODELS[name]


def _check_image_size(spec: ModelSpec, image_size: int) -> None:
    if not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 32:
        raise ValueError(f"image_size must be an int >= 32 (pixels per side), got {image_size!r}")
    if isinstance(spec.config, ViTConfig) and image_size % spec.config.patch:
        raise ValueError(f"image_size must be a multiple of the patch size {spec.config.patch} "
                         f"for {spec.name}, got {image_size}")


def conv_out(size: int, kernel: int, stride: int = 1, pad: int = 0) -> int:
    """Output side of a convolution or pooling window: ``(size + 2 pad - kernel) // stride + 1``."""
    return (size + 2 * pad - kernel) // stride + 1


# ---------------------------------------------------------------- ResNet counts

def resnet_params(cfg: ResNetConfig) -> int:
    """Parameters of a bottleneck ResNet (convolutions without bias, as torchvision's).

    Stem: 7x7 conv ``3 -> s`` (``49 * 3 * s``) and its BatchNorm (scale and shift,
    ``2 s``).  A bottleneck from ``c_in`` channels at width ``w`` (output ``e w``):
    ``c_in w + 9 w^2 + w * e w`` weights plus ``2 (w + w + e w)`` BatchNorm; the
    first block of each stage adds a 1x1 projection ``c_in * e w`` with BatchNorm
    ``2 e w`` to match the shortcut.  Classifier: ``c_last * classes + classes``.
    """
    s, e = cfg.stem_width, cfg.expansion
    total = 49 * 3 * s + 2 * s
    c_in = s
    for depth, w in zip(cfg.depths, cfg.widths):
        for block in range(depth):
            total += c_in * w + 9 * w * w + w * e * w + 2 * (2 * w + e * w)
            if block == 0:
                total += c_in * e * w + 2 * e * w
            c_in = e * w
    return total + c_in * cfg.num_classes + cfg.num_classes


def resnet_macs(cfg: ResNetConfig, image_size: int) -> int:
    """MACs of one image: every conv costs ``H_out W_out C_out (C_in k^2)``.

    Sides: the stem conv (k=7, stride 2, pad 3) gives ``h1 = conv_out(r, 7, 2, 3)``
    (112 at r=224), the max-pool (k=3, stride 2, pad 1) ``h2`` (56).  In a bottleneck
    with input side ``h`` and stride ``t`` (2 in the first block of stages 2-4) the
    1x1 reduce runs at ``h``, the 3x3 (pad 1) and the 1x1 expand at ``h' =
    conv_out(h, 3, t, 1)``; the projection shortcut (1x1, stride ``t``) at ``h'``.
    The classifier adds ``c_last * classes``; global pooling is not a MAC.
    """
    s, e = cfg.stem_width, cfg.expansion
    h = conv_out(image_size, 7, 2, 3)
    macs = h * h * s * 3 * 49
    h = conv_out(h, 3, 2, 1)
    c_in = s
    for stage, (depth, w) in enumerate(zip(cfg.depths, cfg.widths)):
        for block in range(depth):
            stride = 2 if (block == 0 and stage > 0) else 1
            h_out = conv_out(h, 3, stride, 1)
            macs += h * h * w * c_in                 # 1x1 reduce
            macs += h_out * h_out * w * w * 9        # 3x3
            macs += h_out * h_out * e * w * w        # 1x1 expand
            if block == 0:
                macs += h_out * h_out * e * w * c_in  # projection shortcut
            c_in, h = e * w, h_out
    return macs + c_in * cfg.num_classes


def resnet_largest_activation(cfg: ResNetConfig, image_size: int) -> int:
    """Elements of the largest single tensor a forward creates (per image).

    Candidates: the stem output ``s h1^2``, and in each bottleneck the reduced
    ``w h^2``, the 3x3 output ``w h'^2`` and the expanded output ``e w h'^2``.
    """
    s, e = cfg.stem_width, cfg.expansion
    h = conv_out(image_size, 7, 2, 3)
    largest = s * h * h
    h = conv_out(h, 3, 2, 1)
    for stage, (depth, w) in enumerate(zip(cfg.depths, cfg.widths)):
        for block in range(depth):
            stride = 2 if (block == 0 and stage > 0) else 1
            h_out = conv_out(h, 3, stride, 1)
            largest = max(largest, w * h * h, w * h_out * h_out, e * w * h_out * h_out)
            h = h_out
    return largest


# ---------------------------------------------------------------- ViT counts

def vit_tokens(cfg: ViTConfig, image_size: int) -> int:
    """Sequence length: ``(r / patch)^2`` patches plus the class token (197 at r=224)."""
    return (image_size // cfg.patch) ** 2 + 1


def vit_params(cfg: ViTConfig, image_size: int) -> int:
    """Parameters of a ViT (they depend on ``image_size`` through the position table).

    Patch embedding: a ``patch x patch`` conv ``3 -> D`` with bias, ``3 P^2 D + D``;
    class token ``D``; learned position embeddings ``T D`` for ``T`` tokens.  Each
    block: two LayerNorms (``2 D`` each), the attention's input projection to Q, K, V
    (``3 D^2 + 3 D``) and output projection (``D^2 + D``), the MLP ``D -> M -> D``
    (``2 D M + M + D``).  Final LayerNorm ``2 D``, head ``D * classes + classes``.
    """
    d, m, t = cfg.dim, cfg.mlp_dim, vit_tokens(cfg, image_size)
    embed = 3 * cfg.patch ** 2 * d + d + d + t * d
    block = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (2 * d * m + m + d)
    return embed + cfg.depth * block + 2 * d + d * cfg.num_classes + cfg.num_classes


def vit_attention_macs(cfg: ViTConfig, image_size: int) -> int:
    """MACs of the attention matmuls alone: ``Q K^T`` (``T x d_h`` by ``d_h x T`` per
    head: ``T^2 d_h``, times ``heads`` = ``T^2 D``) and ``A V`` (again ``T^2 D``), per block."""
    t = vit_tokens(cfg, image_size)
    return cfg.depth * 2 * t * t * cfg.dim


def vit_macs(cfg: ViTConfig, image_size: int) -> int:
    """MACs of one image.

    Patch embedding: ``N = (r/P)^2`` patches, each a ``3 P^2 -> D`` product.  Each
    block on ``T = N + 1`` tokens: Q, K, V projections ``3 T D^2``, attention
    ``2 T^2 D`` (:func:`vit_attention_macs`), output projection ``T D^2``, MLP
    ``2 T D M``.  The head reads only the class token: ``D * classes``.
    """
    d, m = cfg.dim, cfg.mlp_dim
    t = vit_tokens(cfg, image_size)
    n = t - 1
    per_block_linear = 3 * t * d * d + t * d * d + 2 * t * d * m
    return (n * 3 * cfg.patch ** 2 * d + cfg.depth * per_block_linear
            + vit_attention_macs(cfg, image_size) + d * cfg.num_classes)


def vit_largest_activation(cfg: ViTConfig, image_size: int) -> int:
    """Elements of the largest single tensor per image: the MLP hidden layer ``T M``,
    the fused Q, K, V ``3 T D``, or the attention scores ``heads T^2`` -- the scores only
    where attention is computed unfused (SDPA's math path; the fused CPU/GPU kernels
    never hold the ``T x T`` matrix)."""
    t = vit_tokens(cfg, image_size)
    return max(t * cfg.mlp_dim, 3 * t * cfg.dim, cfg.heads * t * t)


# ---------------------------------------------------------------- ConvNeXt counts

def convnext_params(cfg: ConvNeXtConfig) -> int:
    """Parameters of a ConvNeXt.

    Stem: ``p x p`` conv ``3 -> C_0`` with bias (``3 p^2 C_0 + C_0``) and a LayerNorm
    (``2 C_0``).  A block at ``C`` channels: depthwise ``k x k`` conv ``k^2 C + C``,
    LayerNorm ``2 C``, 1x1 expand ``C -> 4C`` (``4 C^2 + 4 C``), 1x1 project
    (``4 C^2 + C``), layer scale ``C``.  Between stages: LayerNorm ``2 C_prev`` and a
    2x2 conv ``4 C_prev C + C``.  Head: LayerNorm ``2 C_last``, linear
    ``C_last * classes + classes``.
    """
    p, k, r = cfg.stem_patch, cfg.kernel, cfg.mlp_ratio
    c0 = cfg.dims[0]
    total = 3 * p * p * c0 + c0 + 2 * c0
    prev = c0
    for stage, (depth, c) in enumerate(zip(cfg.depths, cfg.dims)):
        if stage > 0:
            total += 2 * prev + 4 * prev * c + c
        block = (k * k * c + c) + 2 * c + (r * c * c + r * c) + (r * c * c + c) + c
        total += depth * block
        prev = c
    return total + 2 * prev + prev * cfg.num_classes + cfg.num_classes


def convnext_macs(cfg: ConvNeXtConfig, image_size: int) -> int:
    """MACs of one image.

    Stem at side ``h_0 = r / p``: ``h_0^2 C_0 (3 p^2)``.  A block at side ``h``:
    depthwise ``h^2 C k^2`` (each output channel sees one input channel), then the two
    1x1 convs ``2 h^2 (4C) C`` -- the MLP of a Transformer applied at every pixel,
    which dominates.  The 2x2/2 downsampling conv at the new side ``h``: ``h^2 C (4 C_prev)``.
    Head: ``C_last * classes``.
    """
    p, k, r = cfg.stem_patch, cfg.kernel, cfg.mlp_ratio
    h = conv_out(image_size, p, p)
    macs = h * h * cfg.dims[0] * 3 * p * p
    prev = cfg.dims[0]
    for stage, (depth, c) in enumerate(zip(cfg.depths, cfg.dims)):
        if stage > 0:
            h = conv_out(h, 2, 2)
            macs += h * h * c * 4 * prev
        macs += depth * (h * h * c * k * k + 2 * h * h * r * c * c)
        prev = c
    return macs + prev * cfg.num_classes


def convnext_largest_activation(cfg: ConvNeXtConfig, image_size: int) -> int:
    """Elements of the largest single tensor per image: a block's expanded hidden
    layer ``4 C h^2`` (largest in the first stage) or the stem output ``C_0 h_0^2``."""
    h = conv_out(image_size, cfg.stem_patch, cfg.stem_patch)
    largest = cfg.dims[0] * h * h
    for stage, c in enumerate(cfg.dims):
        if stage > 0:
            h = conv_out(h, 2, 2)
        largest = max(largest, cfg.mlp_ratio * c * h * h)
    return largest


# ---------------------------------------------------------------- by name

def analytic_params(name: str, image_size: int = 224) -> int:
    """Learnable parameters of ``name`` (only ViT's depend on ``image_size``)."""
    spec = get_spec(name)
    _check_image_size(spec, image_size)
    cfg = spec.config
    if isinstance(cfg, ResNetConfig):
        return resnet_params(cfg)
    if isinstance(cfg, ViTConfig):
        return vit_params(cfg, image_size)
    return convnext_params(cfg)


def analytic_macs(name: str, image_size: int = 224) -> int:
    """Multiply-accumulates of one ``image_size`` x ``image_size`` image's forward pass
    (convolutions, linear layers, attention matmuls)."""
    spec = get_spec(name)
    _check_image_size(spec, image_size)
    cfg = spec.config
    if isinstance(cfg, ResNetConfig):
        return resnet_macs(cfg, image_size)
    if isinstance(cfg, ViTConfig):
        return vit_macs(cfg, image_size)
    return convnext_macs(cfg, image_size)


def largest_activation_elements(name: str, image_size: int = 224) -> int:
    """Elements of the largest single intermediate tensor, per image (a lower bound on
    a forward's working memory: the layer's input and output are live together, and
    residual blocks keep their input too)."""
    spec = get_spec(name)
    _check_image_size(spec, image_size)
    cfg = spec.config
    if isinstance(cfg, ResNetConfig):
        return resnet_largest_activation(cfg, image_size)
    if isinstance(cfg, ViTConfig):
        return vit_largest_activation(cfg, image_size)
    return convnext_largest_activation(cfg, image_size)


# ---------------------------------------------------------------- published accuracy

@dataclass(frozen=True)
class Published:
    """A published ImageNet-1k validation top-1 (%), with what was evaluated and where
    the number comes from.  ``weights``: the exact checkpoint/recipe; ``eval``: the
    evaluation protocol as documented."""

    top1: float
    weights: str
    eval: str
    source: str
    torchvision_weights: str | None = None   # e.g. "ResNet50_Weights.IMAGENET1K_V1"


_TV_DOCS = "https://pytorch.org/vision/stable/models/generated/torchvision.models."

PUBLISHED_TOP1: dict[str, list[Published]] = {
    "resnet50": [
        Published(76.130, "torchvision ResNet50_Weights.IMAGENET1K_V1 (ResNet v1.5, torchvision's "
                  "simple recipe)", "resize 256, centre crop 224",
                  f"torchvision weight metadata (acc@1); {_TV_DOCS}resnet50.html",
                  torchvision_weights="ResNet50_Weights.IMAGENET1K_V1"),
        Published(80.858, "torchvision ResNet50_Weights.IMAGENET1K_V2 (torchvision's new recipe, "
                  "the DEFAULT weights)", "resize 232, centre crop 224",
                  "torchvision weight metadata (acc@1); same page",
                  torchvision_weights="ResNet50_Weights.IMAGENET1K_V2"),
        Published(75.3, "He et al. 2016, original ResNet-50 (Caffe model, 1-crop val error 24.7%)",
                  "resize 256, centre crop 224",
                  "https://github.com/KaimingHe/deep-residual-networks (README, Results)"),
        Published(77.1, "He et al. 2016, original ResNet-50 (10-crop val error 22.9%, as in "
                  "the paper)",
                  "10 crops of 224 from resize 256",
                  "https://github.com/KaimingHe/deep-residual-networks (README, Results)"),
    ],
    "vit_b_16": [
        Published(81.072, "torchvision ViT_B_16_Weights.IMAGENET1K_V1 (ImageNet-1k from scratch, "
                  "modified DeiT recipe)", "resize 256, centre crop 224",
                  f"torchvision weight metadata (acc@1); {_TV_DOCS}vit_b_16.html",
                  torchvision_weights="ViT_B_16_Weights.IMAGENET1K_V1"),
        Published(81.8, "DeiT-B = deit_base_patch16_224 (the ViT-B/16 architecture, ImageNet-1k "
                  "only, DeiT recipe, no distillation; evaluation log 81.846)", "centre crop 224",
                  "Touvron et al. 2021; https://github.com/facebookresearch/deit (README_deit.md)"),
    ],
    "convnext_base": [
        Published(84.062, "torchvision ConvNeXt_Base_Weights.IMAGENET1K_V1 (torchvision's new "
                  "recipe)",
                  "resize 232, centre crop 224",
                  f"torchvision weight metadata (acc@1); {_TV_DOCS}convnext_base.html",
                  torchvision_weights="ConvNeXt_Base_Weights.IMAGENET1K_V1"),
        Published(83.8, "Liu et al. 2022, ConvNeXt-B trained on ImageNet-1k at 224x224 "
                  "(convnext_base_1k_224_ema)", "224 x 224",
                  "https://github.com/facebookresearch/ConvNeXt (README, ImageNet-1K trained "
                  "models)"),
    ],
}

# What the source chapter's table states (NVIDIA A100 40GB, batch 32, 224x224, precision
# not named).  Kept to print beside our figures; "note" records what we could verify.
SOURCE_CLAIMS: dict[str, dict] = {
    "resnet50": {"params_M": 25, "ms": 8.2, "GB": 1.2, "top1": 76.2,
                 "note": "76.2 not found in the sources checked; torchvision's IMAGENET1K_V1 "
                         "weights are documented at 76.13 (unverified)"},
    "vit_b_16": {"params_M": 86, "ms": 15.4, "GB": 3.8, "top1": 81.8,
                 "note": "81.8 is DeiT-B (same architecture, DeiT recipe); torchvision's "
                         "ViT-B/16 weights: 81.07"},
    "convnext_base": {"params_M": 89, "ms": 11.3, "GB": 2.1, "top1": 83.1,
                      "note": "83.1 is ConvNeXt-S (50M params) in the ConvNeXt paper's table; "
                              "ConvNeXt-B at 224 is 83.8"},
}


# ---------------------------------------------------------------- building

def build(name: str, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
          *, image_size: int = 224, seed: int = 0) -> torch.nn.Module:
    """torchvision's ``name`` with random weights (seeded), in eval mode, on ``device``.

    ``device="meta"`` builds shapes only (no memory, no initialisation): enough for
    parameter and FLOP counts.  ``image_size`` matters only for ViT (its position
    table); the CNNs accept any input size.  The global RNG is left untouched.
    """
    spec = get_spec(name)
    _check_image_size(spec, image_size)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    tv = import_torchvision()
    ctor = getattr(tv.models, name)
    kwargs = {"image_size": image_size} if isinstance(spec.config, ViTConfig) else {}
    dev = torch.device(device)
    if dev.type == "meta":
        with torch.device("meta"):
            model = ctor(weights=None, **kwargs)
        return model.to(dtype=dtype).eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ctor(weights=None, **kwargs)     # initialised on the CPU, then moved
    return model.to(device=dev, dtype=dtype).eval()


def module_params(model: torch.nn.Module) -> int:
    """``sum(p.numel())`` over the module's parameters (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def weights_bytes(model: torch.nn.Module) -> int:
    """Bytes of the parameters and buffers (BatchNorm statistics) as stored."""
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


# ---------------------------------------------------------------- FLOP counting

@contextlib.contextmanager
def all_matmuls_visible():
    """Run attention unfused so that FlopCounterMode sees every matmul: the
    ``nn.MultiheadAttention`` fast path off, SDPA restricted to its math backend."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


def count_flops(model: torch.nn.Module, x: torch.Tensor, *, visible: bool = True) -> int:
    """FlopCounterMode's total for ``model(x)`` (2 per MAC of convs, matmuls, attention).

    ``visible=False`` counts with torch's default attention paths, which on the CPU
    hide ViT's attention (see the module doc); works on ``meta`` tensors too.
    """
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    ctx = all_matmuls_visible() if visible else contextlib.nullcontext()
    with ctx, torch.inference_mode(), counter:
        model(x)
    return int(counter.get_total_flops())


def flops_per_image(name: str, image_size: int = 224) -> int:
    """FlopCounterMode's count for one image, on a meta-device model (instant)."""
    model = build(name, "meta", image_size=image_size)
    x = torch.empty(1, 3, image_size, image_size, device="meta")
    return count_flops(model, x)


# ---------------------------------------------------------------- timing helpers

def example_input(batch: int, image_size: int = 224, device: str | torch.device = "cpu",
                  dtype: torch.dtype = torch.float32, seed: int = 0) -> torch.Tensor:
    """A seeded ``(batch, 3, image_size, image_size)`` input."""
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, image_size, image_size, generator=g)
    return x.to(device=device, dtype=dtype)


def forward_fn(model: torch.nn.Module, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A callable running ``model(x)`` under ``torch.inference_mode()`` (no autograd
    bookkeeping: the setting a deployed classifier runs in), for the timers."""
    def run() -> torch.Tensor:
        with torch.inference_mode():
            return model(x)
    return run


# ---------------------------------------------------------------- peak memory (CPU)

def peak_memory_subprocess(workload: dict, *, timeout: float = 900) -> dict:
    """Run ``workload`` in a fresh Python process and return its memory figures.

    A fresh process because the allocator reuses memory freed by earlier work without
    growing the resident set: in a long-lived process a second measurement reads low.
    ``workload``: ``{"kind": "forward", "model", "batch", "image_size", "dtype",
    "threads"}`` or ``{"kind": "allocate", "nbytes"}`` (a known workload, to check the
    method).  Returned bytes (all resident-set figures, page granularity):
    ``peak_bytes`` -- high-water mark during the call minus the baseline taken after
    the imports, before the model was built (weights + input + the forward's working
    memory); ``forward_peak_bytes`` -- the high-water mark minus the resident set just
    before the call (the call's own working memory); plus the raw readings.
    """
    if workload.get("kind") not in ("forward", "allocate"):
        raise ValueError(f"workload['kind'] must be 'forward' or 'allocate', got "
                         f"{workload.get('kind')!r}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]]
                                                       if env.get("PYTHONPATH") else []))
    proc = subprocess.run([sys.executable, "-m", "course_lib.bench.vision_models", "--peak",
                           json.dumps(workload)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"memory subprocess for {workload} failed (exit {proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def forward_peak_memory(name: str, batch: int, *, image_size: int = 224,
                        dtype: str = "float32", threads: int | None = None,
                        timeout: float = 900) -> dict:
    """Resident-set peak of one forward of ``name`` at ``batch`` (fresh process; see
    :func:`peak_memory_subprocess`).  Adds ``weights_bytes`` and ``input_bytes``."""
    get_spec(name)
    if dtype not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"dtype must be 'float32', 'float16' or 'bfloat16', got {dtype!r}")
    return peak_memory_subprocess({"kind": "forward", "model": name, "batch": batch,
                                   "image_size": image_size, "dtype": dtype,
                                   "threads": threads or torch.get_num_threads()},
                                  timeout=timeout)


def allocation_peak_memory(nbytes: int) -> dict:
    """The same measurement around allocating and filling ``nbytes`` bytes (a check
    of the method: ``forward_peak_bytes`` should come out close to ``nbytes``)."""
    if not isinstance(nbytes, int) or nbytes < 1:
        raise ValueError(f"nbytes must be a positive int, got {nbytes!r}")
    return peak_memory_subprocess({"kind": "allocate", "nbytes": nbytes})


def _measure_in_this_process(workload: dict) -> dict:
    """The child's side of :func:`peak_memory_subprocess`."""
    if workload["kind"] == "allocate":
        baseline = rss_bytes()
        can_reset = reset_peak_rss()
        before = rss_bytes()
        buf = torch.empty(int(workload["nbytes"]), dtype=torch.uint8)
        buf.fill_(1)                     # touch every page: untouched pages are not resident
        peak = peak_rss_bytes()
        extra = {"nbytes": int(workload["nbytes"])}
    else:
        torch.set_num_threads(int(workload["threads"]))
        import_torchvision()             # library code loaded before the baseline
        dtype = getattr(torch, workload["dtype"])
        baseline = rss_bytes()
        model = build(workload["model"], dtype=dtype, image_size=int(workload["image_size"]))
        x = example_input(int(workload["batch"]), int(workload["image_size"]), dtype=dtype)
        can_reset = reset_peak_rss()
        before = rss_bytes()
        with torch.inference_mode():
            model(x)
        peak = peak_rss_bytes()
        extra = {"weights_bytes": weights_bytes(model),
                 "input_bytes": x.numel() * x.element_size(),
                 "threads": torch.get_num_threads()}
    ok = None not in (baseline, before, peak)
    return {"baseline_rss_bytes": baseline, "before_call_rss_bytes": before,
            "peak_rss_bytes": peak, "hwm_reset": can_reset,
            "peak_bytes": peak - baseline if ok else None,
            "forward_peak_bytes": peak - before if ok and can_reset else None, **extra}


# ---------------------------------------------------------------- peak memory (CUDA)

def cuda_forward_memory(model: torch.nn.Module, x: torch.Tensor) -> dict:
    """Allocator peak of one forward on the GPU: ``peak_bytes`` = everything allocated
    at the peak (weights + input + activations and workspaces), ``forward_peak_bytes``
    = the part above what was allocated before the call.  Needs CUDA."""
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    with torch.inference_mode():
        model(x)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    return {"peak_bytes": int(peak), "forward_peak_bytes": int(peak - before),
            "source": "torch.cuda.max_memory_allocated"}


def _main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "--peak":
        print("usage: python -m course_lib.bench.vision_models --peak '<workload JSON>'",
              file=sys.stderr)
        return 2
    print(json.dumps(_measure_in_this_process(json.loads(args[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(_main())

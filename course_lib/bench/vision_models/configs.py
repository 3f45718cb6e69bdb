"""The three models' configurations and the name -> :class:`ModelSpec` table (no torch).

Each config holds the hyper-parameters the closed-form counts of :mod:`.counts` read:
ResNet-50 (:class:`ResNetConfig`), ViT-B/16 (:class:`ViTConfig`), ConvNeXt-B
(:class:`ConvNeXtConfig`).  :func:`conv_out` gives a convolution's output side.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


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

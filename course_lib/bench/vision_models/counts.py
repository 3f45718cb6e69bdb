"""Closed-form parameter, MAC and largest-activation counts (no torch).

Counts are derived from each architecture's configuration, independently of torch
modules, for one ``3 x image_size x image_size`` image (per-image MACs, per-image
activation elements): :func:`analytic_params`, :func:`analytic_macs`,
:func:`largest_activation_elements` by model name, and the per-family functions they
dispatch to (``resnet_*``, ``vit_*``, ``convnext_*``).
"""
from __future__ import annotations

from .configs import ConvNeXtConfig, ResNetConfig, ViTConfig, _check_image_size, conv_out, get_spec


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

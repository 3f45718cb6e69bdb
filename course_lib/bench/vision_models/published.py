"""Published ImageNet-1k top-1 accuracies, quoted with their sources (never measured
here: the models have random weights and there is no ImageNet), and what the source
chapter's table claims (:data:`SOURCE_CLAIMS`).  No torch."""
from __future__ import annotations

from dataclasses import dataclass


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

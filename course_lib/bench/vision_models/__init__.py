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

Files (every name below is re-exported here, so ``vision_models.X`` works for all):

* :mod:`.configs` -- :class:`ResNetConfig`, :class:`ViTConfig`, :class:`ConvNeXtConfig`,
  :class:`ModelSpec`, :data:`MODELS`, :func:`get_spec`, :func:`conv_out` (no torch).
* :mod:`.counts` -- the closed-form counts: ``resnet_*``, ``vit_*``, ``convnext_*``,
  :func:`analytic_params`, :func:`analytic_macs`, :func:`largest_activation_elements`
  (no torch: ``import course_lib.bench.vision_models.counts`` does not load it).
* :mod:`.published` -- :class:`Published`, :data:`PUBLISHED_TOP1`, :data:`SOURCE_CLAIMS`
  (no torch).
* :mod:`.build` -- :func:`build`, :func:`module_params`, :func:`weights_bytes`,
  :func:`example_input`, :func:`forward_fn` (torch).
* :mod:`.flops` -- :func:`all_matmuls_visible`, :func:`count_flops`,
  :func:`flops_per_image` (torch).
* :mod:`.memory` -- :func:`peak_memory_subprocess`, :func:`forward_peak_memory`,
  :func:`allocation_peak_memory`, :func:`cuda_forward_memory` (torch).
* ``__main__`` -- ``python -m course_lib.bench.vision_models --peak '<workload JSON>'``,
  the child process of :func:`peak_memory_subprocess`.

The torch-free names are imported at once; those of :mod:`.build`, :mod:`.flops` and
:mod:`.memory` (and ``import_torchvision``) on first access, so that importing this
package does not import torch.
"""
from __future__ import annotations

import importlib

from .configs import (MODELS, Config, ConvNeXtConfig, ModelSpec, ResNetConfig, ViTConfig,
                      _check_image_size, conv_out, get_spec)
from .counts import (analytic_macs, analytic_params, convnext_largest_activation,
                     convnext_macs, convnext_params, largest_activation_elements,
                     resnet_largest_activation, resnet_macs, resnet_params,
                     vit_attention_macs, vit_largest_activation, vit_macs, vit_params,
                     vit_tokens)
from .published import _TV_DOCS, PUBLISHED_TOP1, SOURCE_CLAIMS, Published

# name -> submodule holding it; these import torch, so they load on first access
_LAZY = {
    "build": ".build", "module_params": ".build", "weights_bytes": ".build",
    "example_input": ".build", "forward_fn": ".build",
    "all_matmuls_visible": ".flops", "count_flops": ".flops", "flops_per_image": ".flops",
    "ROOT": ".memory", "peak_memory_subprocess": ".memory", "forward_peak_memory": ".memory",
    "allocation_peak_memory": ".memory", "_measure_in_this_process": ".memory",
    "cuda_forward_memory": ".memory", "_main": ".__main__",
    "import_torchvision": "..torchvision_import",
}

__all__ = ["ResNetConfig", "ViTConfig", "ConvNeXtConfig", "Config", "ModelSpec", "MODELS",
           "get_spec", "conv_out",
           "resnet_params", "resnet_macs", "resnet_largest_activation",
           "vit_tokens", "vit_params", "vit_attention_macs", "vit_macs",
           "vit_largest_activation",
           "convnext_params", "convnext_macs", "convnext_largest_activation",
           "analytic_params", "analytic_macs", "largest_activation_elements",
           "Published", "PUBLISHED_TOP1", "SOURCE_CLAIMS",
           "build", "module_params", "weights_bytes", "example_input", "forward_fn",
           "all_matmuls_visible", "count_flops", "flops_per_image",
           "peak_memory_subprocess", "forward_peak_memory", "allocation_peak_memory",
           "cuda_forward_memory", "import_torchvision"]


def __getattr__(name: str):
    """Load a torch-dependent name from its submodule on first access (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

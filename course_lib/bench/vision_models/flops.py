"""FLOP counting with ``torch.utils.flop_counter.FlopCounterMode``, attention unfused
so that every matmul is seen (see the package docstring for the trap).  Imports torch."""
from __future__ import annotations

import contextlib

import torch

from .build import build


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
    hide ViT's attention (see the package doc); works on ``meta`` tensors too.
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

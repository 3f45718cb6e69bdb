"""torchvision models with random weights, their parameter and byte counts, and a
seeded ``(batch, 3, image_size, image_size)`` input with a forward callable for the
timers of :mod:`course_lib.bench.timing`.  Imports torch."""
from __future__ import annotations

from typing import Callable

import torch

from ..torchvision_import import import_torchvision
from .configs import ViTConfig, _check_image_size, get_spec


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

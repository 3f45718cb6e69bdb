"""A minimal module base: named parameters, gradients, train/eval, state dicts.

Every block of the attention chapter keeps its parameters in a dict whose keys are
PyTorch's ``state_dict`` names (``in_proj_weight``, ``out_proj.bias``, ``norm1.weight``
...), so copying weights to and from ``torch.nn`` modules is a dictionary copy and a
test can compare gradients name by name.

Conventions shared by the subclasses:

* ``forward(...)`` (also ``__call__``) keeps references to what its backward needs
  (no copies) in ``self._cache``; ``backward(dout)`` uses the cache of the *last*
  forward call, returns the gradient(s) of the input(s) and stores parameter
  gradients in ``self.grads`` (same keys and shapes as ``self.params``, overwritten,
  not accumulated).
* Modules start in training mode, as in PyTorch; ``eval()`` turns dropout off.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np


class Module:
    """Base class: ``params``/``grads`` dicts, children, ``train()``/``eval()``, state dicts."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True
        # name -> child; the empty name "" merges a child's parameter names into ours
        # (the feed-forward block's linear1/linear2 sit directly on the encoder layer in torch)
        self._children: dict[str, Module] = {}
        self._cache: dict | None = None

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- modes -------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active) for this module and its children; returns self."""
        self.training = bool(mode)
        for child in self._children.values():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: dropout is the identity.  Returns self."""
        return self.train(False)

    # -- parameters --------------------------------------------------------------------
    def _walk(self, prefix: str = "") -> Iterator[tuple[str, "Module", str]]:
        for name in self.params:
            yield prefix + name, self, name
        for cname, child in self._children.items():
            yield from child._walk(prefix + (cname + "." if cname else ""))

    def named_parameters(self) -> dict[str, np.ndarray]:
        """Every parameter by its full (PyTorch state_dict) name; the arrays themselves, not copies."""
        return {full: mod.params[name] for full, mod, name in self._walk()}

    def named_grads(self) -> dict[str, np.ndarray]:
        """The gradients of the last backward call, by full parameter name."""
        missing = [full for full, mod, name in self._walk() if name not in mod.grads]
        if missing:
            raise RuntimeError(f"no gradient for {missing}: call backward() after forward() first")
        return {full: mod.grads[name] for full, mod, name in self._walk()}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter, by full name."""
        return {k: v.copy() for k, v in self.named_parameters().items()}

    def load_state_dict(self, state: dict) -> "Module":
        """Copy arrays (NumPy or anything ``np.asarray`` accepts) into the parameters in place.

        Keys and shapes must match exactly; values are cast to each parameter's dtype.
        """
        own = {full: (mod, name) for full, mod, name in self._walk()}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"state dict keys differ: missing {missing}, unexpected {unexpected}")
        for full, (mod, name) in own.items():
            value = np.asarray(state[full])
            if value.shape != mod.params[name].shape:
                raise ValueError(f"{full}: expected shape {mod.params[name].shape}, "
                                 f"got {value.shape}")
            mod.params[name][...] = value
        return self

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (float32 or float64)."""
        params = self.named_parameters()
        return next(iter(params.values())).dtype if params else np.dtype(np.float32)


def torch_state_to_numpy(module) -> dict[str, np.ndarray]:
    """A torch module's state_dict as NumPy copies (parameters only, no buffers)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in module.named_parameters()}


def torch_dtype_to_numpy(module) -> np.dtype:
    """The NumPy dtype of a torch module's first parameter (float32 or float64)."""
    p = next(module.parameters())
    return np.dtype({"torch.float32": np.float32, "torch.float64": np.float64}[str(p.dtype)])


def check_float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def as_rng(rng) -> np.random.Generator:
    """``None`` (fresh, unseeded), an int seed, or a Generator -> a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")


def copy_into_torch(torch_module, module: Module):
    """Copy ``module``'s parameters into ``torch_module`` (names must match); return it."""
    import torch
    ours = module.named_parameters()
    theirs = dict(torch_module.named_parameters())
    if set(ours) != set(theirs):
        raise ValueError(f"parameter names differ: ours {sorted(ours)}, torch {sorted(theirs)}")
    with torch.no_grad():
        for k, v in ours.items():
            theirs[k].copy_(torch.from_numpy(np.ascontiguousarray(v)))
    return torch_module.train(module.training)


def torch_dtype(dtype):
    """float32/float64 -> torch.float32/torch.float64."""
    import torch
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]

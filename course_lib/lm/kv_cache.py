"""A preallocated key/value cache for decoding with :class:`.TransformerLanguageModel`.

One tensor holds every layer's keys and values::

    data: (layers, 2, B, heads, capacity, head_dim)      [:, 0] keys, [:, 1] values

so its size is ``layers · 2 · B · capacity · d_model · itemsize`` bytes (heads ·
head_dim = d_model): for the source-sized model (6 layers, d_model 768) in float32,
36,864 bytes per token and sequence, 75.5 MB for one sequence of 2048 tokens, 2.4 GB
for a batch of 32 such sequences.  It is allocated once; positions
``[0, length)`` hold valid entries.  A forward at ``start_pos`` writes the new tokens'
keys/values at ``[start_pos, start_pos + T)`` and attends to ``[0, start_pos + T)``,
so a decoded token reads the stored prefix instead of recomputing it.
"""
from __future__ import annotations

import torch

from ._checks import check_index


class KVCache:
    """Keys and values of the tokens seen so far, for every layer (shape above).

    ``length``: how many leading positions are valid.  Writing past ``capacity`` is an
    error, never a silent reallocation.
    """

    def __init__(self, layers: int, batch: int, heads: int, head_dim: int, capacity: int,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        for name, v in (("layers", layers), ("batch", batch), ("heads", heads),
                        ("head_dim", head_dim), ("capacity", capacity)):
            check_index(name, v, 1)
        self.data = torch.zeros((layers, 2, batch, heads, capacity, head_dim), dtype=dtype,
                                device=device)
        self.length = 0

    @property
    def layers(self) -> int:
        return self.data.shape[0]

    @property
    def batch(self) -> int:
        return self.data.shape[2]

    @property
    def heads(self) -> int:
        return self.data.shape[3]

    @property
    def capacity(self) -> int:
        return self.data.shape[4]

    @property
    def head_dim(self) -> int:
        return self.data.shape[5]

    @property
    def nbytes(self) -> int:
        """Bytes allocated (the whole capacity, used or not)."""
        return self.data.numel() * self.data.element_size()

    def check_write(self, start_pos: int, count: int) -> None:
        """A write of ``count`` positions at ``start_pos`` must leave no gap and fit."""
        if start_pos > self.length:
            raise ValueError(f"start_pos={start_pos} would leave a gap: the cache holds only "
                             f"{self.length} positions (start_pos must be <= {self.length})")
        if start_pos + count > self.capacity:
            raise ValueError(f"KV cache overflow: writing {count} position(s) at "
                             f"start_pos={start_pos} needs {start_pos + count}, capacity is "
                             f"{self.capacity}")

    def write(self, layer: int, start_pos: int, k: torch.Tensor, v: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """Store k, v (B, heads, T, head_dim) at ``[start_pos, start_pos + T)`` of ``layer``;
        return views of the keys and values at ``[0, start_pos + T)``."""
        end = start_pos + k.shape[2]
        self.data[layer, 0, :, :, start_pos:end] = k
        self.data[layer, 1, :, :, start_pos:end] = v
        return self.data[layer, 0, :, :, :end], self.data[layer, 1, :, :, :end]

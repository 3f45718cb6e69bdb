"""Attention and the Transformer encoder layer in NumPy (section 16.4).

Everything matches PyTorch's semantics and parameter layout, keeps float32/float64,
and has a backward pass:

* :mod:`.softmax` -- stable softmax (all-masked rows give zeros) and its backward
* :mod:`.masks` -- causal masks, mask checks (SDPA: bool True = may attend)
* :mod:`.sdpa` -- ``scaled_dot_product_attention``, ``attention_weights``, backward
* :mod:`.heads` -- splitting the width into heads and merging them back
* :mod:`.multihead` -- ``MultiHeadAttention`` (= ``torch.nn.MultiheadAttention``)
* :mod:`.layernorm`, :mod:`.activations`, :mod:`.feedforward`, :mod:`.dropout`,
  :mod:`.linear` -- the other pieces of a layer
* :mod:`.encoder_layer` -- ``TransformerEncoderLayer`` (post-LN and pre-LN)
* :mod:`.positional` -- sinusoidal positional encoding
* :mod:`.flops` -- flop and memory counts of each block
* :mod:`.optim`, :mod:`.train` -- Adam and a tiny end-to-end training run

Section 16.5:

* :mod:`.online_softmax` -- partial softmax results (m, l, acc) and their merge
* :mod:`.flash` -- ``flash_attention`` (tiled, no L x S matrix) and its backward
* :mod:`.gqa` -- grouped-/multi-query attention (``enable_gqa``) and their modules
* :mod:`.kv_cache` -- ``KVCache`` and one decoding step

The CUDA kernels of this section live in ``course_lib.attention.gpu`` (imported
separately, it needs the kernel runtime).
"""
from .activations import gelu, gelu_backward, relu, relu_backward
from .dropout import Dropout
from .encoder_layer import TransformerEncoderLayer
from .feedforward import FeedForward
from .heads import merge_heads, split_heads
from .layernorm import LayerNorm
from .linear import Linear, linear, linear_backward
from .masks import causal_mask
from .module import Module
from .multihead import MultiHeadAttention
from .positional import sinusoidal_positional_encoding
from .sdpa import (attention_weights, masked_scores, scaled_dot_product_attention,
                   scaled_dot_product_attention_backward)
from .softmax import softmax, softmax_backward
from .online_softmax import merge_partials
from .flash import causal_tile_plan, flash_attention, flash_attention_backward
from .gqa import GroupedQueryAttention, MultiQueryAttention, gqa_head_map

__all__ = ["softmax", "softmax_backward", "causal_mask", "masked_scores", "attention_weights",
           "scaled_dot_product_attention", "scaled_dot_product_attention_backward",
           "split_heads", "merge_heads", "MultiHeadAttention", "LayerNorm", "Linear", "linear",
           "linear_backward", "relu", "relu_backward", "gelu", "gelu_backward", "FeedForward",
           "Dropout", "TransformerEncoderLayer", "sinusoidal_positional_encoding", "Module",
           "merge_partials", "flash_attention", "flash_attention_backward", "causal_tile_plan",
           "GroupedQueryAttention", "MultiQueryAttention", "gqa_head_map"]

"""Exercise 16.6d -- what one decoding step of a Transformer language model costs.

A decoder-only Transformer generates text one token at a time.  With a KV cache, each
layer keeps the keys and values of every earlier token, so a step only computes the new
token's row.  The model is described by a dict ``config``:

    "layers"    number of decoder blocks                 "d_model"  width d
    "heads"     query heads (head size d // heads)       "d_ff"     hidden width of the MLP
    "vocab"     vocabulary size                          "tied_head" bool: the LM head
    "kv_heads"  (optional, default = heads) key/value    reuses the embedding matrix
                heads, grouped-query attention (16.5)

Each block: LayerNorm, attention (Q projection d -> d, K and V projections
d -> kv_heads * head size, output projection d -> d), LayerNorm, MLP (d -> d_ff -> d, one
activation in between); after the last block a LayerNorm and the LM head d -> vocab.

1. ``kv_cache_bytes(config, batch, length, bytes_per_elem)``: bytes of the cache holding
   ``length`` tokens of each of ``batch`` sequences: keys AND values, every layer, each of
   shape (batch, kv_heads, length, head size), ``bytes_per_elem`` bytes per number
   (2 for float16/bfloat16).  An int.
2. ``decode_flops(config, context)``: FLOPs to produce ONE new token of ONE sequence whose
   cache already holds ``context`` tokens (``context = 0``: the first token).  The new
   token's key and value are appended first, so its attention runs over ``context + 1``
   positions.  Count the matrix products only, 2 FLOPs per multiply-accumulate: the four
   projections, the scores q.k and the weighted sum of values over the ``context + 1``
   positions (every query head), the two MLP matrices, the LM head.  Not counted: the
   embedding lookup (a gather), biases, LayerNorm, softmax, the activation, the residual
   additions.  An int.  (Tying the head to the embedding saves parameters, not FLOPs.)

Raise ``ValueError`` naming the key or argument when a size is < 1 (``context`` and
``length`` may be 0), when ``d_model`` is not divisible by ``heads`` or ``heads`` by
``kv_heads``, or when a key is missing.  Plain NumPy (or plain Python) only.
"""
from __future__ import annotations

KEYS = ("layers", "d_model", "heads", "d_ff", "vocab", "tied_head")


def check_config(config):
    """Validated sizes: returns (layers, d_model, heads, kv_heads, d_ff, vocab)."""
    # BEGIN SOLUTION: every key of KEYS must be present (ValueError naming a missing one);
    # kv_heads = config.get("kv_heads", heads); layers, d_model, heads, kv_heads, d_ff, vocab
    # must be integers >= 1, d_model % heads == 0 and heads % kv_heads == 0 (ValueError naming
    # the keys and values); return the six sizes as ints.
    missing = [k for k in KEYS if k not in config]
    if missing:
        raise ValueError(f"config is missing the key(s) {missing}; it needs {list(KEYS)}")
    sizes = {k: config[k] for k in ("layers", "d_model", "heads", "d_ff", "vocab")}
    sizes["kv_heads"] = config.get("kv_heads", config["heads"])
    for key, value in sizes.items():
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"config[{key!r}] must be an integer >= 1, got {value!r}")
    if sizes["d_model"] % sizes["heads"]:
        raise ValueError(f"d_model={sizes['d_model']} is not divisible by heads={sizes['heads']}")
    if sizes["heads"] % sizes["kv_heads"]:
        raise ValueError(f"heads={sizes['heads']} is not divisible by "
                         f"kv_heads={sizes['kv_heads']}")
    return tuple(int(sizes[k]) for k in ("layers", "d_model", "heads", "kv_heads", "d_ff", "vocab"))
    # END SOLUTION


def kv_cache_bytes(config, batch, length, bytes_per_elem):
    """Bytes of the K and V caches of all layers for ``batch`` sequences of ``length`` tokens."""
    # BEGIN SOLUTION: sizes from check_config; batch >= 1, bytes_per_elem >= 1, length >= 0
    # (ValueError naming it); 2 (K and V) * layers * batch * kv_heads * (d_model // heads)
    # * length * bytes_per_elem, an int.
    layers, d, heads, kv_heads, _, _ = check_config(config)
    for name, value, least in (("batch", batch, 1), ("length", length, 0),
                               ("bytes_per_elem", bytes_per_elem, 1)):
        if int(value) != value or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {name}={value!r}")
    return int(2 * layers * batch * kv_heads * (d // heads) * length * bytes_per_elem)
    # END SOLUTION


def decode_flops(config, context):
    """FLOPs (2 per multiply-accumulate) of the matrix products of one decoding step."""
    # BEGIN SOLUTION: sizes from check_config; context >= 0 (ValueError); hd = d // heads,
    # n = context + 1; per layer 2*(d*d + 2*d*kv_heads*hd + d*d) projections
    # + 2*2*heads*hd*n attention + 2*2*d*d_ff MLP; total layers * that + 2*d*vocab, an int.
    layers, d, heads, kv_heads, d_ff, vocab = check_config(config)
    if int(context) != context or context < 0:
        raise ValueError(f"context must be an integer >= 0, got context={context!r}")
    hd, n = d // heads, int(context) + 1
    projections = d * d + 2 * d * kv_heads * hd + d * d     # Q, K and V, output
    attention = 2 * heads * hd * n                          # q.k scores, then p @ V
    mlp = 2 * d * d_ff
    return int(2 * (layers * (projections + attention + mlp) + d * vocab))
    # END SOLUTION

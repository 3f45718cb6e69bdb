"""KV cache and incremental decoding: every step equals the full causal recomputation."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attention_cases import close, tt
from course_lib.attention import GroupedQueryAttention
from course_lib.attention.kv_cache import (MODEL_CONFIGS, KVCache, cached_attention,
                                           decode_step, kv_cache_bytes)


def torch_causal(q, k, v):
    """Full causal attention over every token, GQA via enable_gqa (torch's math backend)."""
    return F.scaled_dot_product_attention(tt(q), tt(k), tt(v), is_causal=True,
                                          enable_gqa=q.shape[1] != k.shape[1]).numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("B,H,Hkv,P,T,E,Ev,block_k", [
    (2, 4, 4, 3, 9, 5, 5, None), (2, 8, 2, 4, 10, 4, 6, 3), (1, 6, 1, 1, 7, 8, 8, 2),
    (3, 2, 1, 5, 8, 3, 2, 1)])
def test_decoding_equals_full_causal_attention_at_every_step(B, H, Hkv, P, T, E, Ev, block_k,
                                                             dtype):
    rng = np.random.default_rng(P * T)
    q = rng.standard_normal((B, H, T, E)).astype(dtype)
    k = rng.standard_normal((B, Hkv, T, E)).astype(dtype)
    v = rng.standard_normal((B, Hkv, T, Ev)).astype(dtype)
    ref = torch_causal(q, k, v)                                # (B, H, T, Ev)
    cache = KVCache(B, Hkv, T, E, Ev, dtype=dtype)
    cache.prefill(k[:, :, :P], v[:, :, :P])
    out = cached_attention(q[:, :, :P], cache, block_k=block_k)   # the prompt, causal
    close(out, ref[:, :, :P], dtype, "prefill")
    for t in range(P, T):
        o = decode_step(q[:, :, t], k[:, :, t], v[:, :, t], cache, block_k=block_k)
        assert o.shape == (B, H, Ev) and o.dtype == dtype
        close(o, ref[:, :, t], dtype, f"step {t}")
        # the cache holds exactly the tokens so far
        np.testing.assert_array_equal(cache.keys, k[:, :, :t + 1])
    assert cache.length == T


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_module_step_equals_causal_forward(dtype):
    layer = GroupedQueryAttention(24, 6, 2, dtype=dtype, rng=3)
    x = np.random.default_rng(4).standard_normal((2, 9, 24)).astype(dtype)
    full = layer(x, is_causal=True)
    cache = KVCache(2, 2, 16, 4, dtype=dtype)
    outs = [layer.step(x[:, :4], cache)]                       # prefill 4 tokens
    outs += [layer.step(x[:, t:t + 1], cache) for t in range(4, 9)]
    close(np.concatenate(outs, axis=1), full, dtype, "steps", scale=2)
    # a chunk of 2 new tokens after a prefix: the mask must be bottom-right aligned
    cache.reset()
    layer.step(x[:, :5], cache)
    close(layer.step(x[:, 5:7], cache), full[:, 5:7], dtype, "chunk", scale=2)


def test_cache_memory_per_token_for_real_models():
    """2 * layers * kv_heads * head_dim * 2 bytes (fp16) per token, from the configs' fields."""
    by_name = {c.name: c for c in MODEL_CONFIGS}
    assert {c.kind for c in MODEL_CONFIGS} == {"MHA", "GQA", "MQA"}
    for c in MODEL_CONFIGS:
        per_token = kv_cache_bytes(c.layers, c.kv_heads, c.head_dim)
        assert per_token == 2 * c.layers * c.kv_heads * c.head_dim * 2
        # the MHA equivalent (one K/V head per query head) is heads/kv_heads times larger
        assert kv_cache_bytes(c.layers, c.heads, c.head_dim) == per_token * c.heads // c.kv_heads
    # and the buffer of a real KVCache agrees with the formula (float32 = 4 bytes)
    cache = KVCache(3, 2, 10, 8, dtype=np.float32)
    assert cache.nbytes == kv_cache_bytes(1, 2, 8, tokens=10, batch=3, bytes_per_element=4)
    assert by_name["Llama-2-7B"].kind == "MHA" and by_name["Falcon-7B"].kind == "MQA"

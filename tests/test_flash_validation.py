"""Bad input to the 16.5 code raises TypeError/ValueError naming the argument and shapes."""
import numpy as np
import pytest

from course_lib.attention import (GroupedQueryAttention, flash_attention,
                                  flash_attention_backward, scaled_dot_product_attention)
from course_lib.attention.flash import causal_tile_plan
from course_lib.attention.kv_cache import KVCache, cached_attention, decode_step

R = np.random.default_rng(0)


def arr(*shape, dtype=np.float64):
    return R.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("fn", ["flash", "sdpa"])
def test_heads_not_divisible_by_kv_heads(fn):
    q, k, v = arr(2, 6, 4, 8), arr(2, 4, 5, 8), arr(2, 4, 5, 8)
    call = flash_attention if fn == "flash" else scaled_dot_product_attention
    with pytest.raises(ValueError, match=r"q dim -3 = 6.*k dim -3 = 4.*\(2, 6, 4, 8\)"):
        call(q, k, v, enable_gqa=True)


def test_gqa_needs_a_head_dim_and_equal_kv_heads():
    with pytest.raises(ValueError, match=r"q must be \(\.\.\., heads"):
        flash_attention(arr(4, 8), arr(5, 8), arr(5, 8), enable_gqa=True)
    with pytest.raises(ValueError, match=r"k and v must have the same number of heads"):
        flash_attention(arr(4, 3, 8), arr(2, 5, 8), arr(1, 5, 8), enable_gqa=True)
    with pytest.raises(ValueError, match="divisible by num_kv_heads"):
        GroupedQueryAttention(24, 6, 4)


@pytest.mark.parametrize("gqa", [False, True])
def test_mismatched_head_dims(gqa):
    with pytest.raises(ValueError, match=r"same feature width.*q \(1, 2, 4, 8\), k \(1, 2, 5, 4\)"):
        flash_attention(arr(1, 2, 4, 8), arr(1, 2, 5, 4), arr(1, 2, 5, 4), enable_gqa=gqa)
    with pytest.raises(ValueError, match=r"same number of keys.*k \(5, 8\), v \(6, 8\)"):
        flash_attention(arr(4, 8), arr(5, 8), arr(6, 8))


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, None])
@pytest.mark.parametrize("which", ["block_q", "block_k"])
def test_block_sizes_below_one(bad, which):
    q = arr(4, 8)
    with pytest.raises(ValueError, match=which):
        flash_attention(q, q, q, **{which: bad})
    out, lse = flash_attention(q, q, q, return_lse=True)
    with pytest.raises(ValueError, match=which):
        flash_attention_backward(out, q, q, q, out, lse, **{which: bad})
    with pytest.raises(ValueError, match=which):
        causal_tile_plan(4, 4, **{"block_q": 2, "block_k": 2, which: bad})


def test_dtypes_nan_and_backward_shapes():
    q = arr(4, 8)
    with pytest.raises(TypeError, match="dtypes differ"):
        flash_attention(q, q.astype(np.float32), q)
    with pytest.raises(TypeError, match="float32 or float64"):
        flash_attention(q.astype(np.float16), q, q)
    bad = q.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"q \(shape \(4, 8\)\) contains 1 NaN"):
        flash_attention(bad, q, q)
    with pytest.raises(TypeError, match="is_causal"):
        flash_attention(q, q, q, is_causal="yes")
    out, lse = flash_attention(q, q, q, return_lse=True)
    with pytest.raises(ValueError, match=r"lse must have shape \(4,\).*got \(3,\)"):
        flash_attention_backward(out, q, q, q, out, lse[:3])
    with pytest.raises(ValueError, match=r"dout must have shape \(4, 8\)"):
        flash_attention_backward(out[:2], q, q, q, out, lse)


def test_cache_overflow_and_bad_tokens():
    cache = KVCache(2, 2, 4, 3, dtype=np.float64)
    cache.prefill(arr(2, 2, 3, 3), arr(2, 2, 3, 3))
    cache.append(arr(2, 2, 3), arr(2, 2, 3))
    with pytest.raises(ValueError, match=r"overflow: 4 tokens cached \+ 1 new > max_len=4"):
        cache.append(arr(2, 2, 3), arr(2, 2, 3))
    assert cache.length == 4
    with pytest.raises(ValueError, match="prefill needs an empty cache"):
        cache.prefill(arr(2, 2, 1, 3), arr(2, 2, 1, 3))
    cache.reset()
    with pytest.raises(ValueError, match=r"k must be \(batch=2, num_kv_heads=2, tokens, 3\), "
                                         r"got shape \(2, 3, 1, 3\)"):
        cache.extend(arr(2, 3, 1, 3), arr(2, 3, 1, 3))
    with pytest.raises(TypeError, match="cache holds float64"):
        cache.append(arr(2, 2, 3, dtype=np.float32), arr(2, 2, 3, dtype=np.float32))
    with pytest.raises(ValueError, match="max_len"):
        KVCache(1, 1, 0, 4)
    cache.append(arr(2, 2, 3), arr(2, 2, 3))
    with pytest.raises(ValueError, match=r"multiple of the cache's num_kv_heads=2"):
        cached_attention(arr(2, 3, 3), cache)
    with pytest.raises(ValueError, match=r"head_dim=3"):
        decode_step(arr(2, 4, 5), arr(2, 2, 3), arr(2, 2, 3), cache)
    assert cache.length == 1          # a rejected step leaves the cache as it was

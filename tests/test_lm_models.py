"""16.6 language models: each checked against a reference written here (torch
composition, explicit attention, full forward vs cached decoding, FlopCounterMode)."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from course_lib.lm import (BACKENDS, TINY_LSTM, TINY_TRANSFORMER, KVCache, LSTMLanguageModel,
                           LSTMLMConfig, TransformerLanguageModel, TransformerLMConfig,
                           kv_cache_bytes, lstm_forward_flops, lstm_lm_params, lstm_state_bytes,
                           transformer_decode_flops, transformer_forward_flops,
                           transformer_lm_params)
from course_lib.lm.counts import itemsize


def _lstm(cfg=TINY_LSTM, seed=0):
    torch.manual_seed(seed)
    return LSTMLanguageModel.from_config(cfg).double()


def _transformer(cfg=TINY_TRANSFORMER, seed=0, backend=None):
    torch.manual_seed(seed)
    m = TransformerLanguageModel.from_config(cfg, backend=backend).double()
    for p in m.parameters():        # LayerNorm starts at (1, 0): move it off, so it is tested
        p.data.add_(0.05 * torch.randn_like(p))
    return m


def _tokens(cfg, B=3, T=11, seed=1):
    return torch.randint(0, cfg.vocab, (B, T), generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- LSTM


@pytest.mark.parametrize("tie", [True, False])
def test_lstm_lm_equals_a_plain_torch_composition(tie):
    cfg = LSTMLMConfig(vocab=37, d_embed=12, hidden=12 if tie else 9, layers=2, tie_weights=tie)
    model = _lstm(cfg)
    emb = torch.nn.Embedding(cfg.vocab, cfg.d_embed).double()
    lstm = torch.nn.LSTM(cfg.d_embed, cfg.hidden, num_layers=cfg.layers).double()  # (T, B, .)
    emb.weight.data.copy_(model.embed.weight.data)
    for name, p in lstm.named_parameters():
        p.data.copy_(getattr(model.lstm, name).data)
    w = emb.weight if tie else model.head.weight
    b = model.head_bias if tie else model.head.bias
    tokens = _tokens(cfg)
    with torch.no_grad():
        out, (h, c) = lstm(emb(tokens).transpose(0, 1))
        want = F.linear(out.transpose(0, 1), w, b)
        got, (gh, gc) = model(tokens)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    torch.testing.assert_close(gh, h, rtol=0, atol=1e-12)
    torch.testing.assert_close(gc, c, rtol=0, atol=1e-12)


def test_lstm_one_token_at_a_time_equals_the_full_sequence():
    model, tokens = _lstm(), _tokens(TINY_LSTM)
    with torch.no_grad():
        full, (h, c) = model(tokens)
        state, steps = None, []
        for t in range(tokens.shape[1]):
            logits, state = model.step(tokens[:, t], state)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full, rtol=0, atol=1e-12)
    torch.testing.assert_close(state[0], h, rtol=0, atol=1e-12)
    torch.testing.assert_close(state[1], c, rtol=0, atol=1e-12)


def test_lstm_generate_is_greedy_decoding_by_recomputation():
    model, prompt = _lstm(), _tokens(TINY_LSTM, B=2, T=4)
    got = model.generate(prompt, 6)
    seq = prompt
    with torch.no_grad():
        for _ in range(6):           # reference: rerun the whole text for every token
            seq = torch.cat([seq, model(seq)[0][:, -1].argmax(-1, keepdim=True)], 1)
    assert torch.equal(got, seq[:, 4:])


def test_lstm_state_bytes_match_the_state_tensors():
    model = LSTMLanguageModel.from_config(TINY_LSTM)
    for dtype in (torch.float32, torch.float64, torch.float16):
        h, c = model.init_state(5, dtype=dtype)
        assert lstm_state_bytes(TINY_LSTM, 5, dtype) == h.nbytes + c.nbytes


# ---------------------------------------------------------------- Transformer


def test_transformer_is_causal():
    model, tokens = _transformer(), _tokens(TINY_TRANSFORMER)
    t = 6
    changed = tokens.clone()
    changed[:, t] = (changed[:, t] + 1) % TINY_TRANSFORMER.vocab
    with torch.no_grad():
        a, b = model(tokens), model(changed)
    torch.testing.assert_close(a[:, :t], b[:, :t], rtol=0, atol=0)
    assert (a[:, t:] - b[:, t:]).abs().amax(-1).min() > 1e-6   # every later position sees it


def _explicit_attention(attn, x):
    """softmax(Q Kᵀ / √e + causal mask) V, heads split and merged by hand."""
    B, T, d = x.shape
    h, e = attn.heads, attn.head_dim
    qkv = x @ attn.qkv.weight.T + attn.qkv.bias
    q, k, v = (qkv[..., i * d:(i + 1) * d].reshape(B, T, h, e).transpose(1, 2) for i in range(3))
    scores = q @ k.transpose(-1, -2) / math.sqrt(e)
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    p = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
    y = (p @ v).transpose(1, 2).reshape(B, T, d)
    return y @ attn.out.weight.T + attn.out.bias


@pytest.mark.parametrize("backend", [None, "math", "flash"])
def test_block_attention_equals_explicit_softmax(backend):
    from course_lib.lm import backend_context
    model = _transformer()
    attn = model.blocks[0].attn
    x = torch.randn(2, 9, TINY_TRANSFORMER.d_model, dtype=torch.float64)
    with torch.no_grad(), backend_context(backend):
        got = attn(x)
    torch.testing.assert_close(got, _explicit_attention(attn, x), rtol=0, atol=1e-12)


def test_kv_cache_decoding_equals_the_full_forward_at_every_position():
    model, tokens = _transformer(), _tokens(TINY_TRANSFORMER, B=2, T=14)
    with torch.no_grad():
        full = model(tokens)
        cache = model.new_cache(2, capacity=14)
        step = [model(tokens[:, t:t + 1], cache, start_pos=t) for t in range(14)]
    assert cache.length == 14
    torch.testing.assert_close(torch.cat(step, 1), full, rtol=0, atol=1e-10)


def test_chunks_after_a_prefix_see_the_prefix_and_their_own_past():
    """A chunk of T > 1 appended at start_pos > 0 needs the bottom-right causal mask."""
    model, tokens = _transformer(), _tokens(TINY_TRANSFORMER, B=2, T=14)
    with torch.no_grad():
        full = model(tokens)
        cache = model.new_cache(2)
        parts = [model(tokens[:, :5], cache), model(tokens[:, 5:9], cache, start_pos=5),
                 model(tokens[:, 9:], cache, start_pos=9)]
    torch.testing.assert_close(torch.cat(parts, 1), full, rtol=0, atol=1e-10)


def test_last_only_is_the_last_position_of_the_full_forward():
    model, tokens = _transformer(), _tokens(TINY_TRANSFORMER)
    with torch.no_grad():
        torch.testing.assert_close(model(tokens, last_only=True), model(tokens)[:, -1:],
                                   rtol=0, atol=1e-12)


def test_generate_with_and_without_the_cache_agree():
    model, prompt = _transformer(), _tokens(TINY_TRANSFORMER, B=2, T=5)
    assert torch.equal(model.generate(prompt, 8, use_cache=True),
                       model.generate(prompt, 8, use_cache=False))


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_backends_agree_where_available(backend):
    model, tokens = _transformer(), _tokens(TINY_TRANSFORMER)
    with torch.no_grad():
        want = model(tokens)
        model.backend = backend
        try:
            got = model(tokens)
        except RuntimeError as exc:
            if tokens.device.type == "cpu" and backend in ("efficient", "cudnn"):
                pytest.skip(f"{backend} is CUDA-only: {str(exc).splitlines()[0][:80]}")
            raise
    torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


# ---------------------------------------------------------------- counts

LSTM_CONFIGS = [TINY_LSTM, LSTMLMConfig(100, 8, 8, 1, True), LSTMLMConfig(100, 8, 13, 3, False),
                LSTMLMConfig(7, 5, 3, 2, False)]
TRANSFORMER_CONFIGS = [TINY_TRANSFORMER, TransformerLMConfig(100, 24, 3, 4, 40, 17),
                       TransformerLMConfig(9, 8, 1, 1, 8, 5)]


@pytest.mark.parametrize("cfg", LSTM_CONFIGS, ids=str)
def test_lstm_param_count(cfg):
    model = LSTMLanguageModel.from_config(cfg)
    assert lstm_lm_params(cfg) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("cfg", TRANSFORMER_CONFIGS, ids=str)
def test_transformer_param_count(cfg):
    model = TransformerLanguageModel.from_config(cfg)
    assert transformer_lm_params(cfg) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("cfg", TRANSFORMER_CONFIGS, ids=str)
def test_transformer_flops_match_torch_flop_counter(cfg):
    model = TransformerLanguageModel.from_config(cfg, backend="math")
    T = min(cfg.max_len, 6)
    tokens = _tokens(cfg, B=2, T=T)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(tokens)
    # torch counts the SDPA as two full (T, T) batched products: no causal skipping
    assert fc.get_total_flops() == transformer_forward_flops(cfg, 2, T, causal_skip=False)
    full = transformer_forward_flops(cfg, 2, T, causal_skip=False)
    skip = transformer_forward_flops(cfg, 2, T, causal_skip=True)
    assert full - skip == 2 * cfg.layers * 2 * cfg.d_model * T * (T - 1)  # the masked half
    cache = model.new_cache(2)
    with torch.no_grad():
        model(tokens[:, :T - 1], cache)
        with FlopCounterMode(display=False) as fc:
            model(tokens[:, T - 1:], cache, start_pos=T - 1)
    assert fc.get_total_flops() == transformer_decode_flops(cfg, T - 1, batch=2)
    assert transformer_decode_flops(cfg, T - 1, 2, cached=False) == skip


@pytest.mark.parametrize("cfg", LSTM_CONFIGS, ids=str)
def test_lstm_flops_match_an_explicit_recurrence_under_the_flop_counter(cfg):
    """torch's fused CPU LSTM is invisible to FlopCounterMode, so the reference is the
    recurrence written with F.linear (same weights), counted by torch."""
    model = LSTMLanguageModel.from_config(cfg)
    B, T = 2, 4
    x = model.embed(_tokens(cfg, B, T))
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        for layer in range(cfg.layers):
            W = [getattr(model.lstm, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh")]
            h = torch.zeros(B, cfg.hidden)
            c = torch.zeros(B, cfg.hidden)
            outs = []
            for t in range(T):
                i, f, g, o = (F.linear(x[:, t], W[0]) + F.linear(h, W[1])).chunk(4, -1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                outs.append(h)
            x = torch.stack(outs, 1)
        F.linear(x, model.head_weight())
    assert fc.get_total_flops() == lstm_forward_flops(cfg, B, T)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_kv_cache_bytes_match_the_cache_tensor(dtype):
    cfg = TransformerLMConfig(100, 24, 3, 4, 40, 17)
    model = TransformerLanguageModel.from_config(cfg).to(dtype)
    cache = model.new_cache(batch=3, capacity=11)
    assert cache.data.shape == (3, 2, 3, 4, 11, 6)
    assert kv_cache_bytes(cfg, 3, 11, dtype) == cache.nbytes == cache.data.nbytes
    assert kv_cache_bytes(cfg, 3, 11, str(dtype).split(".")[1]) == cache.nbytes
    assert itemsize(dtype) == torch.tensor([], dtype=dtype).element_size()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("make", [_lstm, _transformer])
def test_bad_tokens_are_named(make):
    model = make()
    vocab = model.config.vocab
    with pytest.raises(ValueError, match=r"tokens ids must lie in \[0, vocab=50\).*max 50"):
        model(torch.tensor([[1, vocab]]))
    with pytest.raises(ValueError, match="min -1"):
        model(torch.tensor([[-1, 2]]))
    with pytest.raises(TypeError, match="tokens must have dtype torch.int64.*float32"):
        model(torch.zeros(1, 3))
    with pytest.raises(TypeError, match="torch.int64.*torch.int32"):
        model(torch.zeros(1, 3, dtype=torch.int32))
    with pytest.raises(ValueError, match=r"shape \(B, T\).*\(3,\)"):
        model(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model([[1, 2]])


def test_transformer_length_and_cache_errors():
    model = _transformer()
    L = TINY_TRANSFORMER.max_len
    with pytest.raises(ValueError, match=f"start_pos=0 \\+ T={L + 1} exceeds max_len={L}"):
        model(torch.zeros(1, L + 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="exceeds max_len"):
        model(torch.zeros(1, 2, dtype=torch.int64), start_pos=L - 1)
    cache = model.new_cache(1, capacity=4)
    with torch.no_grad():
        model(torch.zeros(1, 3, dtype=torch.int64), cache)
        with pytest.raises(ValueError, match="KV cache overflow.*start_pos=3 needs 5, capacity is 4"):
            model(torch.zeros(1, 2, dtype=torch.int64), cache, start_pos=3)
        with pytest.raises(ValueError, match="gap.*holds only 3"):
            model(torch.zeros(1, 1, dtype=torch.int64), cache, start_pos=4)
        with pytest.raises(ValueError, match="batch 1, tokens have batch 2"):
            model(torch.zeros(2, 1, dtype=torch.int64), cache, start_pos=3)
    with pytest.raises(ValueError, match="capacity=33 exceeds the model's max_len=32"):
        model.new_cache(1, capacity=33)
    with pytest.raises(ValueError, match="start_pos must be an int >= 0, got -1"):
        model(torch.zeros(1, 2, dtype=torch.int64), start_pos=-1)
    with pytest.raises(ValueError, match="backend must be None or one of"):
        TransformerLanguageModel(10, 8, 1, 2, 8, 4, backend="fast")
    with pytest.raises(TypeError, match="kv_cache must be a KVCache"):
        model(torch.zeros(1, 2, dtype=torch.int64), kv_cache=object())
    with pytest.raises(ValueError, match="capacity must be an int >= 1, got 0"):
        KVCache(1, 1, 1, 1, 0)


def test_config_and_state_errors():
    with pytest.raises(ValueError, match="d_embed == hidden.*d_embed=8, hidden=9"):
        LSTMLanguageModel(10, 8, 9, tie_weights=True)
    with pytest.raises(ValueError, match="divisible by heads.*d_model=10, heads=3"):
        TransformerLMConfig(10, 10, 1, 3, 8, 4)
    with pytest.raises(ValueError, match="vocab must be a positive int, got 0"):
        LSTMLMConfig(0, 8, 8)
    model = _lstm()
    bad = (torch.zeros(2, 1, 16), torch.zeros(2, 1, 15))
    with pytest.raises(ValueError, match=r"state \(h, c\) must have shapes \(2, 1, 16\)"):
        model(torch.zeros(1, 2, dtype=torch.int64), bad)

"""16.6: an LSTM and a Transformer language model of similar size, to measure side by side.

* :mod:`.configs` -- the models' configurations; source-sized and tiny named configs
* :mod:`.lstm_lm` -- embedding -> ``torch.nn.LSTM`` -> head; one-token steps carrying (h, c)
* :mod:`.transformer_lm` -- decoder-only pre-LN Transformer, SDPA backend selectable
* :mod:`.kv_cache` -- the preallocated key/value cache for decoding
* :mod:`.counts` -- parameters, FLOPs, state and activation bytes from the configs alone

Perplexity is not part of this package: measuring it needs a corpus and days of
training, so nothing here reports one.
"""
from .configs import (SOURCE_SIZED_LSTM, SOURCE_SIZED_TRANSFORMER, TINY_LSTM,
                      TINY_TRANSFORMER, LSTMLMConfig, TransformerLMConfig)
from .counts import (kv_cache_bytes, lstm_flops_per_token, lstm_forward_activation_bytes,
                     lstm_forward_flops, lstm_lm_params, lstm_state_bytes, train_step_flops,
                     transformer_decode_flops, transformer_forward_activation_bytes,
                     transformer_forward_flops, transformer_lm_params)
from .kv_cache import KVCache
from .lstm_lm import LSTMLanguageModel
from .transformer_lm import BACKENDS, TransformerLanguageModel, backend_context

__all__ = ["LSTMLMConfig", "TransformerLMConfig", "SOURCE_SIZED_LSTM",
           "SOURCE_SIZED_TRANSFORMER", "TINY_LSTM", "TINY_TRANSFORMER", "LSTMLanguageModel",
           "TransformerLanguageModel", "KVCache", "BACKENDS", "backend_context",
           "lstm_lm_params", "transformer_lm_params", "lstm_flops_per_token",
           "lstm_forward_flops", "transformer_forward_flops", "transformer_decode_flops",
           "train_step_flops", "kv_cache_bytes", "lstm_state_bytes",
           "lstm_forward_activation_bytes", "transformer_forward_activation_bytes"]

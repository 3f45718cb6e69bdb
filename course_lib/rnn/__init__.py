"""16.3 recurrent layers in NumPy: LSTM and GRU cells and layers, weight-exact with PyTorch.

* :mod:`.lstm_step`, :mod:`.lstm` -- one LSTM step; a layer in the per-gate and fused forms
* :mod:`.gru` -- GRU step and layer, torch/cuDNN and original (Cho et al.) forms
* :mod:`.bptt` -- backpropagation through time for one layer
* :mod:`.modules`, :mod:`.cells` -- ``LSTM``/``GRU`` and ``LSTMCell``/``GRUCell`` with
  torch's interface, ``from_torch`` / ``to_torch``
* :mod:`.init` -- initialisation rules, named correctly
* :mod:`.counts` -- parameters, GEMM calls and memory traffic of the formulations
* :mod:`.vanishing` -- gradient norm against distance in time (plain RNN vs LSTM)
"""
from .bptt import gru_layer_backward, lstm_layer_backward
from .cells import GRUCell, LSTMCell
from .gru import GRUCache, gru_layer, gru_step
from .init import glorot_bound, glorot_std, he_bound, he_std, torch_bound
from .lstm import LSTMCache, lstm_layer_fused, lstm_layer_per_gate, per_gate_weights
from .lstm_step import lstm_pointwise, lstm_step, lstm_step_per_gate, split_gates
from .modules import GRU, LSTM
from .nonlin import sigmoid

__all__ = ["LSTM", "GRU", "LSTMCell", "GRUCell", "LSTMCache", "GRUCache",
           "lstm_step", "lstm_step_per_gate", "lstm_pointwise", "split_gates",
           "lstm_layer_fused", "lstm_layer_per_gate", "per_gate_weights",
           "gru_step", "gru_layer", "lstm_layer_backward", "gru_layer_backward",
           "torch_bound", "glorot_std", "glorot_bound", "he_std", "he_bound", "sigmoid"]

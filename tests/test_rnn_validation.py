"""Bad input to the recurrent layers and cells: clear TypeError/ValueError naming argument and shapes."""
import re

import numpy as np
import pytest
import torch

from course_lib.rnn import GRU, LSTM, GRUCell, LSTMCell


@pytest.fixture
def lstm():
    return LSTM(3, 4, num_layers=2, seed=0)


def x32(*shape):
    return np.zeros(shape, np.float32)


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda m: m(x32(5, 2, 6)), ValueError, r"x has 6 features \(shape \(5, 2, 6\)\).*input_size=3"),
    (lambda m: m(x32(5, 2, 3, 1)), ValueError, r"x must be 3-D.*got shape \(5, 2, 3, 1\)"),
    (lambda m: m(x32(0, 2, 3)), ValueError, r"sequence length T=0"),
    (lambda m: m(x32(0, 3)), ValueError, r"sequence length T=0"),
    (lambda m: m(x32(4, 0, 3)), ValueError, r"batch size B=0"),
    (lambda m: m(np.zeros((5, 2, 3))), TypeError, r"x has dtype float64.*parameters are float32"),
    (lambda m: m(np.zeros((5, 2, 3), np.int64)), TypeError, r"x must be float32 or float64"),
    (lambda m: m([[0.0] * 3]), TypeError, r"x must be a numpy.ndarray"),
    (lambda m: m(np.full((5, 2, 3), np.nan, np.float32)), ValueError,
     r"x \(shape \(5, 2, 3\)\) contains 30 NaN"),
    (lambda m: m(x32(5, 2, 3), (x32(2, 3, 4), x32(2, 2, 4))), ValueError,
     r"batch mismatch: h0 has batch 3 \(shape \(2, 3, 4\)\) but x has batch 2"),
    (lambda m: m(x32(5, 2, 3), (x32(2, 2, 4), x32(1, 2, 4))), ValueError,
     r"c0 must have shape \(num_layers, B, H\) = \(2, 2, 4\), got \(1, 2, 4\)"),
    (lambda m: m(x32(5, 2, 3), (x32(2, 2, 5), x32(2, 2, 4))), ValueError,
     r"h0 must have shape .* = \(2, 2, 4\), got \(2, 2, 5\)"),
    (lambda m: m(x32(5, 2, 3), (np.zeros((2, 2, 4)), x32(2, 2, 4))), TypeError,
     r"h0 has dtype float64 \(shape \(2, 2, 4\)\) but x and the parameters are float32"),
    (lambda m: m(x32(5, 3), (x32(2, 1, 4), x32(2, 1, 4))), ValueError,
     r"h0 must have shape \(num_layers, H\) = \(2, 4\), got \(2, 1, 4\)"),
    (lambda m: m(x32(5, 2, 3), x32(2, 2, 4)), TypeError, r"hx must be a pair"),
    (lambda m: m(x32(5, 2, 3), (x32(2, 2, 4), None)), TypeError, r"give both h0 and c0"),
])
def test_lstm_forward_errors(lstm, call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(lstm)


def test_backward_errors(lstm):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        lstm.backward(x32(5, 2, 4))
    lstm(x32(5, 2, 3))
    with pytest.raises(ValueError, match=re.escape("dy must have the shape of the forward output "
                                                   "(5, 2, 4), got (5, 2, 3)")):
        lstm.backward(x32(5, 2, 3))
    with pytest.raises(TypeError, match="dy has dtype float64"):
        lstm.backward(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"dh_n must have the shape .* \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm.backward(x32(5, 2, 4), x32(1, 2, 4))
    with pytest.raises(ValueError, match=r"dc_n .* got \(2, 4\)"):
        lstm.backward(x32(5, 2, 4), None, x32(2, 4))
    gru = GRU(3, 4, batch_first=True)
    gru(x32(2, 5, 3))
    with pytest.raises(ValueError, match=r"dy .* \(2, 5, 4\), got \(5, 2, 4\)"):
        gru.backward(x32(5, 2, 4))


def test_gru_errors():
    gru = GRU(3, 4)
    with pytest.raises(ValueError, match=r"batch mismatch: h0 has batch 1"):
        gru(x32(5, 2, 3), x32(1, 1, 4))
    with pytest.raises(ValueError, match="variant must be one of"):
        GRU(3, 4, variant="cudnn")
    with pytest.raises(ValueError, match="x has 2 features"):
        gru(x32(5, 2))


@pytest.mark.parametrize("make,exc,pattern", [
    (lambda: LSTM(0, 4), ValueError, "input_size must be >= 1, got 0"),
    (lambda: LSTM(3, -1), ValueError, "hidden_size must be >= 1, got -1"),
    (lambda: LSTM(3, 4, num_layers=0), ValueError, "num_layers must be >= 1"),
    (lambda: LSTM(3.0, 4), TypeError, "input_size must be an int"),
    (lambda: LSTM(3, 4, dtype=np.float16), TypeError, "dtype must be float32 or float64"),
    (lambda: LSTM(3, 4, formulation="fast"), ValueError, "formulation must be one of"),
    (lambda: LSTM(3, 4, init="xavier"), ValueError, "init must be one of"),
    (lambda: GRUCell(3, True), TypeError, "hidden_size must be an int"),
])
def test_constructor_errors(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


def test_from_torch_errors():
    with pytest.raises(TypeError, match=r"needs a torch.nn.LSTM, got GRU"):
        LSTM.from_torch(torch.nn.GRU(2, 3))
    with pytest.raises(ValueError, match="bidirectional"):
        LSTM.from_torch(torch.nn.LSTM(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="proj_size"):
        LSTM.from_torch(torch.nn.LSTM(2, 3, proj_size=2))
    with pytest.raises(TypeError, match="float32 or float64, got torch.float16"):
        GRU.from_torch(torch.nn.GRU(2, 3, dtype=torch.float16))
    with pytest.raises(TypeError, match=r"needs a torch.nn.GRUCell, got LSTMCell"):
        GRUCell.from_torch(torch.nn.LSTMCell(2, 3))


def test_cell_errors():
    cell = LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"x has 5 features \(shape \(2, 5\)\)"):
        cell(x32(2, 5))
    with pytest.raises(ValueError, match=r"batch mismatch: h has batch 3 \(shape \(3, 4\)\)"):
        cell(x32(2, 3), (x32(3, 4), x32(2, 4)))
    with pytest.raises(ValueError, match=r"c must have shape \(4,\), got \(1, 4\)"):
        cell(x32(3), (x32(4), x32(1, 4)))
    with pytest.raises(TypeError, match="x has dtype float64"):
        cell(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        GRUCell(3, 4)(x32(2, 3), np.full((2, 4), np.inf, np.float32))

"""The LSTM stepper widget: its trace against torch, the drawing and the slider."""
import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from course_lib.rnn import LSTM  # noqa: E402
from course_lib.widgets.lstm_stepper import draw_lstm_step, lstm_stepper, lstm_trace  # noqa: E402


def test_trace_matches_torch_gates_and_states():
    lstm = LSTM(3, 5, dtype=np.float64, seed=2)
    x = np.random.default_rng(0).standard_normal((7, 3))
    tr = lstm_trace(lstm, x)
    assert tr["gates"].shape == (7, 4, 5) and tr["c"].shape == tr["h"].shape == (8, 5)
    cell = torch.nn.LSTMCell(3, 5, dtype=torch.float64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(torch.from_numpy(lstm.params[f"{name}_l0"]))
        h = c = torch.zeros(5, dtype=torch.float64)
        for t in range(7):
            a = cell.weight_ih @ torch.from_numpy(x[t]) + cell.bias_ih + cell.weight_hh @ h \
                + cell.bias_hh
            ai, af, ag, ao = a.chunk(4)
            want = torch.stack([ai.sigmoid(), af.sigmoid(), ag.tanh(), ao.sigmoid()]).numpy()
            np.testing.assert_allclose(tr["gates"][t], want, rtol=1e-12, atol=1e-13)
            h, c = cell(torch.from_numpy(x[t]), (h, c))
            np.testing.assert_allclose(tr["h"][t + 1], h.numpy(), rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(tr["c"][t + 1], c.numpy(), rtol=1e-12, atol=1e-13)


def test_drawing_and_widget():
    import matplotlib.pyplot as plt
    tr = lstm_trace(LSTM(2, 4, seed=0), np.ones((5, 2), np.float32))
    fig = draw_lstm_step(tr, 3)
    assert len(fig.axes) == 4          # three panels and a colour bar
    plt.close(fig)
    with pytest.raises(ValueError, match=r"t must be in 1..5, got 0"):
        draw_lstm_step(tr, 0)
    box = lstm_stepper(tr, t=2)
    slider = box.children[0]
    assert (slider.min, slider.max, slider.value) == (1, 5, 2)
    slider.value = 5                   # redraws without error
    with pytest.raises(ValueError, match="one layer"):
        lstm_trace(LSTM(2, 4, num_layers=2), np.ones((5, 2), np.float32))
    with pytest.raises(ValueError, match=r"\(T, I\)"):
        lstm_trace(LSTM(2, 4), np.ones((5, 1, 2), np.float32))

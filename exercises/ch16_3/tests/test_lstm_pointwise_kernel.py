"""Public tests for lstm_pointwise_kernel.cu (launched by lstm_pointwise_kernel.py).

Reference: PyTorch's own ``nn.LSTMCell`` in float64, fed the gates through an identity input
weight (W_ih = I, W_hh = 0, no bias), so its pre-activations are exactly the kernel's ``gates``
and its gate order (i, f, g, o) is the one checked.  The kernel runs on CuPy when a GPU is
present, else on the CPU emulator under two thread schedules. Outputs are filled with NaN
before each launch, so units the kernel never writes show up.
"""
import numpy as np
import pytest
import torch

from course_lib.grading import (assert_cuda_source, assert_self_contained, compare, exercise_path,
                                submission_fixture)
from course_lib.grading.cuda_checks import check_unchanged, check_written, memory_errors_as_failures

sub = submission_fixture("lstm_pointwise_kernel")
KERNEL_FILE = "lstm_pointwise_kernel.cu"
HINT = ("one thread per unit k = b*H + j; gate order i, f, g, o: a_i = gates[b*4H + j], "
        "a_f = gates[b*4H + H + j], a_g = gates[b*4H + 2H + j], a_o = gates[b*4H + 3H + j]; "
        "c = f*c_prev + i*g, h = o*tanhf(c)")
SCHEDULES = ["forward", "reverse"]


def torch_lstm_step(gates, c_prev):
    """(h, c) of torch.nn.LSTMCell in float64 whose gate pre-activations are ``gates``."""
    B, G = gates.shape
    cell = torch.nn.LSTMCell(G, G // 4, bias=False).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(G, dtype=torch.float64))
        cell.weight_hh.zero_()
        h, c = cell(torch.tensor(gates, dtype=torch.float64),
                    (torch.zeros(B, G // 4, dtype=torch.float64),
                     torch.tensor(c_prev, dtype=torch.float64)))
    return h.numpy(), c.numpy()


def run_case(sub, B, H, scale=2.0, schedule="forward", seed=0, **options):
    """Launch the learner's kernel on random float32 data and compare with torch."""
    rng = np.random.default_rng(seed)
    gates = (scale * rng.standard_normal((B, 4 * H))).astype(np.float32)
    c_prev = rng.standard_normal((B, H)).astype(np.float32)
    h_ref, c_ref = torch_lstm_step(gates, c_prev)
    case = {"gates": gates, "c_prev": c_prev, "schedule": schedule}
    g_copy, c_copy = gates.copy(), c_prev.copy()
    with memory_errors_as_failures(KERNEL_FILE):
        h, c = sub.lstm_pointwise_kernel(g_copy, c_copy, schedule=schedule, **options)
    check_unchanged(gates=(gates, g_copy), c_prev=(c_prev, c_copy))
    check_written("c", c, KERNEL_FILE, case)
    compare("c", c, c_ref.astype(np.float32), rtol=1e-5, atol=1e-5, case=case, hint=HINT)
    compare("h", h, h_ref.astype(np.float32), rtol=1e-5, atol=1e-5, case=case, hint=HINT)


@pytest.mark.points(0)  # a gate, not a skill: the launcher imports only the kernel runtime
def test_plain_numpy_only():
    assert_self_contained(exercise_path(__file__, "lstm_pointwise_kernel"))
    assert_cuda_source(exercise_path(__file__, "lstm_pointwise_kernel").with_suffix(".cu"))


@pytest.mark.points(1)
def test_single_unit(sub):
    run_case(sub, 1, 1)


@pytest.mark.points(1)
def test_gate_order_is_i_f_g_o(sub):
    """Each gate block gets its own scale, so reading a gate from the wrong block shows."""
    rng = np.random.default_rng(1)
    B, H = 2, 5
    gates = rng.standard_normal((B, 4 * H)).astype(np.float32)
    gates[:, :H] += 3.0           # input gate nearly open
    gates[:, H:2 * H] -= 3.0      # forget gate nearly closed
    gates[:, 3 * H:] *= 0.1       # output gate near one half
    c_prev = (4.0 * rng.standard_normal((B, H))).astype(np.float32)
    h_ref, c_ref = torch_lstm_step(gates, c_prev)
    with memory_errors_as_failures(KERNEL_FILE):
        h, c = sub.lstm_pointwise_kernel(gates, c_prev)
    check_written("c", c, KERNEL_FILE)
    compare("c", c, c_ref.astype(np.float32), rtol=1e-5, atol=1e-5, hint=HINT)
    compare("h", h, h_ref.astype(np.float32), rtol=1e-5, atol=1e-5, hint=HINT)


@pytest.mark.points(1)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_batch_and_ragged_hidden_size(sub, schedule):
    run_case(sub, 3, 7, schedule=schedule, seed=2)


@pytest.mark.points(1)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_more_units_than_one_block(sub, schedule):
    """B*H = 600 units: three blocks of 256 threads, the last one with 88 busy threads."""
    run_case(sub, 2, 300, schedule=schedule, seed=3)


@pytest.mark.points(1)
def test_saturated_gates_give_no_nan(sub):
    """Pre-activations up to +-100: sigmoid and tanh saturate to 0/1 and -1/1, never NaN."""
    run_case(sub, 2, 9, scale=60.0, seed=4)

"""Hidden tests for lstm_pointwise_kernel.cu: ragged grids, another launch, AddressSanitizer."""
import numpy as np
import pytest
import torch

from course_lib.cuda import RawModule, default_backend
from course_lib.grading import compare, exercise_path, submission_fixture
from course_lib.grading.cuda_checks import check_written, memory_errors_as_failures

sub = submission_fixture("lstm_pointwise_kernel")
KERNEL_FILE = "lstm_pointwise_kernel.cu"


def reference(gates, c_prev):
    """torch.nn.LSTMCell (float64) with the gates as its input through W_ih = I."""
    B, G = gates.shape
    cell = torch.nn.LSTMCell(G, G // 4, bias=False).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(G, dtype=torch.float64))
        cell.weight_hh.zero_()
        h, c = cell(torch.tensor(gates, dtype=torch.float64),
                    (torch.zeros(B, G // 4, dtype=torch.float64),
                     torch.tensor(c_prev, dtype=torch.float64)))
    return h.numpy().astype(np.float32), c.numpy().astype(np.float32)


def make(B, H, seed, scale=2.0):
    rng = np.random.default_rng(seed)
    gates = (scale * rng.standard_normal((B, 4 * H))).astype(np.float32)
    c_prev = (2.0 * rng.standard_normal((B, H))).astype(np.float32)
    return gates, c_prev


def check(sub, B, H, seed=5, scale=2.0, **options):
    gates, c_prev = make(B, H, seed, scale)
    h_ref, c_ref = reference(gates, c_prev)
    case = {"B": B, "H": H}
    with memory_errors_as_failures(KERNEL_FILE):
        h, c = sub.lstm_pointwise_kernel(gates, c_prev, **options)
    check_written("c", c, KERNEL_FILE, case)
    compare("c", c, c_ref, rtol=1e-5, atol=1e-5, case=case)
    compare("h", h, h_ref, rtol=1e-5, atol=1e-5, case=case)


@pytest.mark.points(1)
@pytest.mark.parametrize("B,H", [(1, 257), (1, 2), (7, 37), (64, 4)])
def test_ragged_grids(sub, B, H):
    check(sub, B, H)


@pytest.mark.points(1)
def test_random_schedule(sub):
    check(sub, 3, 50, seed=11, schedule="random")


@pytest.mark.points(1)
def test_large_pre_activations(sub):
    check(sub, 4, 33, seed=12, scale=25.0)


@pytest.mark.points(2)
@pytest.mark.timeout(90)  # AddressSanitizer build and run
def test_no_out_of_bounds_access(sub):
    """AddressSanitizer on the emulator, any machine: B*H = 260, a second block with 4 busy
    threads and 252 idle ones."""
    check(sub, 2, 130, seed=9, backend="emulator", sanitizer="address")


@pytest.mark.points(1)
def test_kernel_alone_with_another_launch(sub):
    """The .cu file launched by this test: blocks of 96 threads and one spare block."""
    B, H = 3, 45
    gates, c_prev = make(B, H, 13)
    h_ref, c_ref = reference(gates, c_prev)
    h = np.full((B, H), np.nan, np.float32)
    c = np.full((B, H), np.nan, np.float32)
    path = exercise_path(__file__, "lstm_pointwise_kernel").with_suffix(".cu")
    kernel = RawModule(path=path, backend=default_backend()).get_function("lstm_pointwise_kernel")
    with memory_errors_as_failures(KERNEL_FILE):
        kernel((-(-B * H // 96) + 1,), (96,), (gates, c_prev, h, c, np.int32(B), np.int32(H)))
    check_written("c", c, KERNEL_FILE)
    compare("c", c, c_ref, rtol=1e-5, atol=1e-5)
    compare("h", h, h_ref, rtol=1e-5, atol=1e-5)

"""Parameter counts, GEMM calls and memory traffic of the LSTM formulations.

Traffic is counted in *elements* that cross main memory, for the forward pass of
one layer over one sequence batch (T steps, batch B, input I, hidden H).  The model
assumes nothing stays in cache between NumPy calls (true once B*4H values exceed
the cache) and that a GEMM reads each operand once.  Element-wise work is counted
per NumPy call as implemented in :mod:`course_lib.rnn.lstm`, in units of B*H values.
"""
from __future__ import annotations

from dataclasses import dataclass


def rnn_param_count(kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                    bias: bool = True) -> int:
    """Parameters of torch.nn.LSTM ("lstm", 4 blocks), GRU ("gru", 3) or RNN ("rnn", 1).

    Per layer: n*H*(I_l + H) weights plus 2*n*H biases (torch keeps b_ih and b_hh);
    I_l = input_size for layer 0 and H above it.
    """
    n = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    H, total = hidden_size, 0
    for layer in range(num_layers):
        i_l = input_size if layer == 0 else H
        total += n * H * (i_l + H) + (2 * n * H if bias else 0)
    return total


# element-wise NumPy calls per step, (reads, writes) in units of B*H values
PER_GATE_POINTWISE = [
    ("4 bias adds", 4, 4),
    ("3 sigmoids (4 passes each)", 12, 12),
    ("tanh(g)", 1, 1),
    ("f*c, i*g, sum, store c", 7, 4),
    ("tanh(c), o*tanh(c), store h", 4, 3),
    ("stack i,f,g,o for backward", 4, 4),
]
FUSED_POINTWISE = [
    ("gates += recurrent product", 8, 4),
    ("one tanh over i,f,g,o", 4, 4),
    ("t/2 + 1/2 on i,f,o (2 passes)", 6, 6),
    ("f*c, i*g, c += i*g", 6, 3),
    ("tanh(c), o*tanh(c)", 3, 2),
]
# one GPU kernel per step: read the 4 pre-activations and c_{t-1}; write c_t, h_t
KERNEL_POINTWISE = [("fused kernel: read a, c_prev; write c, h", 5, 2)]


@dataclass(frozen=True)
class Traffic:
    """Counts for one layer's forward pass (elements, not bytes)."""

    gemm_calls: int
    weight_reads: int        # weight elements read by all GEMMs
    act_reads: int           # activation elements read by GEMMs (x, h, [x, h])
    gemm_writes: int         # elements written by GEMMs
    ew_calls: int            # element-wise NumPy calls (or kernel launches)
    ew_reads: int
    ew_writes: int

    @property
    def total(self) -> int:
        return (self.weight_reads + self.act_reads + self.gemm_writes + self.ew_reads
                + self.ew_writes)


def _pointwise(ops, T: int, B: int, H: int, calls: int) -> tuple[int, int, int]:
    return (T * calls, T * B * H * sum(r for _, r, _ in ops), T * B * H * sum(w for _, _, w in ops))


def lstm_traffic(T: int, B: int, I: int, H: int, formulation: str) -> Traffic:
    """Traffic of "per_gate" (4 GEMMs per step on [x, h]), "fused" (library) or "kernel".

    "kernel" is the fused formulation with the element-wise work done by one GPU
    kernel per step instead of NumPy calls.
    """
    if formulation == "per_gate":
        # per step: concat [x_t, h] (read and write B(I+H)), then 4 GEMMs that each read it
        ew_calls, ew_r, ew_w = _pointwise(PER_GATE_POINTWISE, T, B, H, 4 + 12 + 1 + 4 + 3 + 1)
        return Traffic(4 * T, 4 * T * H * (I + H), 4 * T * B * (I + H), 4 * T * B * H,
                       ew_calls + T, ew_r + T * B * (I + H), ew_w + T * B * (I + H))
    if formulation in ("fused", "kernel"):
        ops = FUSED_POINTWISE if formulation == "fused" else KERNEL_POINTWISE
        ncalls = 1 + 1 + 4 + 3 + 2 if formulation == "fused" else 1
        ew_calls, ew_r, ew_w = _pointwise(ops, T, B, H, ncalls)
        # input projection (one GEMM, w_ih read once) + T recurrent GEMMs (w_hh each step);
        # NumPy writes the recurrent product to a buffer, a GPU GEMM can accumulate
        # into the gate block itself (beta = 1), halving the GEMM writes
        return Traffic(T + 1, 4 * H * I + T * 4 * H * H, T * B * I + T * B * H,
                       T * B * 4 * H * (1 if formulation == "kernel" else 2),
                       ew_calls, ew_r, ew_w)
    raise ValueError(f"formulation must be 'per_gate', 'fused' or 'kernel', got {formulation!r}")

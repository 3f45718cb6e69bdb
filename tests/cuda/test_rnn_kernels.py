"""The fused LSTM/GRU kernels (``course_lib/rnn/kernels``) and sequence drivers against PyTorch.

References are PyTorch's own cells and layers on the CPU in float64, with weights chosen so that
their inputs are exactly the kernel's inputs: ``nn.LSTMCell`` with ``W_ih = I`` and ``W_hh = 0``
turns an input x into the gate pre-activations, so ``x = gates`` checks the pointwise step (and
torch's gate order) and autograd's ``dx`` is the gradient of the pre-activations.  Emulator
tests run everywhere under the three thread schedules, a few under AddressSanitizer and
ThreadSanitizer; ``@pytest.mark.gpu`` tests run the CuPy backend and skip without a GPU.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib.cuda import RawModule, gpu_available
from course_lib.rnn import gpu as rg

SCHEDULES = ("forward", "reverse", "random")
EMU = dict(backend="emulator")

# (B, H): one unit; ragged H; B*H = 600 over three blocks of 256; H above one block
CELL_CASES = [(1, 1), (3, 7), (2, 300), (5, 257)]
# (T, B, I, H): single step, single sequence, H not a multiple of the block, more steps
LAYER_CASES = [(1, 1, 1, 1), (1, 3, 4, 5), (6, 1, 3, 7), (4, 3, 5, 33), (3, 2, 6, 260)]
LAYER_IDS = [f"T{t}_B{b}_I{i}_H{h}" for t, b, i, h in LAYER_CASES]


def rand(rng, *shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def assert_close(got, ref, what="", tol=2e-5):
    got = np.asarray(got)
    ref = np.asarray(ref)
    assert got.dtype == np.float32 and got.shape == ref.shape, (what, got.dtype, got.shape, ref.shape)
    scale = max(1.0, float(np.abs(ref).max(initial=0)))
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * scale, err_msg=what)


def t64(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


# ---------------------------------------------------------------- torch references (float64)

def lstm_cell_ref(gates, c_prev, dh=None, dc=None):
    """torch.nn.LSTMCell fed x = gates through W_ih = I, W_hh = 0, no bias: (h, c) and, with
    dh/dc, (dgates, dc_prev) by autograd."""
    B, G = gates.shape
    cell = torch.nn.LSTMCell(G, G // 4, bias=False).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(G, dtype=torch.float64))
        cell.weight_hh.zero_()
    x, c0 = t64(gates, True), t64(c_prev, True)
    h, c = cell(x, (torch.zeros(B, G // 4, dtype=torch.float64), c0))
    if dh is None:
        return h.detach().numpy(), c.detach().numpy()
    torch.autograd.backward((h, c), (t64(dh), t64(dc)))
    return x.grad.numpy(), c0.grad.numpy()


def gru_cell_ref(gi, h_prev, w_hh, b_hh, dh=None):
    """torch.nn.GRUCell fed x = gi through W_ih = I, b_ih = 0 (gh = h_prev W_hh^T + b_hh inside):
    h, and with dh the autograd gradients of x (= dgi), h_prev, W_hh and b_hh."""
    B, G = gi.shape
    cell = torch.nn.GRUCell(G, G // 3).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(G, dtype=torch.float64))
        cell.bias_ih.zero_()
        cell.weight_hh.copy_(t64(w_hh))
        cell.bias_hh.copy_(t64(b_hh))
    x, h0 = t64(gi, True), t64(h_prev, True)
    h = cell(x, h0)
    if dh is None:
        return h.detach().numpy()
    h.backward(t64(dh))
    return x.grad.numpy(), h0.grad.numpy(), cell.weight_hh.grad.numpy(), cell.bias_hh.grad.numpy()


def torch_layer(kind, I, H, bias, weights):
    mod = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(I, H, bias=bias).double()
    with torch.no_grad():
        for name, w in weights.items():
            getattr(mod, name + "_l0").copy_(t64(w))
    return mod


def layer_weights(rng, kind, I, H, bias=True):
    G = (4 if kind == "lstm" else 3) * H
    s = 1.0 / np.sqrt(H)
    w = {"weight_ih": rand(rng, G, I, scale=s), "weight_hh": rand(rng, G, H, scale=s)}
    if bias:
        w.update(bias_ih=rand(rng, G, scale=s), bias_hh=rand(rng, G, scale=s))
    return w


def gru_gates(rng, B, H):
    """gi, gh (float32 kernel inputs) and the W_hh, b_hh that make gh = h_prev W_hh^T + b_hh."""
    h_prev = rand(rng, B, H)
    w_hh, b_hh = rand(rng, 3 * H, H, scale=0.5), rand(rng, 3 * H)
    gh = (h_prev.astype(np.float64) @ w_hh.T.astype(np.float64) + b_hh).astype(np.float32)
    return rand(rng, B, 3 * H, scale=2.0), gh, h_prev, w_hh, b_hh


# ---------------------------------------------------------------- one step, forward and backward

@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("B,H", CELL_CASES)
def test_lstm_pointwise_matches_torch_lstmcell(B, H, schedule):
    rng = np.random.default_rng(B * 1000 + H)
    gates, c_prev = rand(rng, B, 4 * H, scale=2.0), rand(rng, B, H)
    h_ref, c_ref = lstm_cell_ref(gates, c_prev)
    h, c = rg.lstm_cell_pointwise(gates, c_prev, schedule=schedule, **EMU)
    assert_close(h, h_ref, "h")
    assert_close(c, c_ref, "c")
    h2, c2, act = rg.lstm_cell_pointwise(gates, c_prev, schedule=schedule, save_for_backward=True,
                                         **EMU)
    np.testing.assert_array_equal(h2, h)
    np.testing.assert_array_equal(c2, c)
    g64 = gates.astype(np.float64).reshape(B, 4, H)
    sig = 1 / (1 + np.exp(-g64))
    act_ref = np.stack([sig[:, 0], sig[:, 1], np.tanh(g64[:, 2]), sig[:, 3]], 1).reshape(B, 4 * H)
    assert_close(act, act_ref, "saved gates")


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("B,H", CELL_CASES)
def test_lstm_pointwise_backward_matches_autograd(B, H, schedule):
    rng = np.random.default_rng(7 + B * H)
    gates, c_prev = rand(rng, B, 4 * H, scale=2.0), rand(rng, B, H)
    dh, dc = rand(rng, B, H), rand(rng, B, H)
    _, c, act = rg.lstm_cell_pointwise(gates, c_prev, save_for_backward=True, **EMU)
    dgates, dc_prev = rg.lstm_cell_pointwise_backward(dh, dc, act, c_prev, c, schedule=schedule, **EMU)
    dg_ref, dcp_ref = lstm_cell_ref(gates, c_prev, dh, dc)
    assert_close(dgates, dg_ref, "dgates")
    assert_close(dc_prev, dcp_ref, "dc_prev")


def test_lstm_backward_without_dc_next_means_zero():
    rng = np.random.default_rng(3)
    gates, c_prev, dh = rand(rng, 2, 20), rand(rng, 2, 5), rand(rng, 2, 5)
    _, c, act = rg.lstm_cell_pointwise(gates, c_prev, save_for_backward=True, **EMU)
    dg, dcp = rg.lstm_cell_pointwise_backward(dh, None, act, c_prev, c, **EMU)
    dg_ref, dcp_ref = lstm_cell_ref(gates, c_prev, dh, np.zeros_like(dh))
    assert_close(dg, dg_ref)
    assert_close(dcp, dcp_ref)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("B,H", CELL_CASES)
def test_gru_pointwise_matches_torch_grucell(B, H, schedule):
    rng = np.random.default_rng(11 + B * H)
    gi, gh, h_prev, w_hh, b_hh = gru_gates(rng, B, H)
    h = rg.gru_cell_pointwise(gi, gh, h_prev, schedule=schedule, **EMU)
    assert_close(h, gru_cell_ref(gi, h_prev, w_hh, b_hh), "h")
    h2, saved = rg.gru_cell_pointwise(gi, gh, h_prev, schedule=schedule, save_for_backward=True, **EMU)
    np.testing.assert_array_equal(h2, h)
    assert saved.shape == (B, 4 * H)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("B,H", CELL_CASES)
def test_gru_pointwise_backward_matches_autograd(B, H, schedule):
    rng = np.random.default_rng(13 + B * H)
    gi, gh, h_prev, w_hh, b_hh = gru_gates(rng, B, H)
    dh = rand(rng, B, H)
    _, saved = rg.gru_cell_pointwise(gi, gh, h_prev, save_for_backward=True, **EMU)
    dgi, dgh, dh_direct = rg.gru_cell_pointwise_backward(dh, saved, h_prev, schedule=schedule, **EMU)
    dx_ref, dh0_ref, dw_ref, db_ref = gru_cell_ref(gi, h_prev, w_hh, b_hh, dh)
    d64 = dgh.astype(np.float64)
    assert_close(dgi, dx_ref, "dgi")
    # torch exposes dgh only through the parameters and h_prev: check all three
    assert_close(d64.sum(0).astype(np.float32), db_ref, "sum_b dgh = db_hh", tol=1e-4)
    assert_close((d64.T @ h_prev).astype(np.float32), dw_ref, "dgh^T h_prev = dW_hh", tol=1e-4)
    assert_close((dh_direct + d64 @ w_hh).astype(np.float32), dh0_ref, "dh_prev", tol=1e-4)


# ---------------------------------------------------------------- whole layers

def run_layer(kind, case, bias=True, states=True, seed=0, **kw):
    T, B, I, H = case
    rng = np.random.default_rng(seed + T * 31 + H)
    w = layer_weights(rng, kind, I, H, bias)
    x, h0, c0 = rand(rng, T, B, I), rand(rng, B, H), rand(rng, B, H)
    mod = torch_layer(kind, I, H, bias, w)
    args = (w["weight_ih"], w["weight_hh"], w.get("bias_ih"), w.get("bias_hh"))
    if kind == "lstm":
        hx = (t64(h0)[None], t64(c0)[None]) if states else None
        y_ref, (hn_ref, cn_ref) = mod(t64(x), hx)
        y, hn, cn = rg.lstm_layer_forward(x, *args, h0 if states else None, c0 if states else None,
                                          **kw)
        assert_close(cn, cn_ref[0].detach().numpy(), "c_n")
    else:
        y_ref, hn_ref = mod(t64(x), t64(h0)[None] if states else None)
        y, hn = rg.gru_layer_forward(x, *args, h0 if states else None, **kw)
    assert_close(y, y_ref.detach().numpy(), "y")
    assert_close(hn, hn_ref[0].detach().numpy(), "h_n")


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("case", LAYER_CASES, ids=LAYER_IDS)
def test_layer_matches_torch(kind, case):
    run_layer(kind, case, **EMU)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_layer_under_every_schedule(kind, schedule):
    run_layer(kind, (3, 2, 4, 130), schedule=schedule, seed=5, **EMU)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_layer_without_bias_and_zero_initial_state(kind):
    run_layer(kind, (4, 2, 3, 9), bias=False, states=False, seed=9, **EMU)


def test_layer_accepts_non_contiguous_input():
    rng = np.random.default_rng(2)
    T, B, I, H = 3, 2, 4, 5
    w = layer_weights(rng, "lstm", I, H)
    x_btI = rand(rng, B, T, I)
    x = x_btI.transpose(1, 0, 2)                      # (T, B, I) view of batch-first data
    assert not x.flags.c_contiguous
    y, _, _ = rg.lstm_layer_forward(x, *w.values(), **EMU)
    y_ref, _ = torch_layer("lstm", I, H, True, w)(t64(x))
    assert_close(y, y_ref.detach().numpy())


# ---------------------------------------------------------------- BPTT built from the kernels

def lstm_bptt_with_kernels(x, w, h0, c0, dy):
    """Backpropagation through time: forward with the training kernel, backward with the
    backward kernel and float64 GEMMs; returns dx, dh0, dc0 and the weight gradients."""
    T, B, _ = x.shape
    H = h0.shape[1]
    w_ih, w_hh = w["weight_ih"].astype(np.float64), w["weight_hh"].astype(np.float64)
    hs, cs, acts = [h0], [c0], []
    for t in range(T):
        gates = (x[t] @ w_ih.T + hs[-1] @ w_hh.T + w["bias_ih"] + w["bias_hh"]).astype(np.float32)
        h, c, act = rg.lstm_cell_pointwise(gates, cs[-1], save_for_backward=True, **EMU)
        hs.append(h), cs.append(c), acts.append(act)
    dx = np.zeros(x.shape)
    dw_ih, dw_hh, db = np.zeros(w_ih.shape), np.zeros(w_hh.shape), np.zeros(4 * H)
    dh_next, dc_next = np.zeros((B, H), np.float32), np.zeros((B, H), np.float32)
    for t in reversed(range(T)):
        dh = (dy[t] + dh_next).astype(np.float32)
        dg, dc_next = rg.lstm_cell_pointwise_backward(dh, dc_next, acts[t], cs[t], cs[t + 1], **EMU)
        dg = dg.astype(np.float64)
        dx[t] = dg @ w_ih
        dw_ih += dg.T @ x[t]
        dw_hh += dg.T @ hs[t]
        db += dg.sum(0)
        dh_next = (dg @ w_hh).astype(np.float32)
    return dx, dh_next, dc_next, dw_ih, dw_hh, db


def test_lstm_bptt_from_kernels_matches_torch_autograd():
    rng = np.random.default_rng(21)
    T, B, I, H = 4, 2, 3, 6
    w = layer_weights(rng, "lstm", I, H)
    x, h0, c0, dy = rand(rng, T, B, I), rand(rng, B, H), rand(rng, B, H), rand(rng, T, B, H)
    mod = torch_layer("lstm", I, H, True, w)
    xt, h0t, c0t = t64(x, True), t64(h0[None], True), t64(c0[None], True)
    y, _ = mod(xt, (h0t, c0t))
    y.backward(t64(dy))
    dx, dh0, dc0, dw_ih, dw_hh, db = lstm_bptt_with_kernels(x, w, h0, c0, dy)
    f32 = lambda a: np.asarray(a, np.float32)  # noqa: E731
    assert_close(f32(dx), xt.grad.numpy(), "dx", tol=1e-4)
    assert_close(f32(dh0), h0t.grad[0].numpy(), "dh0", tol=1e-4)
    assert_close(f32(dc0), c0t.grad[0].numpy(), "dc0", tol=1e-4)
    assert_close(f32(dw_ih), mod.weight_ih_l0.grad.numpy(), "dW_ih", tol=1e-4)
    assert_close(f32(dw_hh), mod.weight_hh_l0.grad.numpy(), "dW_hh", tol=1e-4)
    assert_close(f32(db), mod.bias_hh_l0.grad.numpy(), "db", tol=1e-4)


def test_gru_bptt_from_kernels_matches_torch_autograd():
    rng = np.random.default_rng(22)
    T, B, I, H = 3, 2, 4, 5
    w = layer_weights(rng, "gru", I, H)
    x, h0, dy = rand(rng, T, B, I), rand(rng, B, H), rand(rng, T, B, H)
    w_ih, w_hh = w["weight_ih"].astype(np.float64), w["weight_hh"].astype(np.float64)
    hs, saved = [h0], []
    for t in range(T):
        gi = (x[t] @ w_ih.T + w["bias_ih"]).astype(np.float32)
        gh = (hs[-1] @ w_hh.T + w["bias_hh"]).astype(np.float32)
        h, s = rg.gru_cell_pointwise(gi, gh, hs[-1], save_for_backward=True, **EMU)
        hs.append(h), saved.append(s)
    dx, dw_hh, dh_next = np.zeros(x.shape), np.zeros(w_hh.shape), np.zeros((B, H))
    for t in reversed(range(T)):
        dgi, dgh, direct = rg.gru_cell_pointwise_backward((dy[t] + dh_next).astype(np.float32),
                                                          saved[t], hs[t], **EMU)
        dx[t] = dgi.astype(np.float64) @ w_ih
        dw_hh += dgh.astype(np.float64).T @ hs[t]
        dh_next = direct + dgh.astype(np.float64) @ w_hh
    mod = torch_layer("gru", I, H, True, w)
    xt, h0t = t64(x, True), t64(h0[None], True)
    mod(xt, h0t)[0].backward(t64(dy))
    assert_close(dx.astype(np.float32), xt.grad.numpy(), "dx", tol=1e-4)
    assert_close(dh_next.astype(np.float32), h0t.grad[0].numpy(), "dh0", tol=1e-4)
    assert_close(dw_hh.astype(np.float32), mod.weight_hh_l0.grad.numpy(), "dW_hh", tol=1e-4)


# ---------------------------------------------------------------- sanitizers (tiny sizes)

@pytest.mark.parametrize("sanitizer", ["address", "thread"])
def test_kernels_clean_under_sanitizers(sanitizer):
    """Ragged grid (B*H = 260: a second block with 4 busy threads), every kernel once, plus a
    2-step layer; an access past any array would be reported by AddressSanitizer."""
    kw = dict(sanitizer=sanitizer, **EMU)
    rng = np.random.default_rng(30)
    B, H = 2, 130
    gates, c_prev = rand(rng, B, 4 * H), rand(rng, B, H)
    h, c, act = rg.lstm_cell_pointwise(gates, c_prev, save_for_backward=True, **kw)
    assert_close(h, lstm_cell_ref(gates, c_prev)[0], "h")
    dh, dc = rand(rng, B, H), rand(rng, B, H)
    dg, dcp = rg.lstm_cell_pointwise_backward(dh, dc, act, c_prev, c, **kw)
    assert_close(dg, lstm_cell_ref(gates, c_prev, dh, dc)[0], "dgates")
    gi, gh, h_prev, w_hh, b_hh = gru_gates(rng, B, H)
    h, saved = rg.gru_cell_pointwise(gi, gh, h_prev, save_for_backward=True, **kw)
    assert_close(h, gru_cell_ref(gi, h_prev, w_hh, b_hh), "gru h")
    dgi, _, _ = rg.gru_cell_pointwise_backward(dh, saved, h_prev, **kw)
    assert_close(dgi, gru_cell_ref(gi, h_prev, w_hh, b_hh, dh)[0], "dgi")
    if sanitizer == "address":
        run_layer("lstm", (2, 1, 3, 33), **kw)
        run_layer("gru", (2, 1, 3, 33), **kw)


# ---------------------------------------------------------------- persistent variant (cooperative)

# (T, B, I, H): one block; 17 blocks of 2 units; 24 blocks of 3 units with B*U = 9 pairs;
# the largest LSTM hidden size (31 blocks of 10 units, 48 KiB of shared memory minus 32 bytes)
PERSISTENT_CASES = [(1, 1, 1, 1), (3, 2, 4, 33), (4, 3, 5, 70), (2, 1, 3, 307)]
PERSISTENT_IDS = [f"T{t}_B{b}_I{i}_H{h}" for t, b, i, h in PERSISTENT_CASES]


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("case", PERSISTENT_CASES, ids=PERSISTENT_IDS)
def test_persistent_layer_matches_torch(kind, case):
    run_layer(kind, case, variant="persistent", seed=3, **EMU)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_persistent_layer_under_every_schedule(kind, schedule):
    run_layer(kind, (5, 2, 3, 40), variant="persistent", schedule=schedule, seed=4, **EMU)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_persistent_without_bias_and_zero_initial_state(kind):
    run_layer(kind, (3, 2, 3, 9), bias=False, states=False, variant="persistent", seed=8, **EMU)


@pytest.mark.parametrize("sanitizer", ["address", "thread"])
def test_persistent_clean_under_sanitizers(sanitizer):
    """Two steps over 3 blocks: AddressSanitizer sees every shared/global access, ThreadSanitizer
    orders the blocks only by the grid barrier."""
    run_layer("lstm", (2, 1, 2, 5 if sanitizer == "thread" else 66), variant="persistent",
              sanitizer=sanitizer, seed=6, **EMU)


def test_persistent_without_grid_barrier_is_wrong():
    """Remove the grid barrier and a block may read h_{t-1} before the others wrote it."""
    src = (rg.KERNELS_DIR / "persistent.cu").read_text()
    barrier = "grid.sync();                           // h_t complete everywhere"
    assert barrier in src
    broken = src.replace(barrier, "// barrier removed")
    T, B, I, H = 3, 1, 2, 40
    rng = np.random.default_rng(12)
    w = layer_weights(rng, "lstm", I, H)
    x, h0, c0 = rand(rng, T, B, I), rand(rng, B, H), rand(rng, B, H)
    xproj = (x.reshape(T * B, I) @ w["weight_ih"].T + w["bias_ih"] + w["bias_hh"]).reshape(T, B, 4 * H)
    cfg = rg.persistent_launch_config(B, H, 4)
    y_ref, _ = torch_layer("lstm", I, H, True, w)(t64(x), (t64(h0)[None], t64(c0)[None]))
    for code, ok in ((src, True), (broken, False)):
        y = np.full((T, B, H), np.nan, np.float32)
        k = RawModule(code=code, schedule="forward", enable_cooperative_groups=True,
                      **EMU).get_function("lstm_persistent")
        k(cfg["grid"], cfg["block"], (xproj.astype(np.float32), w["weight_hh"], h0, c0, y, c0.copy(),
                                      *(np.int32(v) for v in (T, B, H, cfg["units"]))),
          shared_mem=cfg["shared_mem"])
        assert np.allclose(y, y_ref.detach().numpy(), rtol=1e-4, atol=1e-4) == ok
    # ThreadSanitizer names the race: step t+1 reads y[t] that another block writes unordered
    from course_lib.cuda import SanitizerError
    k = RawModule(code=broken, sanitizer="thread", enable_cooperative_groups=True, **EMU) \
        .get_function("lstm_persistent")
    T, H = 2, 5
    cfg = rg.persistent_launch_config(1, H, 4)
    with pytest.raises(SanitizerError, match="data race.*'y'"):
        k(cfg["grid"], cfg["block"], (xproj[:T, :, :4 * H].copy(), w["weight_hh"][:4 * H, :H].copy(),
                                      h0[:, :H].copy(), c0[:, :H].copy(), np.zeros((T, 1, H), np.float32),
                                      c0[:, :H].copy(), *(np.int32(v) for v in (T, 1, H, cfg["units"]))),
          shared_mem=cfg["shared_mem"])


@pytest.mark.parametrize("H", [1, 31, 32, 33, 100, 256, 307])
def test_persistent_launch_config_covers_every_unit(H):
    for gates in (3, 4):
        cfg = rg.persistent_launch_config(5, H, gates)
        (grid,), (threads,), U = cfg["grid"], cfg["block"], cfg["units"]
        assert (grid - 1) * U < H <= grid * U and grid <= rg.PERSISTENT_MAX_BLOCKS
        assert cfg["shared_mem"] == 4 * gates * U * H <= rg.PERSISTENT_SMEM
        assert threads % 32 == 0 and 32 <= threads <= 256


def test_persistent_refuses_a_hidden_size_too_large_for_shared_memory():
    with pytest.raises(ValueError, match="variant='stepwise'"):
        rg.persistent_launch_config(1, 308, 4)
    assert rg.persistent_launch_config(1, 352, 3)["shared_mem"] <= rg.PERSISTENT_SMEM
    rng = np.random.default_rng(13)
    w = layer_weights(rng, "lstm", 2, 320)
    with pytest.raises(ValueError, match="shared memory"):
        rg.lstm_layer_forward(rand(rng, 1, 1, 2), *w.values(), variant="persistent", **EMU)


# ---------------------------------------------------------------- the harness can fail

def test_swapped_gate_order_is_caught():
    """A kernel reading the forget gate from the input gate's block (i and f swapped, the order
    of some other libraries) must fail the comparison with torch."""
    src = (rg.KERNELS_DIR / "lstm_pointwise.cu").read_text()
    broken = src.replace("*ig = lstm_sigmoid(row[j]);", "*ig = lstm_sigmoid(row[H + j]);") \
                .replace("*fg = lstm_sigmoid(row[H + j]);", "*fg = lstm_sigmoid(row[j]);")
    assert broken != src
    rng = np.random.default_rng(40)
    B, H = 2, 6
    gates, c_prev = rand(rng, B, 4 * H, scale=2.0), rand(rng, B, H)
    _, c_ref = lstm_cell_ref(gates, c_prev)
    for code, ok in ((src, True), (broken, False)):
        h, c = np.zeros((B, H), np.float32), np.zeros((B, H), np.float32)
        k = RawModule(code=code, **EMU).get_function("lstm_pointwise_forward")
        k((1,), (rg.BLOCK,), (gates, c_prev, h, c, np.int32(B), np.int32(H)))
        assert np.allclose(c, c_ref, rtol=1e-5, atol=1e-5) == ok


def test_address_sanitizer_reports_a_missing_bounds_guard():
    """Without ``if (k >= B * H) return;`` the idle threads of the last block read and write
    past the arrays: AddressSanitizer must say so (else the clean runs above prove nothing)."""
    from course_lib.cuda import SanitizerError
    src = (rg.KERNELS_DIR / "gru_pointwise.cu").read_text()
    guard = "if (k >= B * H) return;              // the launcher checks that B*4H fits in an int"
    assert guard in src
    k = RawModule(code=src.replace(guard, ""), sanitizer="address", **EMU) \
        .get_function("gru_pointwise_forward")
    rng = np.random.default_rng(41)
    gi, gh, h_prev, _, _ = gru_gates(rng, 1, 5)
    with pytest.raises(SanitizerError):
        k((1,), (32,), (gi, gh, h_prev, np.zeros((1, 5), np.float32), np.int32(1), np.int32(5)))


def test_registry_names_existing_kernels():
    for name, info in rg.KERNELS.items():
        assert f"__global__ void {info.function}(" in info.path.read_text(), name
        assert info.description


# ---------------------------------------------------------------- argument checks

def test_bad_arguments_are_rejected():
    rng = np.random.default_rng(50)
    gates, c_prev = rand(rng, 2, 12), rand(rng, 2, 3)
    with pytest.raises(ValueError, match=r"gates must have shape \(B, 4H\).*not a multiple of 4"):
        rg.lstm_cell_pointwise(rand(rng, 2, 10), c_prev, **EMU)
    with pytest.raises(ValueError, match=r"c_prev must have shape \(B, H\) = \(2, 3\), got \(2, 4\)"):
        rg.lstm_cell_pointwise(gates, rand(rng, 2, 4), **EMU)
    with pytest.raises(TypeError, match="float32 only: gates has dtype float64"):
        rg.lstm_cell_pointwise(gates.astype(np.float64), c_prev, **EMU)
    with pytest.raises(ValueError, match="empty dimension"):
        rg.lstm_cell_pointwise(np.zeros((0, 12), np.float32), np.zeros((0, 3), np.float32), **EMU)
    bad = c_prev.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="c_prev .*NaN"):
        rg.lstm_cell_pointwise(gates, bad, **EMU)
    with pytest.raises(TypeError, match="numpy.ndarray or cupy.ndarray"):
        rg.gru_cell_pointwise(gates[:, :9].tolist(), gates[:, :9], c_prev, **EMU)
    with pytest.raises(ValueError, match=r"gh must have shape \(B, 3H\)"):
        rg.gru_cell_pointwise(gates[:, :9].copy(), gates, c_prev, **EMU)
    with pytest.raises(ValueError, match="backend must be"):
        rg.lstm_cell_pointwise(gates, c_prev, backend="opencl")
    w = layer_weights(rng, "lstm", 4, 3)
    x = rand(rng, 5, 2, 4)
    with pytest.raises(ValueError, match=r"x has I=5 .* weight_ih expects I=4"):
        rg.lstm_layer_forward(rand(rng, 5, 2, 5), *w.values(), **EMU)
    with pytest.raises(ValueError, match=r"x must be 3-D \(T, B, I\)"):
        rg.lstm_layer_forward(x[0], *w.values(), **EMU)
    with pytest.raises(ValueError, match=r"h0 must have shape \(B, H\) = \(2, 3\), got \(1, 3\)"):
        rg.lstm_layer_forward(x, *w.values(), rand(rng, 1, 3), None, **EMU)
    with pytest.raises(ValueError, match="both bias_ih and bias_hh"):
        rg.lstm_layer_forward(x, w["weight_ih"], w["weight_hh"], w["bias_ih"], None, **EMU)
    with pytest.raises(ValueError, match=r"weight_hh must have shape \(4H, H\)"):
        rg.lstm_layer_forward(x, w["weight_ih"], w["weight_hh"][:, :2].copy(), **EMU)
    with pytest.raises(ValueError, match="variant must be one of"):
        rg.lstm_layer_forward(x, *w.values(), variant="fast", **EMU)
    with pytest.raises(ValueError, match="empty dimension"):
        rg.gru_layer_forward(np.zeros((0, 2, 4), np.float32), *layer_weights(rng, "gru", 4, 3).values(),
                             **EMU)


# ---------------------------------------------------------------- NVRTC, every target GPU

def _nvrtc():
    from course_lib.cuda import nvrtc
    ok, why = nvrtc.nvrtc_available()
    if not ok:
        pytest.skip(f"NVRTC unavailable: {why}")
    return nvrtc


@pytest.mark.parametrize("arch", ["sm_75", "sm_80", "sm_89", "sm_90"])
@pytest.mark.parametrize("file", sorted({info.file for info in rg.KERNELS.values()}))
def test_kernels_compile_with_nvrtc(file, arch):
    nvrtc = _nvrtc()
    result = nvrtc.compile_cuda(rg.KERNELS_DIR / file, arch=arch)
    want = {info.function for info in rg.KERNELS.values() if info.file == file}
    assert want <= {k["kernel"] for k in result.kernels}, result.log
    for k in result.kernels:
        assert k["spill_store_bytes"] == 0, k


# ---------------------------------------------------------------- real GPU (CuPy backend)

needs_gpu = pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a CUDA GPU")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("variant", rg.VARIANTS)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("case", LAYER_CASES + [(20, 16, 64, 128), (50, 4, 32, 300)],
                         ids=LAYER_IDS + ["T20_B16_I64_H128", "T50_B4_I32_H300"])
def test_gpu_layer_matches_torch(kind, case, variant):
    run_layer(kind, case, variant=variant, backend="cupy")


@pytest.mark.gpu
@needs_gpu
def test_gpu_cupy_arrays_stay_on_the_device():
    import cupy
    rng = np.random.default_rng(60)
    B, H = 3, 70
    gates, c_prev, dh = rand(rng, B, 4 * H), rand(rng, B, H), rand(rng, B, H)
    h, c, act = rg.lstm_cell_pointwise(cupy.asarray(gates), cupy.asarray(c_prev), backend="cupy",
                                       save_for_backward=True)
    assert isinstance(h, cupy.ndarray) and isinstance(act, cupy.ndarray)
    h_ref, c_ref = lstm_cell_ref(gates, c_prev)
    assert_close(cupy.asnumpy(h), h_ref)
    dg, _ = rg.lstm_cell_pointwise_backward(cupy.asarray(dh), None, act, cupy.asarray(c_prev), c,
                                            backend="cupy")
    assert_close(cupy.asnumpy(dg), lstm_cell_ref(gates, c_prev, dh, np.zeros_like(dh))[0])
    w = layer_weights(rng, "gru", 5, H)
    x = rand(rng, 4, B, 5)
    y, hn = rg.gru_layer_forward(cupy.asarray(x), *(cupy.asarray(a) for a in w.values()),
                                 backend="cupy")
    assert isinstance(y, cupy.ndarray)
    y_ref, _ = torch_layer("gru", 5, H, True, w)(t64(x))
    assert_close(cupy.asnumpy(y), y_ref.detach().numpy())


@pytest.mark.gpu
@needs_gpu
def test_gpu_and_emulator_agree():
    rng = np.random.default_rng(61)
    gates, c_prev = rand(rng, 4, 4 * 100), rand(rng, 4, 100)
    on_gpu = rg.lstm_cell_pointwise(gates, c_prev, backend="cupy")
    on_cpu = rg.lstm_cell_pointwise(gates, c_prev, backend="emulator")
    for a, b in zip(on_gpu, on_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

"""Roofline maths and FLOP/byte counts against values derived by hand from the inputs."""
import numpy as np
import pytest

from course_lib.bench import counts
from course_lib.bench.roofline import (Ceilings, attainable_gflops, measure_ceilings, place,
                                       ridge_intensity)


@pytest.mark.parametrize("peak,bw", [(100.0, 10.0), (1979e3 / 2, 4800.0), (37.5, 2.5)])
def test_attainable_is_min_of_peak_and_intensity_times_bandwidth(peak, bw):
    ridge = peak / bw
    for ai in (ridge / 100, ridge / 2, ridge, 2 * ridge, 100 * ridge):
        expect = ai * bw if ai < ridge else peak          # the two branches, by hand
        assert attainable_gflops(ai, peak, bw) == pytest.approx(expect)
    xs = np.array([ridge / 4, ridge * 4])
    np.testing.assert_allclose(attainable_gflops(xs, peak, bw), [ridge / 4 * bw, peak])
    assert ridge_intensity(peak, bw) == pytest.approx(ridge)
    assert Ceilings(peak, bw).ridge == pytest.approx(ridge)


def test_place_a_kernel():
    c = Ceilings(100.0, 10.0)
    # 2 GFLOP moving 1 GB in 0.25 s: intensity 2, 8 GFLOP/s; roof at 2 FLOP/B = 20
    p = place("k", 2e9, 1e9, 0.25, c)
    assert p["intensity"] == pytest.approx(2e9 / 1e9)
    assert p["gflops"] == pytest.approx(2e9 / 0.25 / 1e9)
    assert p["attainable_gflops"] == pytest.approx(min(100.0, 2 * 10.0))
    assert p["fraction_of_roof"] == pytest.approx((2e9 / 0.25 / 1e9) / 20.0)
    assert p["bound"] == "memory"
    assert place("g", 1e12, 1e9, 20.0, c)["bound"] == "compute"


def test_bad_ceilings_and_inputs():
    with pytest.raises(ValueError, match="peak_gflops"):
        Ceilings(0.0, 1.0)
    with pytest.raises(ValueError, match="intensity"):
        attainable_gflops(-1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="seconds"):
        place("k", 1, 1, 0.0, Ceilings(1, 1))
    with pytest.raises(ValueError, match="nbytes"):
        counts.arithmetic_intensity(1.0, 0)


def test_measured_ceilings_are_plausible():
    c = measure_ceilings(quick=True)
    assert c.peak_gflops > 0.5 and c.bandwidth_gbs > 0.1
    assert c.ridge > 0.1            # any CPU computes more than one FLOP per 10 bytes moved
    assert "matmul" in c.how and Ceilings.from_dict(c.to_dict()) == c


def test_matmul_counts_against_a_loop_count():
    m, n, k = 3, 5, 7
    macs = sum(1 for _ in range(m) for _ in range(n) for _ in range(k))
    assert counts.matmul_flops(m, n, k) == 2 * macs
    assert counts.matmul_flops(m, n, k, batch=4) == 8 * macs
    assert counts.matmul_bytes(m, n, k, itemsize=4) == 4 * (m * k + k * n + m * n)


@pytest.mark.parametrize("xs,ws,s,p", [((2, 3, 9, 11), (4, 3, 3, 3), 1, 1),
                                        ((1, 8, 16, 16), (6, 8, 5, 5), 2, 2),
                                        ((3, 2, 7, 7), (5, 2, 7, 7), 1, 0)])
def test_conv_counts_against_torch_output_shape(xs, ws, s, p):
    torch = pytest.importorskip("torch")
    y = torch.nn.functional.conv2d(torch.zeros(xs), torch.zeros(ws), stride=s, padding=p)
    macs = y.numel() * ws[1] * ws[2] * ws[3]
    assert counts.conv2d_flops(xs, ws, s, p) == 2 * macs
    elems = np.prod(xs) + np.prod(ws) + y.numel()
    assert counts.conv2d_bytes(xs, ws, s, p, itemsize=2) == 2 * elems


def test_attention_softmax_lstm_counts():
    B, h, L, S, d = 2, 3, 5, 7, 4
    per_head = 2 * L * S * d + L * S + 5 * L * S + 2 * L * S * d
    assert counts.attention_flops(B, h, L, S, d) == B * h * per_head
    assert counts.softmax_flops(6, 10) == 5 * 60
    B, I, H = 2, 3, 4
    gemm = 2 * B * (I + H) * (4 * H)
    assert counts.lstm_step_flops(B, I, H) == gemm + 13 * B * H
    flash = counts.attention_bytes(1, 1, 8, 8, 4, materialised=False)
    assert flash == 4 * (8 * 4 * 4)
    assert counts.attention_bytes(1, 1, 8, 8, 4) == flash + 4 * 4 * 64
    with pytest.raises(ValueError, match="heads"):
        counts.attention_flops(1, 0, 1, 1, 1)

"""Operation counts, checked against counting by brute force and against the definitions."""
from fractions import Fraction

import math
import numpy as np
import pytest

from course_lib.conv.opcount import (direct_ops, fft_ops, im2col_ops, matvec_cost,
                                     source_fft_table, winograd_ops, winograd_table)
from course_lib.conv.winograd_transforms import winograd_matrices


def test_direct_counts_by_enumeration():
    xs, ws = (2, 3, 6, 5), (4, 3, 3, 2)
    ops = direct_ops(xs, ws, (2, 1), 1)
    # enumerate the (output, tap) pairs of the definition
    oh, ow = (6 + 2 - 3) // 2 + 1, (5 + 2 - 2) // 1 + 1
    taps = sum(1 for _ in np.ndindex(2, 4, oh, ow, 3, 3, 2))
    assert ops.mults == taps and ops.adds == taps - 2 * 4 * oh * ow
    assert im2col_ops(xs, ws, (2, 1), 1).workspace_elements == 2 * 3 * 3 * 2 * oh * ow


def test_winograd_table_values():
    rows = {r["algorithm"]: r for r in winograd_table()}
    assert rows["F(2,3)"]["mults_per_tile"] == 4 and rows["F(2,3)"]["mults_per_output"] == 2
    assert rows["F(2x2,3x3)"]["mults_per_tile"] == 16
    assert rows["F(2x2,3x3)"]["reduction"] == Fraction(9, 4)
    assert rows["F(2x2,3x3)"]["saved"] == Fraction(5, 9)          # 55.6 %, not 55 % of F(2,3)
    assert rows["F(4x4,3x3)"]["mults_per_tile"] == 36                # not 16
    assert rows["F(4x4,3x3)"]["reduction"] == 4 and rows["F(4x4,3x3)"]["saved"] == Fraction(3, 4)
    assert rows["F(4,3)"]["saved"] == Fraction(1, 2)


def test_matvec_cost_by_hand():
    mats = winograd_matrices(2, 3)
    assert matvec_cost(mats.BT) == (0, 4)         # F(2,3) input transform: 4 adds, no mults
    assert matvec_cost([[2, 0, 1], [1, -1, 0]]) == (1, 2)


def test_winograd_elementwise_stage_and_ragged_tiles():
    ops = winograd_ops((1, 2, 5, 5), (3, 2, 3, 3), padding=1, m=4)   # 5x5 output -> 2x2 tiles
    assert ops.parts["elementwise"][0] == 36 * 3 * 2 * 4
    big = winograd_ops((8, 64, 56, 56), (64, 64, 3, 3), 1, 4)
    direct = direct_ops((8, 64, 56, 56), (64, 64, 3, 3), 1, 1)
    assert 3.5 < direct.mults / big.mults < 4.0       # 4x minus transform overhead
    with pytest.raises(ValueError, match="3x3"):
        winograd_ops((1, 1, 8, 8), (1, 1, 5, 5))


def test_fft_model_and_source_table():
    ops = fft_ops((1, 1, 64, 64), (1, 1, 5, 5))
    n = 64 * 64
    assert ops.parts["transforms"][0] == pytest.approx(3 * n * math.log2(n))
    t = source_fft_table(1024, 11)
    assert t["direct_valid_macs"] == 1014 ** 2 * 121
    assert t["bigO_ratio"] == pytest.approx(12.1)     # the source's "12x" is K^2 / log2 N
    assert 1.3 < t["flop_ratio_direct_over_fft"] < 2.0

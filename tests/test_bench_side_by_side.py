"""The side-by-side table functions on hand-built rows whose answers follow from the definitions."""
import math

import pytest

from course_lib.bench import Ceilings
from course_lib.bench.side_by_side import (COLUMNS, ceilings_for, markdown_op_table, op_table,
                                           roofline_point, table_key, tables_from_record,
                                           timing_summary)

CEIL = {"peak_gflops": 100.0, "bandwidth_gbs": 10.0}       # ridge at 10 FLOP/byte


def timed(name, seconds, flops=1e9, nbytes=1e8, device="cpu", **extra):
    """A row timed at exactly ``seconds`` per call (five equal samples)."""
    return {"name": name, "params": {"op": "conv", "device": device},
            "timing": {"samples_s": [seconds] * 5}, "flops": flops, "bytes": nbytes, **extra}


def untimed(name, device="emulator", **extra):
    return {"name": name, "params": {"op": "conv", "device": device}, "timing": None, **extra}


def by_name(table):
    return {r["name"]: r for r in table}


def test_fastest_row_is_one_and_a_row_twice_as_slow_is_two():
    t = by_name(op_table([timed("slow", 0.020), timed("fast", 0.010), timed("mid", 0.015)]))
    assert t["fast"]["ratio_to_best"] == 1.0
    assert t["slow"]["ratio_to_best"] == pytest.approx(2.0)
    assert t["mid"]["ratio_to_best"] == pytest.approx(1.5)
    assert t["fast"]["median_ms"] == pytest.approx(10.0)
    assert t["fast"]["gflops"] == pytest.approx(1e9 / 0.010 / 1e9)      # 100 GFLOP/s


def test_median_and_iqr_follow_the_samples():
    # samples 1..5 ms: median 3, quartiles by linear interpolation 2 and 4
    row = dict(timed("a", 1.0), timing={"samples_s": [0.005, 0.001, 0.004, 0.002, 0.003]})
    r = op_table([row])[0]
    assert (r["median_ms"], r["q1_ms"], r["q3_ms"], r["iqr_ms"]) == pytest.approx((3, 2, 4, 2))
    s = timing_summary({"median_s": 0.5})               # a summary without samples: no spread
    assert s["median_s"] == 0.5 and s["iqr_s"] is None


def test_attainable_is_min_of_peak_and_intensity_times_bandwidth_in_both_regimes():
    c = Ceilings(**CEIL)
    # memory-bound: I = 2 FLOP/B < ridge 10 -> 2 * 10 GB/s = 20 GFLOP/s
    mem = roofline_point(2e9, 1e9, 0.2, c)
    assert mem["intensity"] == 2.0 and mem["attainable_gflops"] == pytest.approx(20.0)
    assert mem["bound"] == "memory"
    assert mem["roofline_fraction"] == pytest.approx((2e9 / 0.2 / 1e9) / 20.0)   # 10 / 20
    # compute-bound: I = 50 > 10 -> the peak, 100 GFLOP/s
    comp = roofline_point(5e10, 1e9, 1.0, c)
    assert comp["attainable_gflops"] == pytest.approx(100.0) and comp["bound"] == "compute"
    assert comp["roofline_fraction"] == pytest.approx(0.5)


def test_untimed_rows_stay_untimed_not_zero():
    table = by_name(op_table([timed("numpy", 0.01), untimed("emulator k", max_abs_err=1e-6,
                                                            tolerance=1e-4, note="correctness only"),
                              untimed("cupy k", device="cuda", flops=1e9, bytes=1e8,
                                      note="no GPU")], {"cpu": CEIL, "cuda": None}))
    for name in ("emulator k", "cupy k"):
        r = table[name]
        assert r["timed"] is False
        for key in ("median_ms", "iqr_ms", "gflops", "ratio_to_best", "roofline_fraction"):
            assert r[key] is None, (name, key)
    assert table["emulator k"]["passed"] is True
    assert table["cupy k"]["intensity"] == pytest.approx(10.0)    # counts known, no GPU roof
    assert table["cupy k"]["attainable_gflops"] is None
    lines = markdown_op_table(list(table.values()))
    cupy_line = next(line for line in lines if line.startswith("| cupy k"))
    assert "not timed" in cupy_line and "no GPU" in cupy_line and "| 0" not in cupy_line


def test_each_device_is_placed_on_its_own_roof():
    gpu = {"peak_gflops": 10000.0, "bandwidth_gbs": 1000.0}
    t = by_name(op_table([timed("cpu row", 0.01), timed("gpu row", 0.001, device="cuda")],
                         {"cpu": CEIL, "cuda": gpu}))
    # I = 10 FLOP/B: on the CPU exactly the ridge (100), on the GPU 10 x 1000 = 10000
    assert t["cpu row"]["attainable_gflops"] == pytest.approx(100.0)
    assert t["gpu row"]["attainable_gflops"] == pytest.approx(10000.0)
    assert t["gpu row"]["ratio_to_best"] == 1.0 and t["cpu row"]["ratio_to_best"] == pytest.approx(10)


def test_a_row_counting_its_own_traffic_says_so():
    t = by_name(op_table([timed("flash", 0.01, nbytes=1e7),
                          timed("standard", 0.02, nbytes=1e8, traffic="scores materialised")],
                         CEIL))
    assert t["flash"]["traffic"] == "compulsory" and t["flash"]["intensity"] == pytest.approx(100)
    assert t["standard"]["intensity"] == pytest.approx(10)
    line = next(x for x in markdown_op_table(list(t.values())) if x.startswith("| standard"))
    assert "scores materialised" in line


def test_a_failed_check_is_not_the_best_and_is_marked():
    t = by_name(op_table([timed("wrong but fast", 0.001, max_abs_err=1.0, tolerance=1e-4),
                          timed("right", 0.004, max_abs_err=1e-6, tolerance=1e-4)]))
    assert t["right"]["ratio_to_best"] == 1.0 and t["wrong but fast"]["ratio_to_best"] == 0.25
    assert t["wrong but fast"]["passed"] is False
    assert any("FAIL" in line for line in markdown_op_table(list(t.values())))


def test_nan_error_is_kept_as_a_failure():
    r = op_table([untimed("broken", max_abs_err=math.nan, tolerance=1e-4)])[0]
    assert math.isnan(r["max_abs_err"]) and r["passed"] is False


def test_tables_from_a_record_group_by_op_and_variant_with_per_device_ceilings():
    def row(name, op, variant=None, device="cpu", s=0.01):
        params = {"op": op, "device": device, **({"variant": variant} if variant else {})}
        return {"name": name, "params": params, "timing": {"samples_s": [s] * 3},
                "flops": 1e9, "bytes": 1e8}
    rec = {"ceilings": CEIL, "config": {"ceilings_by_device": {"cpu": CEIL, "cuda": None}},
           "results": [row("a", "softmax"), row("b", "softmax", s=0.03),
                       row("c", "attention", "causal"), row("d", "attention", "non-causal"),
                       row("e", "attention", "causal", device="cuda")]}
    tables = tables_from_record(rec)
    assert list(tables) == ["softmax", "attention, causal", "attention, non-causal"]
    assert [r["ratio_to_best"] for r in tables["softmax"]] == pytest.approx([1.0, 3.0])
    causal = by_name(tables["attention, causal"])
    assert causal["e"]["attainable_gflops"] is None and causal["c"]["attainable_gflops"] == 100
    assert table_key(rec["results"][2]) == "attention, causal"


def test_markdown_has_one_line_per_row_and_the_columns():
    lines = markdown_op_table(op_table([timed("a", 0.01), untimed("b", note="x | y")]),
                              title="conv")
    assert lines[0] == "### conv"
    assert lines[2].count("|") == len(COLUMNS) + 1
    b_line = next(line for line in lines if line.startswith("| b"))
    assert b_line.replace("\\|", "").count("|") == len(COLUMNS) + 1      # the note's "|" escaped
    assert sum(line.startswith("| a") or line.startswith("| b") for line in lines) == 2


@pytest.mark.parametrize("rows, match", [
    ([], "non-empty list"),
    ([{"params": {}}], "needs a non-empty 'name'"),
    ([timed("a", 0.01), timed("a", 0.02)], "two rows are named 'a'"),
    ([timed("a", 0.01, flops=-5)], "row 'a': flops must be finite and > 0, got -5"),
    ([timed("a", 0.01, nbytes=0)], "row 'a': bytes must be finite and > 0, got 0"),
    ([untimed("a", max_abs_err=-1.0)], "row 'a': max_abs_err must be >= 0, got -1.0"),
    ([dict(timed("a", 0.01), timing={"samples_s": [0.01, -1.0]})], "samples must be finite and > 0"),
    ([dict(timed("a", 0.01), timing={"repeats": 3})], "timing needs samples_s or median_s"),
    ([timed("a", 0.01), {**timed("b", 0.01), "params": {"op": "lstm_step"}}],
     r"one table is one operation, but the rows hold \['conv', 'lstm_step'\]"),
])
def test_bad_rows_raise_naming_the_row_and_value(rows, match):
    with pytest.raises(ValueError, match=match):
        op_table(rows)


def test_bad_ceilings_raise():
    with pytest.raises(ValueError, match="ceilings must be None"):
        ceilings_for([1, 2], "cpu")
    with pytest.raises(ValueError, match=r"ceilings\['cpu'\] must be None"):
        ceilings_for({"cpu": "fast"}, "cpu")
    with pytest.raises(ValueError, match="ceilings must be > 0"):
        op_table([timed("a", 0.01)], {"peak_gflops": 0.0, "bandwidth_gbs": 1.0})
    with pytest.raises(ValueError, match="no params.op"):
        table_key({"name": "x", "params": {}})

"""course_lib.bench.records: a record written to JSON reads back the same."""
import json
import math

import numpy as np
import pytest

from course_lib.bench.machine import machine_record, machine_slug
from course_lib.bench.memory import measure_memory
from course_lib.bench.records import (add_result, new_record, read_record, record_path,
                                      timings, write_record)
from course_lib.bench.roofline import Ceilings
from course_lib.bench.timing import Timing


def _record(quick=False):
    rec = new_record("demo_cpu", quick=quick, config={"sizes": [1, 2]},
                     ceilings=Ceilings(100.0, 10.0, "test"))
    t = Timing((0.010, 0.012, 0.011), warmup=1)
    mem = measure_memory(lambda: np.ones(1024))
    add_result(rec, "numpy", timing=t, memory=mem, flops=2e7, nbytes=1e6,
               params={"n": np.int64(3), "shape": (2, 3)}, max_rel_err=np.float32(1e-7),
               ratio=float("nan"))
    add_result(rec, "untimed", params={"n": 1})
    return rec, t


def test_round_trip(tmp_path):
    rec, t = _record()
    path = write_record(rec, tmp_path)
    assert path == tmp_path / machine_slug(rec["machine"]) / "demo_cpu.json"
    back = read_record(path)
    assert back == json.loads(path.read_text())
    assert back["machine"] == json.loads(json.dumps(rec["machine"]))
    assert back["ceilings"]["ridge_flop_per_byte"] == pytest.approx(10.0)
    row = back["results"][0]
    assert row["params"] == {"n": 3, "shape": [2, 3]}
    assert row["gflops"] == pytest.approx(2e7 / 0.011 / 1e9)
    assert row["ratio"] is None and math.isclose(row["max_rel_err"], 1e-7, rel_tol=1e-6)
    assert row["memory"]["traced_peak_bytes"] == pytest.approx(8192, abs=2048)
    assert timings(back) == {"numpy": t}
    assert back["results"][1]["timing"] is None


def test_quick_runs_are_kept_apart(tmp_path):
    rec, _ = _record(quick=True)
    assert record_path(rec, tmp_path).name == "demo_cpu_quick.json"


def test_read_rejects_other_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"machine": {}, "layers": []}))
    with pytest.raises(ValueError, match="not a course_lib.bench/1 record"):
        read_record(p)
    p.write_text(json.dumps({"schema": "course_lib.bench/1", "benchmark": "b"}))
    with pytest.raises(ValueError, match="lacks 'machine'"):
        read_record(p)


@pytest.mark.parametrize("name", ["", "a/b", None])
def test_bad_benchmark_name(name):
    with pytest.raises(ValueError, match="benchmark"):
        new_record(name, machine=machine_record())

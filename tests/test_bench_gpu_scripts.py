"""The GPU benchmark scripts' harness parts, checked on the CPU: their timer (with a
stand-in CuPy, see test_bench_progress_cuda) and the record each writes from its rows."""
import importlib.util
import sys
import time
from pathlib import Path

import pytest

from course_lib.bench import machine_record, machine_slug, read_record

from test_bench_progress_cuda import _FakeCupy

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ROWS = {
    "bench_conv_gpu": ("conv_gpu", {"forward": [{"layer": "res2 3x3", "x": (8, 64, 56, 56),
                                                 "ms": {"tiled": 2.0, "cudnn": 0.5},
                                                 "TFLOPs": {"tiled": 1.8, "cudnn": 7.4},
                                                 "max_abs_err": {"tiled": 1e-5},
                                                 "errors": {"naive": "wrong result"},
                                                 "pct_of_cudnn": {"tiled": 25.0}}],
                                    "ceilings": {"d2d_copy_GBps": 4000.0}, "stage_errors": {}}),
    "bench_attention_gpu": ("attention_gpu", {"softmax": [{"rows": 4096, "n": 1024,
                                                           "ms": {"ours": 0.1}, "GBps": {"ours": 300.0},
                                                           "max_abs_err": {}, "errors": {}}],
                                              "copy_GBps": 4000.0, "stage_errors": {}}),
    "bench_rnn_gpu": ("rnn_gpu", {"rows": [{"kind": "lstm", "T": 100, "B": 32, "H": 256,
                                            "ms": {"cudnn": 1.0, "stepwise": 9.0},
                                            "errors": {}}]}),
}


@pytest.mark.parametrize("script", sorted(ROWS))
def test_record_from_the_rows(script, tmp_path):
    mod = _load(script)
    bench, result = ROWS[script]
    result = dict(result, env={"machine": machine_record()})
    path = mod.write_harness_record(result, True, tmp_path)
    assert path == tmp_path / machine_slug(result["env"]["machine"]) / f"{bench}_quick.json"
    rec = read_record(path)
    rows = [r for part in ("forward", "softmax", "rows") for r in result.get(part, [])]
    expect = {(k, v) for r in rows for k, v in r["ms"].items()}
    assert {(r["name"], r["median_ms"]) for r in rec["results"] if "median_ms" in r} == expect
    if script == "bench_conv_gpu":
        tiled = next(r for r in rec["results"] if r["name"] == "tiled")
        assert tiled["TFLOPs"] == 1.8 and tiled["params"]["layer"] == "res2 3x3"
        assert any(r["name"] == "naive" and r["errors"] for r in rec["results"])


@pytest.mark.parametrize("script", ["bench_conv_gpu", "bench_attention_gpu", "bench_rnn_gpu"])
def test_time_gpu_goes_through_the_harness_timer(script, monkeypatch):
    mod = _load(script)
    monkeypatch.setitem(sys.modules, "cupy", _FakeCupy())
    ms = mod.time_gpu(lambda: time.sleep(0.002), trials=3)
    assert 1.9 <= ms < 20

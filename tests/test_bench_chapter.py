"""The 16.6 chapter's record helpers (course_lib.bench.chapter) on hand-built records.

Every expected answer follows from a definition (newest = latest ``created``; ratio =
live / committed; fastest = smallest time; a verdict from the tolerance rule), not from
running the code under test.
"""
import json

import pytest

from course_lib.bench.chapter import claims, committed, guide, live
from course_lib.bench.records import SCHEMA
from course_lib.bench.roofline import Ceilings


def timing(median):
    return {"median_s": median, "q1_s": median, "q3_s": median, "min_s": median,
            "max_s": median, "repeats": 1, "warmup": 0, "number": 1,
            "samples_s": [median]}


def record(benchmark, created, results, gpu=False, quick=False):
    return {"schema": SCHEMA, "benchmark": benchmark, "quick": quick, "created": created,
            "machine": {"cpu": "Test CPU", "cores": 2, "versions": {"torch": "x"},
                        "threads": {"blas": 2, "torch": {"intra_op": 2}},
                        "gpus": [{"name": "Test GPU", "cuda_runtime": "13.0"}] if gpu
                        else None},
            "ceilings": None, "config": {}, "results": results}


def row(name, seconds=None, **params):
    return {"name": name, "params": params,
            "timing": None if seconds is None else timing(seconds)}


def write(root, slug, rec):
    path = root / slug / (rec["benchmark"] + ("_quick" if rec["quick"] else "") + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec))
    return path


# ------------------------------------------------------------------ committed records

def test_newest_record_picks_latest_per_device_and_skips_quick(tmp_path):
    write(tmp_path, "cpu-a", record("lm_cpu", "2026-01-01T00:00:00Z", [row("old", 1.0)]))
    write(tmp_path, "cpu-b", record("lm_cpu", "2026-03-01T00:00:00Z", [row("new", 1.0)]))
    write(tmp_path, "gpu-a", record("lm_cpu", "2026-05-01T00:00:00Z", [row("gpu", 1.0)],
                                    gpu=True))
    write(tmp_path, "cpu-c", record("lm_cpu", "2026-09-01T00:00:00Z", [row("quick", 1.0)],
                                    quick=True))
    (tmp_path / "lm_cpu.json").write_text(json.dumps({"rows": []}))   # a compact summary
    get = lambda **kw: committed.newest_record("lm_cpu", roots=tmp_path, **kw)
    assert get(device="cpu")["results"][0]["name"] == "new"
    assert get(device="cuda")["results"][0]["name"] == "gpu"
    assert get()["results"][0]["name"] == "gpu"
    assert get(device="cpu", include_quick=True)["results"][0]["name"] == "new"
    assert committed.newest_record("lm_gpu", roots=tmp_path) is None
    assert committed.newest_record("lm_cpu", roots=tmp_path / "absent") is None


def test_quick_record_used_only_when_asked_and_nothing_else(tmp_path):
    write(tmp_path, "c", record("ops_cpu", "2026-01-01T00:00:00Z", [], quick=True))
    assert committed.newest_record("ops_cpu", roots=tmp_path) is None
    assert committed.newest_record("ops_cpu", roots=tmp_path, include_quick=True)["quick"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="device"):
        committed.newest_record("lm_cpu", device="tpu")
    with pytest.raises(ValueError, match="benchmark"):
        committed.list_records("a/b")


def test_select_and_machine_summary():
    rec = record("m", "2026-02-03T04:05:06Z",
                 [row("a", 2.0, section="latency", batch=1),
                  row("a", 3.0, section="latency", batch=8), row("b", None, section="counts")],
                 gpu=True)
    assert [r["timing"]["median_s"] for r in committed.select(rec, "a", batch=8)] == [3.0]
    assert committed.select(rec, section="counts")[0]["name"] == "b"
    assert committed.select(None, "a") == []
    assert committed.median_s(committed.select(rec, "b")[0]) is None
    s = committed.machine_summary(rec)
    assert (s["date"], s["gpu"], s["cuda"], s["torch_threads"]) == ("2026-02-03", "Test GPU",
                                                                     "13.0", 2)
    assert committed.record_device(rec) == "cuda"


def test_gpu_check_run_reads_device_and_date(tmp_path):
    assert committed.gpu_check_run(tmp_path) is None
    (tmp_path / "env.json").write_text(json.dumps({"gpu": "NVIDIA X1"}))
    (tmp_path / "nvidia-smi.txt").write_text("Sat Nov  7 17:33:08 2026\n+---\n")
    run = committed.gpu_check_run(tmp_path)
    assert (run["gpu"], run["date"], run["conv"]) == ("NVIDIA X1", "2026-11-07", None)


# ------------------------------------------------------------------ claims and verdicts

@pytest.mark.parametrize("source, measured, tol, expected", [
    (25.0, 25.557, 0.05, "confirmed"),        # 2.2 % off, inside 5 %
    (25.0, 25.557, 0.02, "corrected"),        # outside 2 %
    (8.2, 8.2 * 1.0999, 0.10, "confirmed"),
    (8.2, 8.2 * 1.1001, 0.10, "corrected"),
    (1.2, None, 0.05, "unverifiable"),
    (True, True, 0.05, "confirmed"),
    (True, False, 0.05, "corrected"),
    (True, None, 0.05, "unverifiable"),
])
def test_verdict_rule(source, measured, tol, expected):
    assert claims.verdict(source, measured, tol) == expected


def test_verdict_rejects_bad_input():
    with pytest.raises(ValueError, match="rel_tol"):
        claims.verdict(1.0, 1.0, -0.1)
    with pytest.raises(TypeError, match="booleans"):
        claims.verdict(True, 1.0)
    with pytest.raises(ValueError, match="finite"):
        claims.verdict(1.0, float("nan"))
    with pytest.raises(ValueError, match="basis"):
        claims.Claim("x", 1.0)                # unmeasured and no reason


def test_judge_rows_show_value_ratio_and_reason():
    c = claims.Claim("latency", 8.0, 2.0, unit="ms", basis="CPU, batch 1")
    assert claims.judge(c) == ("latency", "8 ms", "2 ms (x 0.25)", "corrected", "CPU, batch 1")
    u = claims.Claim("top-1", 76.2, None, unit="%", basis="no dataset here")
    assert claims.judge(u)[2:4] == ("not measured", "unverifiable")
    o = claims.Claim("flash faster", True, True, basis="measured")
    assert claims.judge(o)[1:4] == ("yes", "yes", "confirmed")
    assert claims.tally([c, u, o]) == {"confirmed": 1, "corrected": 1, "unverifiable": 1}


# ------------------------------------------------------------------ the guide

def test_fastest_and_its_errors():
    best, ratios = guide.fastest({"a": 2.0, "b": 1.0, "c": None})
    assert best == "b" and ratios == {"a": 2.0, "b": 1.0}
    with pytest.raises(ValueError, match="at least one"):
        guide.fastest({"a": None})
    with pytest.raises(ValueError, match="> 0"):
        guide.fastest({"a": 0.0})


def test_conv_guide_picks_the_fastest_of_ours():
    layer = dict(layer="3x3", w=[64, 32, 3, 3], stride=1)
    rec = record("conv_cpu", "2026-01-01T00:00:00Z", [
        row("im2col", 0.004, **layer), row("winograd F4", 0.002, **layer),
        row("fft", 0.010, **layer), row("torch", 0.001, **layer),
        {**row("auto: whole call", 0.0021, **layer), "choice": "winograd_f4"}])
    (g,) = guide.conv_cpu_guide(rec)
    assert g.pick == "winograd F4" and "K=3, C_in=32" in g.condition
    assert "im2col 2x" in g.evidence and "fft 5x" in g.evidence
    assert "torch 2x faster" in g.evidence and "auto picks winograd_f4" in g.evidence
    assert guide.conv_cpu_guide(None) == []


def test_lm_guide_orders_decoders_per_context():
    rec = record("lm_cpu", "2026-01-01T00:00:00Z", [
        row("lstm", 0.004, section="decode", context=64, batch=1),
        row("transformer_kv_cache", 0.002, section="decode", context=64, batch=1),
        row("transformer_recompute", 0.02, section="decode", context=64, batch=1),
        row("lstm", 0.004, section="decode", context=2048, batch=1),
        row("transformer_kv_cache", 0.012, section="decode", context=2048, batch=1),
        row("lstm", 0.5, section="throughput", mode="forward", batch=2, seq_len=512),
        row("transformer", 0.25, section="throughput", mode="forward", batch=2, seq_len=512)])
    rows = guide.lm_guide(rec)
    picks = [(r.condition, r.pick) for r in rows]
    assert picks == [("context 64, batch 1", "transformer_kv_cache"),
                     ("context 2048, batch 1", "lstm"),
                     ("T=512, batch 2", "transformer")]
    assert "transformer_kv_cache 3x slower" in rows[1].evidence


def test_gpu_conv_guide_and_tf32_row():
    conv = {"forward": [{"layer": "res2", "x": [8, 64, 56, 56], "w": [64, 64, 3, 3],
                         "ms": {"tiled": 0.4, "cudnn": 0.1, "cudnn_tf32": 0.05}}]}
    fp32, tf32 = guide.conv_gpu_guide(conv)
    assert fp32.pick == "cudnn" and "tiled 4x slower" in fp32.evidence
    assert tf32.pick == "cudnn_tf32" and "2x" in tf32.evidence


def test_attention_and_models_guides():
    flash = {"rows": [{"L": 1024, "causal": False,
                       "ms": {"standard": 4.0, "flash_64": 9.0, "flash_big": 5.0},
                       "peak_bytes": {"standard": 100, "flash_64": 5, "flash_big": 50}}]}
    (a,) = guide.attention_cpu_guide(flash)
    assert a.pick == "standard" and "0.5x the standard's memory" in a.evidence
    rec = record("models_cpu", "2026-01-01T00:00:00Z", [
        row("resnet50", 0.05, section="latency", batch=1, device="cpu", dtype="float32"),
        row("vit_b_16", 0.15, section="latency", batch=1, device="cpu", dtype="float32")])
    (m,) = guide.models_guide(rec)
    assert m.pick == "resnet50" and "vit_b_16 3x slower" in m.evidence


# ------------------------------------------------------------------ live run

def test_compare_live_ratios_and_missing_sides():
    rec = record("conv_cpu", "2026-01-01T00:00:00Z", [row("im2col", 0.010, layer="L")])
    probes = [live.Probe("ours", "conv_cpu", "im2col", {"layer": "L"}, flops=2e9),
              live.Probe("absent row", "conv_cpu", "fft", {"layer": "L"}),
              live.Probe("absent record", "lm_cpu", "lstm")]
    out = live.compare_live({"ours": 0.030, "absent row": 0.5}, probes,
                            {"conv_cpu": rec})
    assert out[0]["ratio"] == pytest.approx(3.0)
    assert out[0]["gflops"] == pytest.approx(2e9 / 0.030 / 1e9)
    assert out[1]["ratio"] is None and out[1]["committed_s"] is None
    assert out[2]["live_s"] is None and out[2]["ratio"] is None
    with pytest.raises(ValueError, match="ours"):
        live.compare_live({"ours": 0.0}, probes[:1], {"conv_cpu": rec})


def test_compare_ceilings():
    rows = live.compare_ceilings(Ceilings(100.0, 10.0), {"peak_gflops": 200.0,
                                                         "bandwidth_gbs": 5.0})
    assert rows == [("matmul GFLOP/s", 100.0, 200.0, 0.5), ("copy GB/s", 10.0, 5.0, 2.0)]
    assert live.compare_ceilings(Ceilings(1.0, 1.0), None)[0][2:] == (None, None)


def test_run_probes_times_each_made_callable():
    calls = []
    probes = [live.Probe("p", "b", "n", make=lambda: (lambda: calls.append(1))),
              live.Probe("unmade", "b", "n")]
    t = live.run_probes(probes, repeats=3)
    assert list(t) == ["p"] and t["p"].repeats == 3 and len(calls) == 4   # + warm-up

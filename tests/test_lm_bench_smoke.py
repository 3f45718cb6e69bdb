"""The 16.6 language-model benchmark runs end to end on tiny models and writes the record
keys the chapter reads (speed is not asserted); its GPU path runs as a CPU dry run."""
import json
import subprocess
import sys
from pathlib import Path

from course_lib.bench import machine_slug, read_record
from course_lib.lm import counts

ROOT = Path(__file__).resolve().parents[1]


def test_bench_lm_quick(tmp_path):
    # one thread: the default (all cores) spins two OpenMP threads against CI's two workers
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_lm.py"), "--quick",
                           "--gpu-dry-run", "--threads", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for title in ("(a) Parameters", "(b) Full-sequence throughput", "(c) Generation",
                  "(d) Peak memory", "GPU (b)", "GPU (c)", "GPU (d)"):
        assert title in proc.stdout
    assert "perplexity" not in (tmp_path / "lm_cpu.json").read_text().lower()
    summary = json.loads((tmp_path / "lm_cpu.json").read_text())
    assert summary["threads"] == 1 and summary["machine"]["cores"] >= 1

    rec = read_record(tmp_path / machine_slug() / "lm_cpu_quick.json")
    by = {}
    for r in rec["results"]:
        by.setdefault(r["params"]["section"], []).append(r)
    assert set(by) == {"params", "throughput", "decode", "memory"}
    for r in by["params"]:
        assert r["name"] in ("lstm", "transformer")
        assert r["parameters"] == r["parameters_analytic"] > 0
        assert r["config"]["kind"] == r["name"]
    for r in by["throughput"]:
        p = r["params"]
        assert r["name"] in ("lstm", "transformer") and p["mode"] in ("forward", "train_step")
        assert {"batch", "seq_len", "threads"} <= set(p) and p["threads"] == rec["config"]["threads"]
        assert r["timing"]["median_s"] > 0 and r["flops"] > 0
        # tokens/s is B*T over the fastest sample, recomputed here from the raw samples
        assert abs(r["tokens_per_s"] * min(r["timing"]["samples_s"])
                   - p["batch"] * p["seq_len"]) < 1e-6 * p["batch"] * p["seq_len"]
    assert {(r["name"], r["params"]["mode"]) for r in by["throughput"]} == {
        (m, k) for m in ("lstm", "transformer") for k in ("forward", "train_step")}
    names = {r["name"] for r in by["decode"]}
    assert names == {"lstm", "transformer_kv_cache", "transformer_recompute"}
    tcfg = counts.TransformerLMConfig(**{k: v for k, v in next(
        r["config"] for r in by["params"] if r["name"] == "transformer").items() if k != "kind"})
    for r in by["decode"]:
        assert {"context", "batch"} <= set(r["params"]) and r["ms_per_token"] > 0
        assert abs(r["ms_per_token"] - 1e3 * r["timing"]["min_s"]) < 1e-9
        if r["name"] == "transformer_kv_cache":
            assert r["state_bytes"] == (tcfg.layers * 2 * r["params"]["batch"]
                                        * r["params"]["context"] * tcfg.d_model * 4)
    backends = {(r["name"], r["params"]["backend"]) for r in by["memory"]}
    assert backends == {("lstm", None), ("transformer", "math"), ("transformer", "flash")}
    for r in by["memory"]:
        assert {"seq_len", "batch", "backend"} <= set(r["params"])
        assert "rss_peak_bytes" in r["memory"] and r["analytic_bytes"] > 0

    gpu = read_record(tmp_path / machine_slug() / "lm_gpu_quick.json")
    assert gpu["config"]["dry_run"] is True
    assert {r["params"]["section"] for r in gpu["results"]} == {"params", "throughput", "decode",
                                                                "memory"}
    assert any(r["params"].get("backend") == "flash" for r in gpu["results"]
               if r["params"]["section"] == "throughput")

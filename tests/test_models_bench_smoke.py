"""The 16.6 model benchmark runs end to end in quick mode and writes the record the
chapter reads (speed is not asserted)."""
import json
import subprocess
import sys
from pathlib import Path

from course_lib.bench import machine_slug, read_record
from course_lib.bench import vision_models as vm

ROOT = Path(__file__).resolve().parents[1]


def test_bench_models_quick(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_models.py"), "--quick",
                           "--no-gpu", "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for title in ("1. Parameters and FLOPs", "2. CPU latency", "3. Peak memory",
                  "4. Published ImageNet-1k top-1"):
        assert title in proc.stdout
    rec = read_record(tmp_path / machine_slug() / "models_cpu_quick.json")
    rows = {}
    for r in rec["results"]:
        rows.setdefault(r["params"]["section"], []).append(r)
    assert set(rows) == {"counts", "latency", "memory"}

    counts = {r["name"]: r for r in rows["counts"]}
    assert set(counts) == set(vm.MODELS) and all(r["params"] == {"section": "counts"}
                                                 for r in rows["counts"])
    for name, r in counts.items():
        # the module's count against the formula, the counter against the MAC formula
        size = r["image_size"]           # quick runs use 64x64 (ViT's position table shrinks)
        assert r["parameters"] == r["parameters_analytic"] == vm.analytic_params(name, size)
        assert r["flops_per_image"] == 2 * r["macs_per_image_analytic"] > 0

    for r in rows["latency"]:
        p = r["params"]
        assert set(p) == {"section", "batch", "device", "dtype", "threads"}
        assert p["device"] == "cpu" and p["dtype"] == "float32" and p["threads"] >= 1
        assert r["flops"] == counts[r["name"]]["flops_per_image"] * p["batch"]
        assert abs(r["images_per_s"] * r["timing"]["median_s"] - p["batch"]) < 1e-6
        assert r["parameters"] == counts[r["name"]]["parameters"]
    assert {(r["name"], r["params"]["batch"]) for r in rows["latency"]} == \
        {(n, b) for n in vm.MODELS for b in (1, 2)}

    for r in rows["memory"]:
        assert set(r["params"]) == {"section", "batch", "device", "dtype"}
        # the resident peak holds at least the weights themselves
        assert r["memory"]["peak_bytes"] >= r["weights_bytes"] > 0
        size = counts[r["name"]]["image_size"]
        assert r["weights_bytes"] >= 4 * vm.analytic_params(r["name"], size)

    summary = json.loads((tmp_path / "models_cpu.json").read_text())
    assert set(summary["models"]) == set(vm.MODELS)
    assert summary["models"]["convnext_base"]["published_top1"][0]["top1"] == 84.062
    assert (tmp_path / "models_cpu.md").read_text().startswith("# Image classifiers of 16.6")

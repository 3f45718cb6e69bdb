"""The CPU convolution benchmark runs end to end on tiny layers (speed is not asserted)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_conv_cpu_quick(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_conv_cpu.py"), "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| algorithm | ms | GFLOP/s |" in proc.stdout and "| im2col |" in proc.stdout
    data = json.loads((tmp_path / "conv_cpu.json").read_text())
    assert data["machine"]["cores"] >= 1 and len(data["layers"]) == 2
    for layer in data["layers"]:
        for name, row in layer["rows"].items():
            if "max_rel_err" in row:                 # every algorithm computed the same thing
                assert row["max_rel_err"] < 1e-3, (layer["name"], name)
        assert layer["auto"]["dispatch_ms"] <= layer["auto"]["ms"] + 1.0
    # the harness record beside it, under the machine's folder
    from course_lib.bench import machine_slug, read_record
    rec = read_record(tmp_path / machine_slug() / "conv_cpu_quick.json")
    names = {r["name"] for r in rec["results"]}
    assert {"im2col", "torch", "auto: decision only", "auto: whole call"} <= names
    assert rec["ceilings"]["peak_gflops"] > 0 and rec["quick"] is True

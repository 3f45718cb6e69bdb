"""The CPU attention benchmark runs end to end on tiny sizes (speed is not asserted)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_attention_cpu_quick(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_attention_cpu.py"), "--quick",
                           "--reps", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| block | NumPy ms | torch ms | NumPy / torch |" in proc.stdout
    data = json.loads((tmp_path / "attention_cpu.json").read_text())
    assert data["machine"]["cores"] >= 1 and len(data["vs_torch"]) == 4
    for row in data["vs_torch"]:                 # the NumPy code computed what torch computed
        if row["max_abs_diff"] == row["max_abs_diff"]:
            assert row["max_abs_diff"] < 1e-4, row
    assert [r["N"] for r in data["vs_length"]] == [16, 32, 64]
    from course_lib.bench import machine_slug, read_record   # the harness record, written beside it
    rec = read_record(tmp_path / machine_slug() / "attention_cpu_quick.json")
    assert any(r["name"] == "numpy sdpa" and r["bytes"] for r in rec["results"])

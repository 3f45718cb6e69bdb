"""The CPU recurrent-layer benchmark runs end to end on tiny sizes (speed is not asserted)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_rnn_cpu_quick(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_rnn_cpu.py"), "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    for title in ("1. LSTM formulations", "2. NumPy fused LSTM vs torch.nn.LSTM",
                  "3. Time per step", "4. Layout", "5. LSTM vs GRU"):
        assert title in proc.stdout
    data = json.loads((tmp_path / "rnn_cpu.json").read_text())
    assert data["machine"]["cores"] >= 1 and data["machine"]["torch_threads"] == 1
    assert data["lstm_vs_gru"]["params"]["gru"] * 4 == data["lstm_vs_gru"]["params"]["lstm"] * 3
    assert len(data["vs_torch"]) == 2 and all(v > 0 for v in data["formulations"]["ms"].values())
    from course_lib.bench import machine_slug, read_record   # the harness record, written beside it
    rec = read_record(tmp_path / machine_slug() / "rnn_cpu_quick.json")
    assert {r["params"]["section"] for r in rec["results"]} >= {"1. formulations", "5. lstm vs gru"}

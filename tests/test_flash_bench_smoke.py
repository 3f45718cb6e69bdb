"""The CPU FlashAttention benchmark runs end to end on tiny sizes (speed is not asserted)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_flash_cpu_quick(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_flash_cpu.py"), "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| L = S | causal | standard ms |" in proc.stdout
    data = json.loads((tmp_path / "flash_cpu.json").read_text())
    assert data["machine"]["cores"] >= 1 and data["quick"]
    assert [(r["L"], r["causal"]) for r in data["rows"]] == [(128, False), (128, True),
                                                             (256, False), (256, True)]
    for r in data["rows"]:                  # the tiled versions computed what the standard did
        assert r["max_abs_diff"] < 1e-5, r
        if r["L"] == 256:                   # 4 tiles: already below one 256 x 256 matrix
            assert r["peak_bytes"]["flash_64"] < r["peak_bytes"]["standard"], r

"""bench_ops.py runs end to end on tiny sizes and writes the record the chapter reads (speed is
not asserted): every op present, every emulator and CPU row within its float32 tolerance, GPU rows
untimed without a GPU; ``--dry-run`` takes the GPU rows' code path on the emulator."""
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.bench import machine_slug, read_record
from course_lib.bench.cuda_timing import cuda_available

ROOT = Path(__file__).resolve().parents[1]
OPS = {"conv", "lstm_step", "softmax", "attention"}
ROW_KEYS = {"name", "params", "timing", "flops", "bytes", "max_abs_err", "ratio_to_best",
            "intensity", "attainable_gflops", "roofline_fraction", "note"}
# float32 against a float64 reference at these sizes (outputs of order 1-10): the script's
# tolerance is 1e-4 x max(1, max |ref|); anything looser than this would make the check vacuous
LOOSEST_F32_TOL = 2e-3


def run(tmp_path, *flags):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_ops.py"), *flags,
                           "--threads", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def tables(rec):
    out = {}
    for r in rec["results"]:
        p = r["params"]
        out.setdefault((p["op"], p.get("variant")), []).append(r)
    return out


def test_quick_run_writes_every_op_checked(tmp_path):
    stdout = run(tmp_path, "--quick")
    gpu = cuda_available("cupy") and cuda_available("torch")
    rec = read_record(tmp_path / machine_slug() / f"ops_{'gpu' if gpu else 'cpu'}_quick.json")
    for title in ("### Convolution", "### LSTM, one time step", "### Softmax", "### Attention:",
                  "### Attention, causal"):
        assert title in stdout
    assert rec["config"]["threads"] == 1 and rec["ceilings"]["peak_gflops"] > 0
    rows = rec["results"]
    for r in rows:
        assert ROW_KEYS <= set(r), (r["name"], ROW_KEYS - set(r))
        assert {"op", "shape", "device", "threads"} <= set(r["params"]), r["name"]
    assert {r["params"]["op"] for r in rows} == OPS
    assert {r["params"].get("variant") for r in rows if r["params"]["op"] == "attention"} == \
        {"causal", "non-causal"}
    for key, group in tables(rec).items():
        devices = {r["params"]["device"] for r in group}
        assert {"cpu", "emulator", "cuda"} <= devices, key
        timed = [r for r in group if r["timing"]]
        assert min(r["ratio_to_best"] for r in timed) == pytest.approx(1.0), key
    for r in rows:
        dev = r["params"]["device"]
        if dev == "emulator":                 # correctness only: never a time
            assert r["timing"] is None and r["ratio_to_best"] is None, r["name"]
            assert r["tolerance"] <= LOOSEST_F32_TOL and r["max_abs_err"] <= r["tolerance"], r
        elif dev == "cpu" and r["name"] != "numpy naive":
            assert r["timing"] and r["params"]["threads"] == 1, r["name"]
            assert r["tolerance"] <= LOOSEST_F32_TOL and r["max_abs_err"] <= r["tolerance"], r
            assert r["gflops"] > 0 and r["intensity"] > 0 and r["attainable_gflops"] > 0
        elif dev == "cuda" and not gpu:       # listed, not zeros
            assert r["timing"] is None and r["roofline_fraction"] is None, r["name"]
            assert "no GPU" in r["note"]
    naive = next(r for r in rows if r["name"] == "numpy naive")
    assert naive["timing"] is None and "x the time of im2col" in naive["note"]


def test_dry_run_takes_the_gpu_path_on_the_emulator(tmp_path):
    run(tmp_path, "--dry-run")
    rec = read_record(tmp_path / machine_slug() / "ops_dryrun.json")
    assert rec["config"]["ceilings_by_device"]["cuda"]["peak_gflops"] > 0
    ours = [r for r in rec["results"] if r["params"]["device"] == "cuda"
            and r["name"].startswith("cupy")]
    assert {r["params"]["op"] for r in ours} == OPS
    for r in ours:                            # checked against float64, then timed
        assert r["dry_run"] and r["timing"], r["name"]
        assert r["max_abs_err"] <= r["tolerance"], r
        assert r["attainable_gflops"] > 0

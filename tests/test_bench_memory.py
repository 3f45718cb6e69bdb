"""course_lib.bench.memory against allocations of known size."""
import json
import subprocess
import sys

import numpy as np
import pytest

from course_lib.bench.memory import (measure_memory, peak_rss_bytes, reset_peak_rss,
                                     rss_bytes)

MiB = 2 ** 20


def test_an_8_mib_output_is_8_mib_traced_and_retained():
    m = measure_memory(lambda: np.ones(MiB))            # 2**20 float64 = 8 MiB
    assert m.result.nbytes == 8 * MiB
    assert m.traced_peak == pytest.approx(8 * MiB, abs=64 * 1024)
    assert m.traced_retained == pytest.approx(8 * MiB, abs=64 * 1024)
    assert abs(m.traced_workspace) < 64 * 1024


def test_an_8_mib_temporary_is_workspace():
    def fn():
        tmp = np.ones(MiB)
        return float(tmp.sum())
    m = measure_memory(fn)
    assert m.traced_peak == pytest.approx(8 * MiB, abs=64 * 1024)
    assert m.traced_retained < 64 * 1024
    assert m.traced_workspace == pytest.approx(8 * MiB, abs=64 * 1024)


# Measured in a fresh interpreter: in a long-lived test worker, memory that earlier tests freed can
# be handed back to this allocation without growing the resident set, and the peak then reads 0.
_RSS_PROBE = """
import json, torch
from course_lib.bench.memory import measure_memory
n = 48 * 2**20 // 4
fn = lambda: float(torch.ones(n).sum())
fn()                                     # torch's one-time set-up is not the call's
m = measure_memory(fn)
print(json.dumps({"traced_peak": m.traced_peak, "rss_peak": m.rss_peak}))
"""


@pytest.mark.skipif(not reset_peak_rss(), reason="needs Linux /proc/self/clear_refs")
def test_resident_peak_sees_memory_tracemalloc_cannot():
    pytest.importorskip("torch")
    # 48 MiB: above glibc's largest mmap threshold (32 MiB), so the pages are new
    out = subprocess.run([sys.executable, "-c", _RSS_PROBE], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    m = json.loads(out.strip().splitlines()[-1])
    assert m["traced_peak"] < MiB                       # torch's buffer is not traced
    assert m["rss_peak"] == pytest.approx(48 * MiB, abs=3 * MiB)


@pytest.mark.skipif(rss_bytes() is None, reason="needs /proc/self/status")
def test_rss_readings_are_consistent():
    assert reset_peak_rss()
    a, p = rss_bytes(), peak_rss_bytes()
    assert 0 < a <= p + 4096

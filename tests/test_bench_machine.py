"""course_lib.bench.machine: every field present, filled where this machine has the thing."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.bench.machine import legacy_machine_dict, machine_record, machine_slug

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"cpu", "cores", "cores_usable", "memory_bytes", "load_average", "os", "versions",
          "blas", "threads", "gpus", "recorded"}


def _has_gpu():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


def test_every_field_is_present_and_filled():
    rec = machine_record()
    assert set(rec) == FIELDS
    for k in FIELDS - {"gpus"}:
        assert rec[k] is not None, k
    assert (rec["gpus"] is None) == (not _has_gpu())
    assert rec["cores"] == os.cpu_count() and 1 <= rec["cores_usable"] <= rec["cores"]
    assert len(rec["load_average"]) == 3
    import numpy
    assert rec["versions"]["numpy"] == numpy.__version__
    for k in ("name", "version", "threads", "how"):
        assert rec["blas"].get(k) is not None, k
    json.dumps(rec)                                         # JSON-ready


def test_cpu_model_is_the_one_lscpu_or_cpuinfo_names():
    rec = machine_record()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    names = {ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")}
    assert rec["cpu"] in names


def test_torch_threads_are_torch_s():
    torch = pytest.importorskip("torch")
    t = machine_record()["threads"]["torch"]
    assert t == {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}


@pytest.mark.parametrize("n", [1, 2])
def test_blas_threads_follow_the_environment(n):
    # a fresh interpreter with OPENBLAS_NUM_THREADS set: the record must read the
    # library's actual setting, whichever way it finds it
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(n), OMP_NUM_THREADS=str(n))
    code = ("import json; from course_lib.bench.machine import blas_info; "
            "b = blas_info(); print(json.dumps([b['threads'], b['how']]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    threads, how = json.loads(out.stdout)
    assert threads == n, how


def test_slug_and_legacy_dict():
    rec = machine_record()
    slug = machine_slug(rec)
    assert slug and all(c.isalnum() or c == "-" for c in slug) and slug == slug.lower()
    if not rec["gpus"]:
        assert slug.endswith(f"-{rec['cores']}c")
    fake = dict(rec, cpu="AMD EPYC 7B13 64-Core Processor", cores=2, gpus=None)
    assert machine_slug(fake) == "amd-epyc-7b13-64-core-2c"
    fake_gpu = dict(rec, gpus=[{"name": "NVIDIA H200"}])
    assert machine_slug(fake_gpu) == "nvidia-h200"
    leg = legacy_machine_dict(rec)
    assert {"cpu", "cores", "python", "numpy", "torch", "torch_threads", "scipy", "blas",
            "env"} <= set(leg)
    assert leg["cpu"] == rec["cpu"] and leg["cores"] == rec["cores"]

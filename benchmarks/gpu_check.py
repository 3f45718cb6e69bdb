"""Helpers of ``scripts/gpu_check.sh``: the environment record and the final report.

    python3 benchmarks/gpu_check.py env    --out DIR   # print versions, write DIR/env.json
    python3 benchmarks/gpu_check.py report --out DIR   # DIR/report.md from the stage logs

Only the standard library is needed at import time, so both commands work on a machine without
CuPy, torch or even NumPy (the missing pieces are recorded as such).
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path


def _cmd(*args: str) -> str | None:
    if shutil.which(args[0]) is None and not Path(args[0]).exists():
        return None
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip() or None
    except Exception as exc:  # a tool that hangs or crashes is reported, not fatal
        return f"error: {exc}"


def environment() -> dict:
    env: dict = {"host": platform.node(), "platform": platform.platform(),
                 "python": sys.version.split()[0], "executable": sys.executable}
    for mod in ("numpy", "scipy", "pytest", "cupy", "torch"):
        try:
            env[mod] = __import__(mod).__version__
        except Exception as exc:
            env[mod] = f"unavailable ({type(exc).__name__}: {exc})".splitlines()[0]
    try:
        import cupy
        rt = cupy.cuda.runtime
        env["gpu_count"] = rt.getDeviceCount()
        props = rt.getDeviceProperties(0)
        name = props["name"]
        env["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
        env["compute_capability"] = f"{props['major']}.{props['minor']}"
        env["gpu_memory_GiB"] = round(props["totalGlobalMem"] / 2**30, 1)
        env["sm_count"] = props["multiProcessorCount"]
        env["cuda_driver_api"] = rt.driverGetVersion()
        env["cuda_runtime"] = rt.runtimeGetVersion()
        try:
            env["nvrtc (cupy)"] = ".".join(map(str, cupy.cuda.nvrtc.getVersion()))
        except Exception:
            pass
    except Exception as exc:
        env["gpu"] = f"none ({type(exc).__name__}: {exc})".splitlines()[0]
    try:
        import torch
        env["torch_cuda"] = torch.version.cuda
        env["cudnn"] = torch.backends.cudnn.version() if torch.cuda.is_available() else None
        env["torch_cuda_available"] = torch.cuda.is_available()
    except Exception:
        pass
    smi = _cmd("nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm",
               "--format=csv,noheader")
    env["nvidia_smi"] = smi
    env["gxx"] = (_cmd("g++", "--version") or "not found").splitlines()[0]
    san = shutil.which("compute-sanitizer") or next(
        (str(p) for p in sorted(Path("/usr/local").glob("cuda*/bin/compute-sanitizer"))), None)
    env["compute_sanitizer"] = (_cmd(san, "--version") or "").splitlines()[-1] if san else "not found"
    try:
        from cuda.bindings import nvrtc
        _, major, minor = nvrtc.nvrtcVersion()
        env["nvrtc (cuda-bindings)"] = f"{major}.{minor}"
    except Exception:
        env["nvrtc (cuda-bindings)"] = "unavailable"
    return env


def _tail(path: Path, n: int) -> str:
    if not path.exists():
        return "(no log)"
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-n:])


def report(out: Path, gpu_reason: str) -> str:
    env = json.loads((out / "env.json").read_text()) if (out / "env.json").exists() else {}
    stages = []
    if (out / "stages.tsv").exists():
        rows = (out / "stages.tsv").read_text().splitlines()[1:]
        stages = [r.split("\t") for r in rows if r.strip()]
    lines = ["# GPU check", "",
             f"Machine: **{env.get('gpu', '?')}** ({env.get('nvidia_smi') or 'nvidia-smi: n/a'}); "
             f"CUDA runtime {env.get('cuda_runtime', '?')}, CuPy {env.get('cupy', '?')}, "
             f"torch {env.get('torch', '?')} (CUDA {env.get('torch_cuda', '?')}, cuDNN {env.get('cudnn', '?')}), "
             f"NumPy {env.get('numpy', '?')}, g++: {env.get('gxx', '?')}, "
             f"compute-sanitizer: {env.get('compute_sanitizer', '?')}.", ""]
    if gpu_reason != "ok":
        lines += [f"**No GPU**: {gpu_reason}. GPU stages were skipped.", ""]
    lines += ["## Stages", "", "| stage | status | seconds |", "|---|---|---:|"]
    lines += [f"| {s[0]} | {s[1]} | {s[2]} |" for s in stages]
    lines += ["", "`PASS (caught)` for a planted stage means the sanitizer reported the deliberately "
              "broken kernel, as it must.", ""]
    for name, n in (("pytest_gpu", 25), ("memcheck", 12), ("racecheck", 12), ("planted_oob", 12),
                    ("planted_race", 12), ("nvrtc", 6)):
        if (out / f"{name}.log").exists():
            lines += [f"### {name} (log tail)", "", "```", _tail(out / f"{name}.log", n), "```", ""]
    for name in ("bench_conv_gpu", "bench_rnn_gpu", "bench_attention_gpu", "bench_flash_gpu",
                 "ops_gpu", "models_gpu", "lm_gpu"):
        bench = out / f"{name}.md"
        if bench.exists():
            text = bench.read_text()
            lines += [f"## Benchmark: {name}", ""]
            lines += ["#" + l if l.startswith("#") else l for l in text.splitlines()[1:]]
    text = "\n".join(lines) + "\n"
    (out / "report.md").write_text(text)
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=("env", "report"))
    ap.add_argument("--out", default="benchmarks/results/gpu")
    ap.add_argument("--gpu-reason", default="ok")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.command == "env":
        env = environment()
        (out / "env.json").write_text(json.dumps(env, indent=2, default=str) + "\n")
        for k, v in env.items():
            print(f"{k:22s} {v}")
    else:
        print(report(out, args.gpu_reason))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# GPU check of the CUDA kernels: run from the repository root on a machine with an NVIDIA GPU.
#
#   bash scripts/gpu_check.sh                 # results in _build/gpu_check/ (copy them into
#                                             # benchmarks/results/gpu/ to commit a GPU run)
#   OUT=/tmp/gpu PYTHON=python3 bash scripts/gpu_check.sh
#   ONLY="env bench_models_gpu bench_lm_gpu" bash scripts/gpu_check.sh   # just these stages
#
# Needs python3 with numpy, cupy, torch, pytest (+ pytest-timeout); course_lib is used from the
# checkout (PYTHONPATH), not installed.  Stages, each logged to $OUT/<stage>.log, none stopping
# the others: environment, GPU-marked tests, convolution benchmark, compute-sanitizer memcheck
# and racecheck (plus planted bugs that they must catch), NVRTC resource table.  A summary and
# report.md come last.  Without a GPU every GPU stage is skipped and the script exits 0.
# Budget: about 3-4 minutes on an H200 (cold CuPy compiles included); stages are skipped
# rather than started when fewer than their time limit of the TOTAL_S budget (540 s) is left.
set -u
cd "$(dirname "$0")/.."
# not the committed results folder by default: a run without a GPU must not overwrite a GPU run
OUT="${OUT:-_build/gpu_check}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
PY="${PYTHON:-python3}"
TOTAL_S="${TOTAL_S:-540}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
STAGES="$OUT/stages.tsv"
printf 'stage\tstatus\tseconds\tcommand\n' > "$STAGES"
START=$SECONDS
HAVE_TIMEOUT=0; command -v timeout >/dev/null 2>&1 && HAVE_TIMEOUT=1

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$STAGES"; echo "== [$1] $2 (${3}s)"; }

# run_stage NAME LIMIT_S EXPECT CMD...   EXPECT=ok: exit 0 passes; EXPECT=fail: non-zero passes
run_stage() {
  local name=$1 limit=$2 expect=$3; shift 3
  local used=$((SECONDS - START))
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then
    record "$name" "SKIPPED (not in ONLY)" 0 "$*"; return
  fi
  if [ $((used + limit)) -gt "$TOTAL_S" ]; then
    record "$name" "SKIPPED (time budget: ${used}s used of ${TOTAL_S}s)" 0 "$*"; return
  fi
  echo "== [$name] $*"
  local t0=$SECONDS rc
  if [ $HAVE_TIMEOUT = 1 ]; then
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1; rc=$?
  else
    "$@" > "$OUT/$name.log" 2>&1; rc=$?
  fi
  tail -n 12 "$OUT/$name.log" | sed 's/^/    /'
  local st
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then st="TIMEOUT (${limit}s)"
  elif [ "$expect" = ok ]; then if [ $rc -eq 0 ]; then st=PASS; else st="FAIL (rc=$rc)"; fi
  else if [ $rc -ne 0 ]; then st="PASS (caught, rc=$rc)"; else st="FAIL (not caught)"; fi
  fi
  record "$name" "$st" $((SECONDS - t0)) "$*"
}

skip_stage() { record "$1" "SKIPPED ($2)" 0 "-"; }

# ---------------------------------------------------------------- environment
echo "== GPU check, results in $OUT"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1; cat "$OUT/nvidia-smi.txt"
else
  echo "nvidia-smi not found" | tee "$OUT/nvidia-smi.txt"
fi
run_stage env 60 ok "$PY" benchmarks/gpu_check.py env --out "$OUT"

GPU_REASON=$("$PY" - <<'EOF' 2>&1
try:
    import cupy
    n = cupy.cuda.runtime.getDeviceCount()
    print("ok" if n > 0 else "CuPy sees no CUDA device")
except Exception as exc:
    print(f"no usable CuPy/GPU: {type(exc).__name__}: {exc}".splitlines()[0])
EOF
)
GPU_REASON=$(echo "$GPU_REASON" | tail -n 1)

SANITIZER=""
for c in compute-sanitizer /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda-*/bin/compute-sanitizer; do
  if command -v "$c" >/dev/null 2>&1; then SANITIZER=$(command -v "$c"); break; fi
done

if [ "$GPU_REASON" != ok ]; then
  echo "== no GPU: $GPU_REASON -- skipping the GPU stages"
  for s in pytest_gpu bench_conv_gpu bench_rnn_gpu bench_attention_gpu bench_flash_gpu \
           bench_ops_gpu bench_models_gpu bench_lm_gpu memcheck racecheck planted_oob planted_race; do
    skip_stage "$s" "no GPU: $GPU_REASON"
  done
else
  # -------------------------------------------------------------- GPU tests
  run_stage pytest_gpu 170 ok "$PY" -m pytest -m gpu tests/ -q -rs -p no:cacheprovider --timeout 150
  # -------------------------------------------------------------- benchmark
  run_stage bench_conv_gpu 200 ok "$PY" benchmarks/bench_conv_gpu.py --out "$OUT"
  # 16.3-16.5: each script validates its kernels before timing and keeps to its --budget-s
  run_stage bench_rnn_gpu 300 ok "$PY" benchmarks/bench_rnn_gpu.py --out "$OUT" --budget-s 240
  run_stage bench_attention_gpu 300 ok "$PY" benchmarks/bench_attention_gpu.py --out "$OUT" --budget-s 240
  run_stage bench_flash_gpu 450 ok "$PY" benchmarks/bench_flash_gpu.py --out "$OUT" --budget-s 400
  # 16.6 (records under $OUT/<machine>/; --out keeps the committed CPU results untouched)
  run_stage bench_ops_gpu 240 ok "$PY" benchmarks/bench_ops.py --out "$OUT"
  run_stage bench_models_gpu 300 ok "$PY" benchmarks/bench_models.py --out "$OUT"
  run_stage bench_lm_gpu 240 ok "$PY" benchmarks/bench_lm.py --only gpu --out "$OUT"
  # -------------------------------------------------------------- sanitizers
  if [ -n "$SANITIZER" ]; then
    CS=("$SANITIZER" --error-exitcode 3 --print-limit 20)
    run_stage memcheck 90 ok "${CS[@]}" --tool memcheck --leak-check no "$PY" benchmarks/sanitize_kernels.py
    run_stage racecheck 120 ok "${CS[@]}" --tool racecheck "$PY" benchmarks/sanitize_kernels.py
    # the sanitizers must catch deliberately broken kernels (a check that cannot fail proves nothing)
    run_stage planted_oob 45 fail "${CS[@]}" --tool memcheck "$PY" benchmarks/sanitize_kernels.py --planted oob
    run_stage planted_race 45 fail "${CS[@]}" --tool racecheck "$PY" benchmarks/sanitize_kernels.py --planted race
  else
    for s in memcheck racecheck planted_oob planted_race; do
      skip_stage "$s" "compute-sanitizer not found (PATH, /usr/local/cuda*/bin)"
    done
  fi
fi

# ---------------------------------------------------------------- NVRTC table (no GPU needed)
if "$PY" -c "import cuda.bindings.nvrtc" >/dev/null 2>&1; then
  run_stage nvrtc 60 ok "$PY" -m course_lib.cuda.nvrtc --arch sm_90 \
    --markdown "$OUT/kernel_resources_sm_90.md" --json "$OUT/kernel_resources_sm_90.json"
else
  skip_stage nvrtc "cuda-bindings not installed for $PY"
fi

# ---------------------------------------------------------------- summary
echo
echo "== summary ($((SECONDS - START)) s)"
column -t -s $'\t' "$STAGES" 2>/dev/null | cut -c1-150 || cat "$STAGES"
"$PY" benchmarks/gpu_check.py report --out "$OUT" --gpu-reason "$GPU_REASON" > /dev/null 2>&1 \
  || echo "(report.md could not be written; see $OUT/*.log)"
echo "report: $OUT/report.md"
if [ "$GPU_REASON" != ok ]; then
  echo "no GPU on this machine: GPU stages skipped (not a failure)"
  exit 0
fi
if cut -f2 "$STAGES" | tail -n +2 | grep -qE '^(FAIL|TIMEOUT)'; then exit 1; fi
exit 0

#!/usr/bin/env bash
# Set up the environment, then run every test: the library, the kernels (CPU SIMT emulator + NVRTC),
# the autograder (solutions score full marks, stubs zero), every notebook under nbval, and the -W book build.
# Fails when anything fails; pytest's "no tests ran" (exit 5) is a failure too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
start=$SECONDS
# loadfile keeps each notebook (and each test file) on one worker, as nbval needs under xdist.
.venv/bin/python -m pytest -n 2 --dist loadfile -p no:cacheprovider --nbval-lax tests chapters
echo "[test] pytest finished in $((SECONDS - start)) s"
bash scripts/build_book.sh
echo "[test] everything passed in $((SECONDS - start)) s"

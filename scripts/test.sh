#!/usr/bin/env bash
# Set up the environment, then run every test: the library, the kernels (CPU SIMT emulator + NVRTC),
# the autograder (solutions score full marks, stubs zero), every notebook under nbval, the book's
# own checks (install cells, notebook style, the Colab-style install), the -W book build, and
# finally every page of the built book in headless Chromium with the network blocked.
# Fails when anything fails; pytest's "no tests ran" (exit 5) is a failure too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
start=$SECONDS
# loadfile keeps each notebook (and each test file) on one worker, as nbval needs under xdist.
# The browser test skips here (no BOOK_HTML); it runs below, on the fresh build.
env -u BOOK_HTML .venv/bin/python -m pytest -n 2 --dist loadfile -p no:cacheprovider --nbval-lax \
  tests chapters
echo "[test] pytest finished in $((SECONDS - start)) s"
bash scripts/build_book.sh
echo "[test] book built after $((SECONDS - start)) s"
BOOK_HTML=_build/html .venv/bin/python -m pytest -p no:cacheprovider -rs tests/book/test_browser.py
echo "[test] browser check done; screenshots in _build/screenshots/"
echo "[test] everything passed in $((SECONDS - start)) s"

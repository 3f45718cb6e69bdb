#!/usr/bin/env bash
# Set up the environment, then build the book into _build/html with every notebook executed.
# -W turns warnings into errors: without it a notebook cell that raises is only a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rm -rf _build
.venv/bin/jupyter-book build . -W --keep-going
echo "[book] open _build/html/index.html"

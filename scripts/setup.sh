#!/usr/bin/env bash
# Create .venv (once) and install the pinned requirements plus course_lib (editable).
# Re-installs only when requirements.txt or pyproject.toml changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
stamp=.venv/.course-setup
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing pinned requirements (first run: a few minutes)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=24"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi
.venv/bin/python -c "import course_lib, numpy, torch; print('[setup] ok: course_lib', course_lib.__version__, '| numpy', numpy.__version__, '| torch', torch.__version__)"

#!/usr/bin/env bash
# Create .venv (once) and install the pinned requirements plus course_lib (editable).
# Re-installs only when requirements.txt or pyproject.toml changed since the last run.
# Also: the book's JavaScript (npm ci from package-lock.json into node_modules/, so the built
# book needs no CDN) and, as root on Debian, chromium + chromedriver for the browser test.
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

# JavaScript served by the book itself (MathJax 3, require.js, the widget manager): exact
# versions from package-lock.json; copied into _build/html by _ext/book_assets.py.
if ! command -v npm >/dev/null 2>&1; then
  echo "[setup] npm not found: install Node.js (20+) and npm; the book build needs them" >&2
  exit 1
fi
if ! cmp -s package-lock.json node_modules/.course-lock 2>/dev/null; then
  echo "[setup] npm ci (book JavaScript)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.course-lock
fi

# Headless Chromium for tests/book/test_browser.py: Debian's packages (no browser download).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] apt-get install chromium chromium-driver (browser test)"
    # not fatal here: without a browser the browser test says why (and fails under CI)
    { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } ||
      echo "[setup] could not install chromium/chromium-driver with apt-get" >&2
  else
    echo "[setup] chromium/chromedriver missing and not root: tests/book/test_browser.py will skip"
  fi
fi

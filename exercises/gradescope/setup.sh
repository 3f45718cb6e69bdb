#!/usr/bin/env bash
# Gradescope autograder setup: runs once when the autograder image is built.
# The autograder zip holds setup.sh, run_autograder and the course repository in course/.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq python3 python3-pip python3-venv > /dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q torch --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -q -e /autograder/source/course

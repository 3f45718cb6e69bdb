#!/usr/bin/env bash
# Gradescope autograder setup: runs once, as root, when the autograder image is built.
# The autograder zip holds setup.sh, run_autograder and the course repository in course/.
# Installs Python, a C++ compiler (the CPU emulator builds CUDA exercises with g++) and the
# course's pinned requirements (requirements.txt: the same versions as the course's CI).
set -euo pipefail
COURSE=/autograder/source/course
apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv g++ binutils > /dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade "pip>=24"
# CPU wheels of torch; every other package at the version pinned in requirements.txt.
/autograder/venv/bin/pip install -q --extra-index-url https://download.pytorch.org/whl/cpu \
    -r "$COURSE/requirements.txt"
/autograder/venv/bin/pip install -q --no-deps -e "$COURSE"
# Fail the image build (not a student's submission) when the grading machine is incomplete.
/autograder/venv/bin/python -c "import numpy, torch, pytest, pytest_timeout; print('grader ok')"
g++ --version | head -1

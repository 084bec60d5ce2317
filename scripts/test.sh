#!/usr/bin/env bash
# Installs everything the test suite needs into .venv (and Prism for the contract test), then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

if command -v npm >/dev/null 2>&1; then
  npm install --prefix tests/contract --no-audit --no-fund --silent
else
  echo "npm not found: the Prism contract test will be skipped (it fails under CI=true)." >&2
fi

# The lint rules are in pyproject.toml ([tool.ruff]); a finding stops the run before any test.
.venv/bin/ruff check --quiet .

# Two worker processes (CODY_TEST_WORKERS), each test file on one worker: every test has its own SQLite file, each
# worker its own PostgreSQL database, and servers bind free loopback ports, so files run side by side. Files are
# handed out in the order collected (tests/conftest.py puts the longest first), not by their number of tests, which
# left the 100-second single-test scale file for last.
exec .venv/bin/python -m pytest -n "${CODY_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"

#!/usr/bin/env bash
# Quickstart, part two: install mlc-devops with its test and lint tools in
# .venv, then run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --editable '.[test,lint,supply-chain]'
exec .venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Quickstart, part one: install mlc-devops in .venv, then build the stand-in
# MLC-LLM workspace into a wheel in dist/ and verify it in a clean environment.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --editable .

standin=examples/mini-mlc-llm
# The stand-in's libraries NEED libtvm_ffi.so, which only its tvm-ffi wheel
# ships (as upstream's need apache-tvm-ffi's): build that wheel first, into a
# wheel directory that validation and smoke read.
.venv/bin/python -m pip wheel --quiet --no-deps -w dist/deps "$standin/3rdparty/tvm/3rdparty/tvm-ffi"
export MLC_FIND_LINKS="$PWD/dist/deps"
.venv/bin/mlc-devops doctor --source "$standin"
.venv/bin/mlc-devops build --source "$standin" --dist dist --clean-dist
.venv/bin/mlc-devops smoke dist/mlc_llm-*.whl --tokenizer "$standin/tests/python/data/tokenizer.json"

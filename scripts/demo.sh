#!/usr/bin/env bash
# The demo behind `make demo`: the vendor sandbox, a local S3 (moto) and GCS emulator on 127.0.0.1,
# every example DAG run with `airflow dags test`, then where the output landed and its totals.
# `make demo` runs this with the venv's bin first on PATH.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A private, fresh demo directory inside the repo (.demo/ is gitignored): never touches ~/airflow.
export WA_DEMO_DIR="$repo/.demo"
rm -rf "$WA_DEMO_DIR"
mkdir -p "$WA_DEMO_DIR"
unset AIRFLOW__CORE__UNIT_TEST_MODE
exec python "$repo/scripts/demo.py"

#!/usr/bin/env bash
# Checks that Airflow in the given venv registers this provider: `airflow providers list` shows the
# distribution and `airflow providers hooks` maps each connection type to this package's hook.
# Usage: scripts/check-providers.sh VENV_DIR
set -euo pipefail

venv="${1:?usage: $0 VENV_DIR}"
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export AIRFLOW_HOME="$home" AIRFLOW__CORE__LOAD_EXAMPLES=False
unset AIRFLOW__CORE__UNIT_TEST_MODE

"$venv/bin/airflow" providers list -o json >"$home/list.json" 2>"$home/list.err" \
    || { cat "$home/list.err" >&2; echo "FAILED: airflow providers list" >&2; exit 1; }
"$venv/bin/airflow" providers hooks -o json >"$home/hooks.json" 2>"$home/hooks.err" \
    || { cat "$home/hooks.err" >&2; echo "FAILED: airflow providers hooks" >&2; exit 1; }

# A hook that fails to import is only logged by Airflow (and its row left out): show those lines.
grep -i -E "wa.analytics" "$home/list.err" "$home/hooks.err" >&2 || true

"$venv/bin/python" - "$home/list.json" "$home/hooks.json" <<'PY'
import json
import sys

import airflow

package = "airflow-provider-wa-analytics"
module = "airflow_provider_wa_analytics"
expected = ["insider_whatsapp", "insider_webpush", "vonage_whatsapp", "kaleyra_whatsapp"]
providers = {p["package_name"]: p for p in json.load(open(sys.argv[1]))}
hooks = {h["connection_type"]: h for h in json.load(open(sys.argv[2]))}

problems = []
if package not in providers:
    problems.append(f"`airflow providers list` does not show {package}")
else:
    print(f"Airflow {airflow.__version__}: {package} {providers[package]['version']} registered")
for conn_type in expected:
    hook = hooks.get(conn_type)
    if hook is None:
        problems.append(f"`airflow providers hooks` has no connection type {conn_type}")
    elif hook["package_name"] != package or not hook["class"].startswith(module + "."):
        problems.append(f"{conn_type} belongs to {hook['package_name']} ({hook['class']})")
    else:
        print(f"  {conn_type:<18} {hook['class']}")
for problem in problems:
    print("FAILED:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

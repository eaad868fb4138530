#!/usr/bin/env bash
# Prints the path of a uv new enough for uv.lock. Uses the one on PATH when it is; otherwise
# installs a pinned uv from PyPI into the repo's .venv-tools (a bootstrap venv, gitignored).
# Progress goes to stderr so callers can take the path from stdout.
set -euo pipefail

UV_VERSION="0.13.9"   # installed when none fits; the lock was written with it
UV_MIN="0.13.0"       # keep in step with [tool.uv] required-version in pyproject.toml
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo/.venv-tools"

fits() {
    local v
    v="$("$1" --version 2>/dev/null | awk '{print $2}')" || return 1
    [ -n "$v" ] && printf '%s\n%s\n' "$UV_MIN" "$v" | sort -V -C
}

for candidate in "$(command -v uv || true)" "$tools/bin/uv"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && fits "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done

python="${BOOTSTRAP_PYTHON:-python3}"
echo "ensure-uv: installing uv==$UV_VERSION into $tools" >&2
"$python" -m venv --clear "$tools" >&2
"$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2
fits "$tools/bin/uv" || { echo "ensure-uv: $tools/bin/uv does not run" >&2; exit 1; }
echo "$tools/bin/uv"

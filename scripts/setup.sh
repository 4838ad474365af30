#!/usr/bin/env bash
# Creates .venv (Python ≥ 3.11) and installs Trợ lý ISO into it. Safe to run again: it only
# reinstalls when pyproject.toml changed. Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
EXTRAS=""
[ "${1:-}" = "--test" ] && EXTRAS="[test]"
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    # Debian ships venv separately; we run as root on a fresh machine, so install it.
    echo "setup: python3-venv is missing, installing it with apt-get" >&2
    rm -rf .venv
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    "$PY" -m venv .venv
  fi
fi
STAMP=.venv/.installed${EXTRAS:+-test}
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$EXTRAS"
  touch "$STAMP"
fi

#!/usr/bin/env bash
# Creates .venv (Python ≥ 3.11) and installs Trợ lý ISO into it, every dependency at the version
# pinned in requirements.lock (what CI tested; scripts/lock.sh regenerates it). Safe to run again:
# it only reinstalls when pyproject.toml or requirements.lock changed. Usage: scripts/setup.sh [--test]
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
# The stamp holds a digest of what was installed from, so any change to either file (a pull, a
# branch switch, an edit, whatever the files' dates) reinstalls.
WANT=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check -c requirements.lock)
  "${PIP[@]}" --upgrade pip >/dev/null
  "${PIP[@]}" -e ".$EXTRAS"
  echo "$WANT" > "$STAMP"
fi

#!/usr/bin/env bash
# Regenerates requirements.lock from pyproject.toml: the runtime dependencies and every extra
# (test, and any added later), resolved for CPython 3.11 on Linux x86_64. Versions already in the
# lock are kept while pyproject.toml still allows them, so adding a dependency pins only what it
# brings. Usage: scripts/lock.sh                         # after editing pyproject.toml
#               scripts/lock.sh --upgrade               # every package to its newest allowed release
#               scripts/lock.sh --upgrade-package NAME  # only that one
# uv (a pinned release) lives in its own venv under .cache/, never in .venv: it is no dependency.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
TOOLS=.cache/lock-tools
if ! "$TOOLS/bin/uv" --version 2>/dev/null | grep -qx "uv $UV_VERSION.*"; then
  rm -rf "$TOOLS"
  "${PYTHON:-python3}" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
exec "$TOOLS/bin/uv" pip compile pyproject.toml --all-extras \
  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
  --custom-compile-command scripts/lock.sh --quiet -o requirements.lock "$@"

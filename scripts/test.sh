#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint (ruff), format check (ruff format), types
# (mypy over bot/ and handlers/), content check, unit tests, the Telegram Application
# offline, and end-to-end tests of the real bot process through ../shared/tools/zalo-emulator and
# ../shared/tools/tg-emulator (the latter needs node + npm).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check
.venv/bin/ruff format --check
.venv/bin/mypy
.venv/bin/isobot kb check
exec .venv/bin/python -m pytest -q "$@"

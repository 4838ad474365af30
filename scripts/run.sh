#!/usr/bin/env bash
# Sets everything up, then runs the assistant on every channel whose token is set (ZALO_BOT_TOKEN,
# TELEGRAM_BOT_TOKEN: both in one process); with neither, the same conversation in the terminal.
# Extra arguments go to isobot (e.g. --config).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -n "${ZALO_BOT_TOKEN:-}" ] || [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
  exec .venv/bin/isobot run "$@"
else
  echo "Chưa đặt ZALO_BOT_TOKEN hay TELEGRAM_BOT_TOKEN: chạy trò chuyện trong cửa sổ dòng lệnh." >&2
  exec .venv/bin/isobot chat "$@"
fi

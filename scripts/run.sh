#!/usr/bin/env bash
# Sets everything up, then runs the bot: Telegram long polling when TELEGRAM_BOT_TOKEN is set,
# otherwise the same conversation in the terminal. Extra arguments go to isobot (e.g. --config).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
  exec .venv/bin/isobot run "$@"
else
  echo "TELEGRAM_BOT_TOKEN chưa được đặt: chạy trò chuyện trong cửa sổ dòng lệnh." >&2
  exec .venv/bin/isobot chat "$@"
fi

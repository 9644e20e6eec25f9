#!/usr/bin/env bash
# Builds BotHost in release mode, prepares a virtual environment with aiogram 3 and
# python-telegram-bot 22 from PyPI (unless --only-bothost), and runs bothost-bench.
#
#   Benchmarks/run.sh [--only-bothost] [--idle-seconds 30]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product bothost
swift build -c release --product bothost-bench
if [[ " $* " != *" --only-bothost "* ]]; then
  if [ ! -x .build/peers-venv/bin/python ]; then
    python3 -m venv .build/peers-venv
    .build/peers-venv/bin/pip install --quiet "aiogram>=3,<4" "python-telegram-bot>=22,<23"
  fi
fi
exec .build/release/bothost-bench --python .build/peers-venv/bin/python "$@"

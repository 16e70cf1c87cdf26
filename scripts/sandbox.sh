#!/usr/bin/env bash
# Installs Kameng (scripts/bootstrap.sh), then runs the sandbox: a demo platform, its real
# bot on a local Telegram emulator, the reseller API and a chat page in the browser.
# Arguments go to `kameng sandbox` (--port 8080, --keep, --seed N, --dir PATH); Ctrl-C stops.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/kameng sandbox "$@"

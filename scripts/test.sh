#!/usr/bin/env bash
# Installs what the tests need and runs them. SQLite by default; PostgreSQL when
# KAMENG_TEST_DATABASE_URL is set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
exec .venv/bin/python -m pytest "$@"

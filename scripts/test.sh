#!/usr/bin/env bash
# Installs what the tests need and runs them. SQLite by default; PostgreSQL when
# KAMENG_TEST_DATABASE_URL is set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
bash scripts/install-browser.sh || echo "chromium: the install failed" >&2
# the sandbox's browser tests need Debian's chromium and Playwright's Python package
if [ ! -x /usr/bin/chromium ]; then
  echo "browser tests: SKIPPED, /usr/bin/chromium is missing (apt-get install chromium)"
elif ! .venv/bin/python -c "import playwright" 2>/dev/null; then
  echo "browser tests: SKIPPED, the playwright Python package is not installed"
else
  echo "browser tests: will run, with /usr/bin/chromium"
fi
exec .venv/bin/python -m pytest "$@"

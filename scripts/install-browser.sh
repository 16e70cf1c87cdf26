#!/usr/bin/env bash
# Installs Debian's chromium, the browser the sandbox's browser tests drive
# (tests/sandbox/test_sandbox_browser.py), when /usr/bin/chromium is missing and this
# machine can install it (root and apt-get). Exits non-zero only if an install was tried
# and failed; a machine that cannot install it runs the suite with those tests skipped.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "chromium: /usr/bin/chromium is missing and this user cannot apt-get install it" >&2
  exit 0
fi
echo "chromium: installing Debian's chromium for the browser tests" >&2
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

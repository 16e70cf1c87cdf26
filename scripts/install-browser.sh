#!/usr/bin/env bash
# Installs Debian's chromium, the browser the sandbox's browser tests drive
# (tests/sandbox/test_sandbox_browser.py), and the fonts its screenshots need to show
# Chinese text and emoji, when they are missing and this machine can install them (root
# and apt-get). Exits non-zero only if an install was tried and failed; a machine that
# cannot install them runs the suite with the browser tests skipped.
set -euo pipefail
PACKAGES=(chromium fonts-wqy-microhei fonts-noto-color-emoji)
if ! command -v dpkg-query >/dev/null; then
  [ -x /usr/bin/chromium ] || echo "chromium: /usr/bin/chromium is missing (not Debian?)" >&2
  exit 0
fi
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "browser tests: ${missing[*]} missing and this user cannot apt-get install them" >&2
  exit 0
fi
echo "browser tests: installing ${missing[*]}" >&2
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Re-resolves the dependencies in pyproject.toml to their newest allowed versions in a
# scratch virtualenv and rewrites constraints.txt from it. Run the suite before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$PYTHON" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check ".[dev]"
{
  echo "# The exact versions every machine and CI install (pip constraints; scripts/bootstrap.sh uses it)."
  echo "# To upgrade: bash scripts/upgrade-pins.sh, run the suite, commit this file."
  "$scratch/venv/bin/python" -m pip freeze --exclude-editable | grep -v '^kameng'
} > constraints.txt
echo "constraints.txt rewritten; run bash scripts/test.sh, then commit it"

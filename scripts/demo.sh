#!/usr/bin/env bash
# Runs Kameng's operator flow on a fresh SQLite database in ./demo: a supplier, a SKU with
# stock, a reseller with a balance, a purchase, and the proofs that the books balance.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
mkdir -p demo && cd demo
export PATH="$PWD/../.venv/bin:$PATH"
if [ ! -f .env ]; then
  echo "KAMENG_SECRET_KEY=$(kameng secret generate)" > .env
  echo "generated a secret key into demo/.env (codes are encrypted with it; keep it)"
fi
rm -f kameng.db kameng.db-wal kameng.db-shm
set -x
kameng db upgrade
kameng user grant 900 supplier
kameng sku add --code STEAM-100 --name "Steam 100 CNY wallet code" --category Steam \
  --supplier 900 --face-value 100.00 --supply-price 85.00 --price 92.00 --level-price gold=90.00
kameng sku activate STEAM-100
seq -f "STEAM-DEMO-%06g" 1 1000 | kameng codes import STEAM-100 -
kameng user grant 1001 reseller
kameng balance credit 1001 500.00 --note "bank transfer 2026-001"
kameng buy 1001 STEAM-100 3
kameng balance show 1001
kameng supplier show 900
kameng ledger check
kameng audit verify

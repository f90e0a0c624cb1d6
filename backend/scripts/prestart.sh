#!/usr/bin/env bash
# Wait for the application database, migrate it to head and seed the first administrator.
# Usage: backend/scripts/prestart.sh [--attempts N] [--interval SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -x ../.venv/bin/python ]; then
    exec ../.venv/bin/python -m scripts.prestart "$@"
fi
exec python -m scripts.prestart "$@"

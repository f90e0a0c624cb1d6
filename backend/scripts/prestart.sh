#!/usr/bin/env bash
# Wait for the application database, migrate it to head and seed the first administrator
# (python -m scripts.prestart): --attempts N connection attempts (default 30), --interval
# SECONDS between them (default 1). The database and the administrator come from the settings
# (environment, then .env): SQLALCHEMY_DATABASE_URI or POSTGRES_* (default: SQLite in STATE_DIR),
# FIRST_ADMINUSER, FIRST_ADMINUSER_PASSWORD.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/arguments.sh"
answer_help "[--attempts N] [--interval SECONDS]" "$@"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=python
[ ! -x ../.venv/bin/python ] || python=../.venv/bin/python
prestart_help() { "$python" -m scripts.prestart --help; }
refuse_unknown_options "python -m scripts.prestart" prestart_help "$@"
exec "$python" -m scripts.prestart "$@"

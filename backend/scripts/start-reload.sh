#!/usr/bin/env bash
# Development server: prepare the database (wait, migrate, seed the first admin), then serve the
# API with uvicorn --reload on 127.0.0.1:$BACKEND_PORT (environment, then .env; 8000 by default),
# restarting on every change under backend/app and datascience/product_classifier.
# It serves whatever models:/$MODEL_NAME@$MODEL_ALIAS holds: ./scripts/start.sh trains a demo
# model when there is none. Extra arguments are passed to python -m app.serve (its options:
# python -m app.serve --help, from backend/); HOST sets the address (default 127.0.0.1), and the
# other settings (database, MLflow, model) come from the environment, then .env.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/arguments.sh"
answer_help "[python -m app.serve options]" "$@"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python="${UV_PROJECT_ENVIRONMENT:-$(cd .. && pwd)/.venv}/bin/python"
if [ ! -x "$python" ]; then
    echo "error: no environment at ${python%/bin/python}: run ./scripts/environment-setup.sh first." >&2
    exit 1
fi
serve_help() { "$python" -m app.serve --help; }
refuse_unknown_options "python -m app.serve" serve_help "$@"
settings="$("$python" -m scripts.start_checks settings)" || exit 1
eval "$settings"
"$python" -m scripts.prestart
exec "$python" -m app.serve --reload \
    --reload-dir app --reload-dir ../datascience/product_classifier \
    --host "${HOST:-127.0.0.1}" --port "$BACKEND_PORT" "$@"

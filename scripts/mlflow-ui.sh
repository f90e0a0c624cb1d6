#!/usr/bin/env bash
# Serve the MLflow UI on the project's tracking store, in the foreground, until Ctrl-C.
# The store, artifact root and port come from the settings (environment, then .env): by default
# the embedded SQLite store under STATE_DIR/mlflow, on 127.0.0.1:${MLFLOW_PORT:-5000}; the
# artifacts of new experiments go beside a SQLite store, or to MLFLOW_ARTIFACT_ROOT.
# Extra arguments are passed to `mlflow ui` (e.g. --host 0.0.0.0 inside a container; its
# options: .venv/bin/mlflow ui --help); an option it does not list is refused before anything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
answer_help "[mlflow ui options]" "$@"
restart_with_default_signals "${BASH_SOURCE[0]}" "$@"
cd "$REPOSITORY_ROOT"
[ -x "$UV_PROJECT_ENVIRONMENT/bin/mlflow" ] ||
    die "no environment at $UV_PROJECT_ENVIRONMENT: run ./scripts/environment-setup.sh (or ./scripts/start.sh) first."
mlflow_ui_help() { "$UV_PROJECT_ENVIRONMENT/bin/mlflow" ui --help; }
refuse_unknown_options "mlflow ui" mlflow_ui_help "$@"

# One value per line so that paths with spaces survive; invalid settings: one line, status 2.
mapfile -t settings < <(
    # The last line is the status (set -e would end this subshell before a separate echo).
    "$UV_PROJECT_ENVIRONMENT/bin/python" - <<'PYTHON' && echo "status=0" || echo "status=$?"
import sys

from pydantic import ValidationError

from product_classifier.settings import get_platform_settings

try:
    settings = get_platform_settings()
except ValidationError as error:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    print(f"error: invalid settings: {where}: {first['msg']}", file=sys.stderr)
    sys.exit(2)
if not settings.MLFLOW_TRACKING_URI:
    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
root = settings.mlflow_artifact_root
if settings.artifact_root_is_local:
    settings.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
print(settings.tracking_uri)
print(root)
print(settings.MLFLOW_PORT)
PYTHON
)
read_status="${settings[${#settings[@]} - 1]:-}"
settings=("${settings[@]:0:${#settings[@]}-1}")
case "$read_status" in
status=0) ;;
status=2) exit 1 ;; # the settings' one-line error is above
*) die "could not read the settings (is the environment installed? run ./scripts/environment-setup.sh)." ;;
esac
[ "${#settings[@]}" -eq 3 ] || die "could not read the settings (is the environment installed? run ./scripts/environment-setup.sh)."
tracking_uri="${settings[0]}"
artifact_root="${settings[1]}"
port="${settings[2]}"

case "$tracking_uri" in
http://* | https://* | databricks*)
    die "MLFLOW_TRACKING_URI points at a running server ($tracking_uri): open it in a browser instead."
    ;;
esac

# The same one-line check as start.sh: a port number, free on 127.0.0.1 (start.sh has just
# made it, and stops this script with the rest when another server fails meanwhile).
if [ "${MLFLOW_UI_PORT_CHECKED:-0}" != 1 ]; then
    (cd "$REPOSITORY_ROOT/backend" && exec "$UV_PROJECT_ENVIRONMENT/bin/python" -m scripts.start_checks ports "MLFLOW_PORT=$port") ||
        exit 1
fi

# The UI only browses and edits the registry: no background job runner.
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false
echo "MLflow UI on http://127.0.0.1:$port (store: $tracking_uri)"
# Ctrl-C must reach the server once: `mlflow ui` forwards SIGINT and SIGTERM to the uvicorn
# process it starts, which takes a second SIGINT for "quit now" and prints a traceback. So
# `mlflow` runs in a process group of its own (job control), out of reach of the terminal's
# Ctrl-C, and this script passes one SIGTERM on. It runs from the environment itself: no
# `uv run` process in between, which could stay behind as a zombie.
set -m
"$UV_PROJECT_ENVIRONMENT/bin/mlflow" ui \
    --backend-store-uri "$tracking_uri" \
    --default-artifact-root "$artifact_root" \
    --host 127.0.0.1 \
    --port "$port" \
    --workers 1 \
    "$@" &
server=$!
set +m
stopping=0
stop_server() {
    stopping=1
    kill -TERM "$server" 2>/dev/null || true
}
trap stop_server INT TERM HUP
# `wait` also returns when a trap ran: go on waiting until the server has exited.
while true; do
    status=0
    wait "$server" || status=$?
    kill -0 "$server" 2>/dev/null && continue
    # Stopped without being asked (a port taken meanwhile, a bind error): `mlflow ui` may
    # still exit with status 0.
    if [ "$stopping" = 0 ] && [ "$status" = 0 ]; then
        die "the MLflow UI stopped on its own (see its messages above)."
    fi
    exit "$status"
done

#!/usr/bin/env bash
# Serve the MLflow UI on the project's tracking store, in the foreground, until Ctrl-C.
# The store, artifact root and port come from the settings (environment, then .env): by default
# the embedded SQLite store under STATE_DIR/mlflow, on 127.0.0.1:${MLFLOW_PORT:-5000}.
# Extra arguments are passed to `mlflow ui` (e.g. --host 0.0.0.0 inside a container).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPOSITORY_ROOT"
ensure_uv

# One value per line so that paths with spaces survive.
mapfile -t settings < <(
    uv run --no-sync python - <<'PYTHON'
from product_classifier.settings import get_platform_settings

settings = get_platform_settings()
if not settings.MLFLOW_TRACKING_URI:
    settings.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
print(settings.tracking_uri)
print(settings.mlflow_artifacts_dir)
print(settings.MLFLOW_PORT)
PYTHON
)
[ "${#settings[@]}" -eq 3 ] || die "could not read the settings (is the environment installed? run ./scripts/environment-setup.sh)."
tracking_uri="${settings[0]}"
artifact_root="${settings[1]}"
port="${settings[2]}"

case "$tracking_uri" in
http://* | https://* | databricks*)
    die "MLFLOW_TRACKING_URI points at a running server ($tracking_uri): open it in a browser instead."
    ;;
esac

# The UI only browses and edits the registry: no background job runner.
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false
echo "MLflow UI on http://127.0.0.1:$port (store: $tracking_uri)"
exec uv run --no-sync mlflow ui \
    --backend-store-uri "$tracking_uri" \
    --default-artifact-root "$artifact_root" \
    --host 127.0.0.1 \
    --port "$port" \
    --workers 1 \
    "$@"

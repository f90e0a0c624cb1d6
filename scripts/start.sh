#!/usr/bin/env bash
# Start the platform from a fresh clone, in the foreground, until Ctrl-C:
#   1. install the workspace environment (.venv from uv.lock, its bytecode compiled; uv itself,
#      when missing, into ~/.local/bin as uv's installer puts it, on the PATH of new shells),
#   2. check the settings, the ports and the application database (one error line each;
#      backend/scripts/start_checks.py validates every setting, this script's own included),
#   3. migrate the database and create the first administrator (python -m scripts.prestart),
#   4. make sure MLflow serves models:/$MODEL_NAME@$MODEL_ALIAS: when the registry has none,
#      train a small demo model (python -m scripts.bootstrap_demo; minutes on 2 CPU cores),
#   5. serve the API on 127.0.0.1:$BACKEND_PORT and the MLflow UI on 127.0.0.1:$MLFLOW_PORT
#      (none with a tracking server as MLFLOW_TRACKING_URI: it has its own UI).
# Independent steps run side by side. Ctrl-C (or SIGTERM) stops everything it started; if one
# server dies, the other is stopped and the script exits non-zero.
#
# Settings come from the environment, then .env (see README, "Settings"): SQLALCHEMY_DATABASE_URI
# or POSTGRES_*, MLFLOW_TRACKING_URI, BACKEND_PORT, MLFLOW_PORT, FIRST_ADMINUSER(_PASSWORD),
# TARGET_ENV, MODEL_NAME, MODEL_ALIAS, STATE_DIR. Also read by this script:
#   DEMO_PRODUCTS, DEMO_EPOCHS, DEMO_IMAGE_SIZE, DEMO_IMAGE_WEIGHTS  the demo bootstrap's size
#   DEMO_BOOTSTRAP   auto (default: only with TARGET_ENV=development), always or never
#   SKIP_SYNC=1      use the existing environment as it is (no `uv sync`; 0 or unset: sync)
#   DB_WAIT_SECONDS  how long to wait for the database to answer (default 10)
#   READY_TIMEOUT_SECONDS  how long to wait for the servers to answer (default 300)
#   API_WORKERS      worker processes of the API: a number, or auto (the default)

set -euo pipefail
started_at=$SECONDS
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
accept_no_arguments "$@"
restart_with_default_signals "${BASH_SOURCE[0]}" "$@"
cd "$REPOSITORY_ROOT"

STOP_TIMEOUT_SECONDS=15

# --- process groups ------------------------------------------------------------------------
# Every long-running child gets a process group of its own (job control), so that stopping it
# also stops whatever it started (uv -> mlflow -> server workers, training worker processes).
children=()
last_child=

start_group() {
    set -m
    "$@" &
    last_child=$!
    set +m
    children+=("$last_child")
}

forget_child() {
    local kept=() pid
    for pid in "${children[@]}"; do
        [ "$pid" = "$1" ] || kept+=("$pid")
    done
    children=("${kept[@]+"${kept[@]}"}")
}

any_group_alive() {
    local pid
    for pid in "${children[@]+"${children[@]}"}"; do
        kill -0 -- "-$pid" 2>/dev/null && return 0
    done
    return 1
}

# Send a signal to every child group, then wait up to $2 seconds for all of them to be gone.
signal_children() {
    local pid deadline=$((SECONDS + $2))
    for pid in "${children[@]}"; do
        kill "-$1" -- "-$pid" 2>/dev/null || true
    done
    while any_group_alive && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
    done
    ! any_group_alive
}

stop_children() {
    [ "${#children[@]}" -gt 0 ] || return 0
    # SIGINT first (what Ctrl-C sends: uvicorn, MLflow and the trainings stop cleanly on it),
    # then SIGTERM, then SIGKILL for whatever still runs.
    signal_children INT "$STOP_TIMEOUT_SECONDS" ||
        signal_children TERM 5 || {
        echo "warning: still running after $((STOP_TIMEOUT_SECONDS + 5)) s: killing." >&2
        signal_children KILL 5 || true
    }
    wait 2>/dev/null || true
    children=()
}

on_signal() {
    trap - INT TERM HUP
    echo
    echo "Stopping ..."
    stop_children
    echo "Stopped."
    exit 0
}
trap on_signal INT TERM HUP
trap stop_children EXIT

# Run a command in its own process group and wait for it (Ctrl-C stays responsive).
run_step() {
    start_group "$@"
    local pid=$last_child status=0
    wait "$pid" || status=$?
    forget_child "$pid"
    return "$status"
}

# --- 1. environment ------------------------------------------------------------------------
has_python311() {
    local candidate
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            return 0
        fi
    done
    command -v uv >/dev/null 2>&1 && uv python find 3.11 >/dev/null 2>&1
}

python_bin="$UV_PROJECT_ENVIRONMENT/bin/python"
# Read before there is a Python to check it (the other settings: step 2).
case "${SKIP_SYNC:-0}" in
0 | 1) ;;
*) die "invalid settings: SKIP_SYNC is \"$SKIP_SYNC\": expected 1 (no uv sync) or 0." ;;
esac
if [ "${SKIP_SYNC:-0}" = 1 ]; then
    [ -x "$python_bin" ] ||
        die "SKIP_SYNC=1 but there is no environment at $UV_PROJECT_ENVIRONMENT: run without it."
else
    has_python311 ||
        die "Python 3.11 is required but was not found on PATH: install it (e.g. 'apt-get install python3.11' or from python.org) and run again."
    step "Installing the environment (uv sync)"
    # Bytecode compiled once at install: otherwise every API start compiles MLflow, FastAPI,
    # SQLAlchemy... from source again wherever .pyc files are not written (a read-only
    # environment, PYTHONDONTWRITEBYTECODE): seconds of CPU before the first prediction.
    sync_environment --quiet --compile-bytecode
fi

# --- 2. settings, ports, database ----------------------------------------------------------
backend() {
    (cd "$REPOSITORY_ROOT/backend" && exec "$python_bin" "$@")
}
datascience() {
    (cd "$REPOSITORY_ROOT/datascience" && exec "$python_bin" "$@")
}
step "Checking the settings, the ports and the database"
# Also validates and sets DEMO_BOOTSTRAP, READY_TIMEOUT_SECONDS and API_WORKERS (defaults
# included), and waits DB_WAIT_SECONDS for the database.
# An invalid setting is one line and exit status 2, as for every command reading settings.
settings="$(backend -m scripts.start_checks preflight)" || exit $?
eval "$settings"
echo "Database: $DATABASE_DISPLAY_URL; MLflow: $TRACKING_URI"

# --- 3. database, 4. a served model, 5. servers -------------------------------------------
case "$DEMO_BOOTSTRAP" in
always) bootstrap=1 ;;
never) bootstrap=0 ;;
auto) [ "$TARGET_ENV" = development ] && bootstrap=1 || bootstrap=0 ;;
esac

# What does not depend on each other runs side by side: the application database (prestart)
# and the MLflow registry (model check) are independent. On an existing MLflow store the MLflow
# UI starts at once and the API as soon as the database is migrated (it loads the model when
# the alias exists, and follows the alias afterwards). On a new store the model check creates it
# first, so that two processes never create MLflow's tables at the same time; the UI then starts
# before a demo training, whose runs can be watched in it.
ui_pid=
api_pid=
# The preflight's port check again, just before a server binds its port: a demo training takes
# minutes, during which something else may have taken it.
check_port() {
    backend -m scripts.start_checks ports "$1=$2" || exit 1
}
start_ui() {
    if [ "$TRACKING_IS_SERVER" = 1 ]; then
        echo "MLflow UI: not started here; the tracking server $TRACKING_URI serves it."
        return
    fi
    check_port MLFLOW_PORT "$MLFLOW_PORT"
    step "Serving the MLflow UI on http://127.0.0.1:$MLFLOW_PORT"
    export MLFLOW_UI_PORT_CHECKED=1 # checked just now: mlflow-ui.sh need not check it again
    start_group "$REPOSITORY_ROOT/scripts/mlflow-ui.sh"
    ui_pid=$last_child
}
start_api() {
    check_port BACKEND_PORT "$BACKEND_PORT"
    step "Serving the API on http://127.0.0.1:$BACKEND_PORT"
    # API_WORKERS: a number, or auto (the default: one per two cores, within half the
    # available memory at API_WORKER_MEMORY_MB per worker; one on a 2-core machine).
    start_group backend -m app.serve --host 127.0.0.1 --port "$BACKEND_PORT" \
        --workers "$API_WORKERS" --timeout-graceful-shutdown 5
    api_pid=$last_child
}
early="$TRACKING_STORE_EXISTS"
[ "$early" = 0 ] || start_ui

step "Migrating the database and creating the first administrator; checking $MODEL_URI"
start_group backend -m scripts.prestart --attempts 3
prestart_pid=$last_child
start_group datascience -m scripts.bootstrap_demo --check-only
check_pid=$last_child
prestart_status=0
wait "$prestart_pid" || prestart_status=$?
forget_child "$prestart_pid"
[ "$prestart_status" = 0 ] ||
    die "the database could not be migrated or seeded (see the messages above)."
[ "$early" = 0 ] || start_api
check_status=0
wait "$check_pid" || check_status=$?
forget_child "$check_pid"
case "$check_status" in
0 | 3) ;;
*) die "could not read the model registry at $TRACKING_URI (see above)." ;;
esac
[ "$early" = 1 ] || start_ui

model_served=1
if [ "$check_status" = 3 ]; then
    if [ "$bootstrap" = 1 ]; then
        step "Training a demo model: the registry has no $MODEL_URI"
        run_step datascience -m scripts.bootstrap_demo ||
            die "the demo bootstrap failed (see above); run ./scripts/start.sh again to resume it."
    else
        model_served=0
        echo "note: TARGET_ENV=$TARGET_ENV, DEMO_BOOTSTRAP=$DEMO_BOOTSTRAP: no demo model is trained." \
            "The API answers 503 on /predict until a version gets that alias (DEMO_BOOTSTRAP=always trains one)."
    fi
fi
[ -n "$api_pid" ] || start_api

# One HTTP GET on 127.0.0.1 with bash alone; prints the status code (nothing on failure).
http_status() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
        printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
        IFS=' ' read -r -t 10 _ code _ <&3 && printf '%s' "$code"
    ) 2>/dev/null || true
}

# A server exited before Ctrl-C (pid, exit status): report it, stop the rest, exit non-zero.
# Any exit is a failure here: `mlflow ui`, for one, exits 0 when it cannot bind its port.
server_stopped() {
    local name="MLflow UI" how
    [ "$1" != "$api_pid" ] || name="API"
    forget_child "$1"
    if [ "$2" = 0 ]; then
        how="without an error status"
    elif [ "$2" -gt 128 ]; then
        how="killed by signal $(kill -l "$2" 2>/dev/null || echo $(($2 - 128)))"
    else
        how="exit status $2"
    fi
    echo "error: the $name stopped early ($how; see its messages above); stopping the rest." >&2
    stop_children
    exit 1
}

# The first server found gone while waiting for readiness.
server_died() {
    local status=0
    wait "$1" 2>/dev/null || status=$?
    server_stopped "$1" "$status"
}

ready_path="$API_V1_STR/health/ready"
[ "$model_served" = 1 ] || ready_path="$API_V1_STR/health/live"
api_ready=0
ui_ready=0
[ -n "$ui_pid" ] || ui_ready=1
deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
while [ "$api_ready" = 0 ] || [ "$ui_ready" = 0 ]; do
    kill -0 "$api_pid" 2>/dev/null || server_died "$api_pid"
    [ -z "$ui_pid" ] || kill -0 "$ui_pid" 2>/dev/null || server_died "$ui_pid"
    [ "$api_ready" = 1 ] || [ "$(http_status "$BACKEND_PORT" "$ready_path")" != 200 ] || api_ready=1
    [ "$ui_ready" = 1 ] || [ "$(http_status "$MLFLOW_PORT" /health)" != 200 ] || ui_ready=1
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "warning: not ready after $READY_TIMEOUT_SECONDS s (API ready: $api_ready," \
            "MLflow UI ready: $ui_ready); still serving." >&2
        break
    fi
    sleep 0.5
done

password_hint="FIRST_ADMINUSER_PASSWORD"
[ "$ADMIN_PASSWORD_IS_DEFAULT" = 0 ] || password_hint="changethis, the default: change it outside development"
served_name="${MODEL_URI#models:/}"
ui_line="http://127.0.0.1:$MLFLOW_PORT   (registry: http://127.0.0.1:$MLFLOW_PORT/#/models/${served_name%@*})"
[ -n "$ui_pid" ] || ui_line="$TRACKING_URI (tracking server)"
cat <<EOF

Ready in $((SECONDS - started_at)) s.
  API          http://127.0.0.1:$BACKEND_PORT$API_V1_STR   (web page: http://127.0.0.1:$BACKEND_PORT/)
  Swagger UI   http://127.0.0.1:$BACKEND_PORT/docs
  MLflow UI    $ui_line
  Admin        $FIRST_ADMINUSER (password: $password_hint)
  Model        $MODEL_URI
  State        $STATE_DIR
EOF
[ -z "${UV_PATH_HINT:-}" ] || echo "Note: $UV_PATH_HINT"
echo "Press Ctrl-C to stop."

# Serve until Ctrl-C (on_signal exits) or until one server exits.
while true; do
    finished=
    status=0
    wait -n -p finished "${children[@]}" || status=$?
    [ -z "$finished" ] || server_stopped "$finished" "$status"
done

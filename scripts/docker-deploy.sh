#!/usr/bin/env bash
# Build the API and datascience images and start the Docker Compose deployment (db, mlflow, api).
# Extra arguments are passed to `docker compose up` (its options: docker compose up --help; one
# it does not list is refused before anything is built).
# Variables come from .env (see its comments); outside development set real secrets first.
# Also read here: API_REPLICAS (environment, then .env; default 2), HOST_UID and HOST_GID
# (default: yours), BACKEND_PORT and MLFLOW_PORT (for the addresses printed at the end).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
answer_help "[docker compose up options] [services]" "$@"
cd "$REPOSITORY_ROOT"

if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
    wait_flag=(--wait)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
    wait_flag=()  # Compose v1 has no --wait: the health checks still gate the start order
else
    die "Docker Compose is not installed (need 'docker compose' or 'docker-compose')."
fi
compose_up_help() { "${compose[@]}" up --help; }
refuse_unknown_options "docker compose up" compose_up_help "$@"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer: start Docker first."

# The training profile writes as the host user into ./var/docker-data (bind mount): create it
# here, owned by that user, rather than letting Docker create it as root.
mkdir -p var/docker-data
export HOST_UID="${HOST_UID:-$(id -u)}" HOST_GID="${HOST_GID:-$(id -g)}"

step "Validating docker-compose.yaml"
"${compose[@]}" config --quiet

step "Building the images (api, datascience)"
"${compose[@]}" build

replicas="${API_REPLICAS:-$(sed -n 's/^API_REPLICAS=//p' .env)}"
replicas="${replicas:-2}"
step "Starting db, mlflow, api ($replicas replicas) and the proxy in front of them"
# --scale works with Compose v1 too (v1 ignores deploy.replicas).
"${compose[@]}" up --detach "${wait_flag[@]}" --scale "api=$replicas" "$@"

echo "API:       http://127.0.0.1:${BACKEND_PORT:-8000}/docs"
echo "MLflow UI: http://127.0.0.1:${MLFLOW_PORT:-5000}"
echo "Train against it (see README, Deployment):"
echo "  HOST_UID=\$(id -u) HOST_GID=\$(id -g) ${compose[*]} --profile training run --rm training python -m scripts.train_text_model --help"

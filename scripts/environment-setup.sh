#!/usr/bin/env bash
# Create the development environment (installing uv with pip when missing) and the git hooks.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPOSITORY_ROOT"

step "Installing the workspace environment (.venv)"
sync_environment

step "Installing git hooks (ruff, ruff-format, mypy, Conventional Commits)"
uv run --no-sync pre-commit install --install-hooks \
    --hook-type pre-commit --hook-type commit-msg

echo "Environment ready: activate it with 'source .venv/bin/activate'."

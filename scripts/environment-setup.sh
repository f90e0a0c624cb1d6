#!/usr/bin/env bash
# Create the development environment (installing uv into ~/.local/bin when missing, as uv's own
# installer does) and the git hooks.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPOSITORY_ROOT"

step "Installing the workspace environment (.venv)"
sync_environment

step "Installing git hooks (ruff, ruff-format, mypy, Conventional Commits)"
uv run --no-sync pre-commit install --install-hooks \
    --hook-type pre-commit --hook-type commit-msg

echo "Environment ready: run commands with 'uv run --no-sync ...' (or 'source .venv/bin/activate')."
[ -z "$UV_PATH_HINT" ] || echo "Note: $UV_PATH_HINT"

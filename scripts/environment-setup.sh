#!/usr/bin/env bash
# Create the development environment (installing uv into ~/.local/bin when missing, as uv's own
# installer does) and the git hooks. Reads UV_PROJECT_ENVIRONMENT (default .venv) and, for uv's
# installation, UV_TOOL_BIN_DIR or XDG_BIN_HOME (default ~/.local/bin) and UV_NO_MODIFY_PATH=1
# (leave the shell startup files alone).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
accept_no_arguments "$@"
cd "$REPOSITORY_ROOT"

step "Installing the workspace environment (.venv)"
sync_environment

step "Installing git hooks (ruff, ruff-format, mypy, Conventional Commits)"
uv run --no-sync pre-commit install --install-hooks \
    --hook-type pre-commit --hook-type commit-msg

echo "Environment ready: run commands with 'uv run --no-sync ...' (or 'source .venv/bin/activate')."
[ -z "$UV_PATH_HINT" ] || echo "Note: $UV_PATH_HINT"

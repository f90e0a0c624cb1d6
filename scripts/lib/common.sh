# Shared helpers for the project's shell scripts (source it; do not run it).
# Resolves the repository root and makes sure uv is available.

REPOSITORY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPOSITORY_ROOT
export MLFLOW_DISABLE_TELEMETRY=true
export UV_PROJECT_ENVIRONMENT="${UV_PROJECT_ENVIRONMENT:-$REPOSITORY_ROOT/.venv}"

die() {
    echo "error: $*" >&2
    exit 1
}

step() {
    printf '\n\033[1m==> %s\033[0m\n' "$*"
}

# Install uv with pip when it is missing (the only prerequisite is Python 3.11).
ensure_uv() {
    if command -v uv >/dev/null 2>&1; then
        return
    fi
    local python
    python="$(command -v python3.11 || command -v python3 || true)"
    [ -n "$python" ] || die "Python 3.11 is required but no python3 was found on PATH."
    step "Installing uv with pip"
    "$python" -m pip install --quiet --user uv || "$python" -m pip install --quiet uv ||
        die "could not install uv with pip."
    export PATH="$HOME/.local/bin:$PATH"
    command -v uv >/dev/null 2>&1 || die "uv was installed but is not on PATH."
}

# Create or update the one workspace virtual environment from uv.lock.
sync_environment() {
    ensure_uv
    (cd "$REPOSITORY_ROOT" && uv sync --locked --all-packages --python 3.11 "$@") ||
        die "uv sync failed (is uv.lock up to date? run 'uv lock')."
}

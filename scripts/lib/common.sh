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

# Install uv with pip when it is missing (the only prerequisite is Python 3.11). uv goes into a
# small virtual environment of its own, which works even where the system Python is "externally
# managed" (Debian, Ubuntu) and refuses `pip install --user`.
ensure_uv() {
    if command -v uv >/dev/null 2>&1; then
        return
    fi
    local python tools_venv="${XDG_DATA_HOME:-$HOME/.local/share}/e-commerce-mlops/uv-venv"
    python="$(command -v python3.11 || command -v python3 || true)"
    [ -n "$python" ] || die "Python 3.11 is required but no python3 was found on PATH."
    if [ ! -x "$tools_venv/bin/uv" ]; then
        step "Installing uv with pip (into $tools_venv)"
        "$python" -m venv "$tools_venv" >/dev/null 2>&1 ||
            die "could not create a virtual environment with $python (install python3-venv)."
        "$tools_venv/bin/python" -m pip install --quiet uv || die "could not install uv with pip."
    fi
    export PATH="$tools_venv/bin:$PATH"
}

# Create or update the one workspace virtual environment from uv.lock.
sync_environment() {
    ensure_uv
    (cd "$REPOSITORY_ROOT" && uv sync --locked --all-packages --python 3.11 "$@") ||
        die "uv sync failed (is uv.lock up to date? run 'uv lock')."
}

# Install Chromium for the browser tests (backend/tests/browser) when it is missing and we can.
ensure_chromium() {
    if [ -x /usr/bin/chromium ]; then
        return
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "Installing Chromium for the browser tests"
        if apt-get update -qq && apt-get install -y -qq chromium; then
            return
        fi
        echo "warning: could not install chromium with apt-get; browser tests will be skipped." >&2
    else
        echo "note: /usr/bin/chromium is missing and we are not root (or have no apt-get):" \
            "browser tests will be skipped (they fail under CI=true)." >&2
    fi
}

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

# Install a Debian package when the program it provides is missing and we can (root + apt-get).
# Best effort: a failure is a warning; the tests that need the program say why they skip.
APT_UPDATED=""
ensure_apt_package() {
    local program="$1" package="$2" purpose="$3"
    if [ -x "$program" ]; then
        return
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "Installing $package for $purpose"
        if { [ -n "$APT_UPDATED" ] || apt-get update -qq; } &&
            APT_UPDATED=1 && apt-get install -y -qq "$package" >/dev/null; then
            return
        fi
        echo "warning: could not install $package with apt-get; $purpose will be skipped." >&2
    else
        echo "note: $program is missing and we are not root (or have no apt-get):" \
            "$purpose will be skipped." >&2
    fi
}

# Chromium for the browser tests (backend/tests/browser; they fail under CI=true without it).
ensure_chromium() {
    ensure_apt_package /usr/bin/chromium chromium "the browser tests"
}

# Compose v1 (Debian's docker-compose) validates docker-compose.yaml where no v2 plugin exists.
ensure_compose_validator() {
    if docker compose version >/dev/null 2>&1; then
        return
    fi
    ensure_apt_package /usr/bin/docker-compose docker-compose "the docker-compose.yaml validation"
}

# nginx checks the load balancer configuration of docker-compose.yaml (docker/nginx/).
ensure_nginx() {
    ensure_apt_package /usr/sbin/nginx nginx-light "the nginx configuration check"
}

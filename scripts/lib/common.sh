# Shared helpers for the project's shell scripts (source it; do not run it).
# Resolves the repository root, makes sure uv is available and handles the scripts' arguments
# (arguments.sh).

REPOSITORY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPOSITORY_ROOT
export MLFLOW_DISABLE_TELEMETRY=true
export UV_PROJECT_ENVIRONMENT="${UV_PROJECT_ENVIRONMENT:-$REPOSITORY_ROOT/.venv}"
# shellcheck source=scripts/lib/arguments.sh
source "$REPOSITORY_ROOT/scripts/lib/arguments.sh"

# A parent may start a script with SIGINT or SIGTERM ignored: a background job of a
# non-interactive shell (`./scripts/start.sh > log &` in a script, CI runners), nohup-like
# supervisors. Bash cannot trap a signal ignored at its start, so Ctrl-C or `kill -INT` would do
# nothing: run the script again with the default dispositions (once; SIGHUP stays as the parent
# set it). Call it before setting traps: restart_with_default_signals "${BASH_SOURCE[0]}" "$@"
restart_with_default_signals() {
    if [ -n "${SCRIPT_SIGNALS_RESET:-}" ] || [ -z "$(trap -p INT TERM)" ]; then
        unset SCRIPT_SIGNALS_RESET
        return 0
    fi
    export SCRIPT_SIGNALS_RESET=1
    if env --default-signal=INT true 2>/dev/null; then
        exec env --default-signal=INT,TERM bash "$@"
    fi
    local python
    for python in python3.11 python3; do
        if command -v "$python" >/dev/null 2>&1; then
            exec "$python" -c 'import os, signal, sys
for number in (signal.SIGINT, signal.SIGTERM):
    signal.signal(number, signal.SIG_DFL)
os.execvp("bash", ["bash", *sys.argv[1:]])' "$@"
        fi
    done
    unset SCRIPT_SIGNALS_RESET # neither: no Python either, which the script reports
}

die() {
    echo "error: $*" >&2
    exit 1
}

step() {
    printf '\n\033[1m==> %s\033[0m\n' "$*"
}

# Make sure `uv` runs here and in the user's next shells, as uv's own installer leaves it: the
# standalone binaries in uv's executable folder ($UV_TOOL_BIN_DIR, $XDG_BIN_HOME or
# ~/.local/bin), that folder on the PATH of new shells (`uv tool update-shell` adds it to the
# shell's startup files when it is not there yet; UV_NO_MODIFY_PATH=1 or
# INSTALLER_NO_MODIFY_PATH=1 prevent it, as they do for uv's installer). Without uv, it comes
# from PyPI with pip (the only prerequisite is Python 3.11), through a throw-away virtual
# environment, which works even where the system Python refuses `pip install --user`.
# Sets UV_PATH_HINT to a line for the user when this shell's parent does not find uv yet.
UV_PATH_HINT=""
uv_bin_dir() {
    if [ -n "${UV_TOOL_BIN_DIR:-}" ]; then
        echo "$UV_TOOL_BIN_DIR"
    elif [ -n "${XDG_BIN_HOME:-}" ]; then
        echo "$XDG_BIN_HOME"
    else
        echo "$HOME/.local/bin"
    fi
}

install_uv_binaries() {
    local bin_dir="$1" python work legacy="${XDG_DATA_HOME:-$HOME/.local/share}/e-commerce-mlops/uv-venv"
    mkdir -p "$bin_dir" || die "cannot create $bin_dir for uv."
    if [ -x "$legacy/bin/uv" ]; then
        # Where earlier versions of this script kept it.
        cp "$legacy/bin/uv" "$legacy/bin/uvx" "$bin_dir/" && return
    fi
    python="$(command -v python3.11 || command -v python3 || true)"
    [ -n "$python" ] || die "Python 3.11 is required but no python3 was found on PATH."
    step "Installing uv into $bin_dir (from PyPI, with pip)"
    work="$(mktemp -d)"
    "$python" -m venv "$work/venv" >/dev/null 2>&1 ||
        die "could not create a virtual environment with $python (install python3-venv)."
    "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check uv ||
        die "could not install uv with pip."
    cp "$work/venv/bin/uv" "$work/venv/bin/uvx" "$bin_dir/" || die "could not copy uv to $bin_dir."
    rm -rf "$work"
}

ensure_uv() {
    if command -v uv >/dev/null 2>&1; then
        return
    fi
    local bin_dir output
    bin_dir="$(uv_bin_dir)"
    [ -x "$bin_dir/uv" ] || install_uv_binaries "$bin_dir"
    case ":$PATH:" in
    *":$bin_dir:"*) return ;;
    esac
    local parent_path="$PATH"
    export PATH="$bin_dir:$PATH"
    UV_PATH_HINT="uv is in $bin_dir: open a new shell, or in this one run: export PATH=\"$bin_dir:\$PATH\""
    if [ "${UV_NO_MODIFY_PATH:-${INSTALLER_NO_MODIFY_PATH:-0}}" != 0 ]; then
        UV_PATH_HINT="uv is in $bin_dir, which is not on your PATH (UV_NO_MODIFY_PATH): add it to your PATH"
    elif output="$(PATH="$parent_path" "$bin_dir/uv" tool update-shell 2>&1)"; then
        echo "uv: $bin_dir added to the PATH of new shells (uv tool update-shell):" $output
    elif [[ "$output" != *"already up-to-date"* ]]; then
        echo "warning: could not add $bin_dir to your shell's PATH: $output" >&2
        UV_PATH_HINT="uv is in $bin_dir, which is not on your PATH: add it to your PATH"
    fi
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

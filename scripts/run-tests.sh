#!/usr/bin/env bash
# Install what is missing, then run every check: lint, format, types and all test suites.
# Exits non-zero when any of them fails. Extra arguments are passed to every pytest run (the
# datascience, backend and repository suites, e.g. -x or -k EXPRESSION); an option pytest does
# not list is refused before anything runs. Reads CI=true (a missing PostgreSQL or Chromium
# fails the tests that need it instead of skipping them; a uv this script installs stays out of
# the shell startup files) and UV_PROJECT_ENVIRONMENT (default .venv).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
answer_help "[pytest options]" "$@"
cd "$REPOSITORY_ROOT" || exit 1
# In CI, a uv this script installs stays out of the shell startup files (as uv's installer
# does for CI with UV_UNMANAGED_INSTALL); a person's run puts it on their PATH like start.sh.
[ "${CI:-}" != true ] || export UV_NO_MODIFY_PATH="${UV_NO_MODIFY_PATH:-1}"
pytest_help() { "$UV_PROJECT_ENVIRONMENT/bin/python" -m pytest --help; }
# pytest's options are known before the installation when there is an environment already.
if [ -x "$UV_PROJECT_ENVIRONMENT/bin/python" ]; then
    refuse_unknown_options pytest pytest_help "$@"
    sync_environment
else
    sync_environment
    refuse_unknown_options pytest pytest_help "$@"
fi

failed=()
check() {
    local name="$1"
    shift
    step "$name"
    if ! "$@"; then
        failed+=("$name")
    fi
}

check "ruff lint" uv run --no-sync ruff check .
check "ruff format" uv run --no-sync ruff format --check .
check "mypy datascience" bash -c 'cd datascience && uv run --no-sync mypy .'
check "mypy backend" bash -c 'cd backend && uv run --no-sync mypy .'
check "mypy repository tests" uv run --no-sync mypy tests
check "pytest datascience" bash -c 'cd datascience && uv run --no-sync pytest "$@"' _ "$@"
ensure_chromium
check "pytest backend" bash -c 'cd backend && uv run --no-sync pytest "$@"' _ "$@"
ensure_compose_validator
ensure_nginx
# The root .venv (every workspace package) runs the repository-level tests from the root.
check "pytest repository" uv run --no-sync pytest "$@"

if [ "${#failed[@]}" -ne 0 ]; then
    printf '\nFAILED: %s\n' "${failed[*]}" >&2
    exit 1
fi
printf '\nAll checks passed.\n'

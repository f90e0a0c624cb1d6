#!/usr/bin/env bash
# Install what is missing, then run every check: lint, format, types and all test suites. Exits
# non-zero when any of them fails. Extra arguments are passed to every pytest run (the
# datascience, backend and repository suites, e.g. -x or -k EXPRESSION); an option pytest does
# not list, or one given no value (-k last), is refused before anything runs. The datascience
# suite runs beside the other checks (they share a small machine's cores; its output is shown
# after the backend's). Reads SUITES_IN_PARALLEL=false (one after the other, as without setsid
# on macOS or with --pdb), CI=true (a missing PostgreSQL or Chromium fails the tests that need
# it instead of skipping them; a uv this script installs stays out of the shell startup files)
# and UV_PROJECT_ENVIRONMENT (default .venv).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
answer_help "[pytest options]" "$@"
cd "$REPOSITORY_ROOT" || exit 1
case "${SUITES_IN_PARALLEL:-true}" in
true | false) ;;
*) die "invalid settings: SUITES_IN_PARALLEL is \"$SUITES_IN_PARALLEL\": expected true (the datascience suite beside the backend's) or false." ;;
esac
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

# On the way out: stop the datascience suite if it still runs, showing the end of its output.
stop_datascience_suite() {
    if [ -n "$datascience_pid" ]; then
        kill -TERM -- "-$datascience_pid" 2>/dev/null
        printf '\nThe datascience suite was stopped; the end of its output:\n' >&2
        tail -n 20 "$datascience_log" >&2
    fi
    rm -f "$datascience_log"
}

# pytest in the folder given first, with the script's arguments. A suite none of whose tests
# the arguments select (pytest's status 5, "no tests collected": -k EXPRESSION) has not failed.
pytest_in=(bash -c 'cd "$0" || exit 1
    uv run --no-sync pytest "$@"
    status=$?
    if [ "$status" -eq 5 ] && [ "$#" -gt 0 ]; then
        echo "No test of this suite is selected by: $*"
        exit 0
    fi
    exit "$status"')
in_parallel=true
[ "${SUITES_IN_PARALLEL:-true}" = true ] && command -v setsid >/dev/null || in_parallel=false
for argument in "$@"; do
    # A debugger needs the terminal: a suite beside it would read nothing from its stdin.
    case "$argument" in --pdb | --trace) in_parallel=false ;; esac
done
datascience_pid=""
datascience_log=""
if [ "$in_parallel" = true ] && datascience_log="$(mktemp)"; then
    # The datascience suite starts first, beside every other check, in a session of its own
    # so that it stops with this script (Ctrl-C included) whatever it has started; its output
    # waits in a file. (A SIGKILL of this script cannot stop it.)
    trap stop_datascience_suite EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    setsid "${pytest_in[@]}" datascience "$@" >"$datascience_log" 2>&1 </dev/null &
    datascience_pid=$!
else
    in_parallel=false
fi
check "ruff lint" uv run --no-sync ruff check .
check "ruff format" uv run --no-sync ruff format --check .
check "mypy datascience" bash -c 'cd datascience && uv run --no-sync mypy .'
check "mypy backend" bash -c 'cd backend && uv run --no-sync mypy .'
check "mypy repository tests" uv run --no-sync mypy tests
ensure_chromium
if [ "$in_parallel" = false ]; then
    check "pytest datascience" "${pytest_in[@]}" datascience "$@"
    check "pytest backend" "${pytest_in[@]}" backend "$@"
else
    check "pytest backend (the datascience suite runs beside it)" "${pytest_in[@]}" backend "$@"
    step "pytest datascience"
    datascience_status=0
    wait "$datascience_pid" || datascience_status=$?
    datascience_pid="" # ended: its group id may be another's from now on
    cat "$datascience_log"
    [ "$datascience_status" -eq 0 ] || failed+=("pytest datascience")
fi
ensure_compose_validator
ensure_nginx
# The root .venv (every workspace package) runs the repository-level tests from the root.
check "pytest repository" "${pytest_in[@]}" . "$@"

if [ "${#failed[@]}" -ne 0 ]; then
    printf '\nFAILED: %s\n' "${failed[*]}" >&2
    exit 1
fi
printf '\nAll checks passed.\n'

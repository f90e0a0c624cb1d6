# Command-line arguments of the project's shell scripts (source it; do not run it; common.sh
# sources it). Every script answers -h / --help with its usage (a synopsis, then the comment at
# its top) and exits 0 having done nothing else; an argument it does not take is one line on
# stderr and status 2, before it does anything.
#   accept_no_arguments "$@"             a script that takes none
#   answer_help SYNOPSIS "$@"            a script that passes its arguments on to a tool, first;
#   refuse_unknown_options TOOL HELP_COMMAND "$@"
#                                        then, once HELP_COMMAND (which prints TOOL's --help) can
#                                        run: refuse the options that help does not list,
#                                        and those that take a value given none.

# The script being run (the bottom of the call stack), found before it changes folders.
ARGUMENTS_SCRIPT="${BASH_SOURCE[${#BASH_SOURCE[@]} - 1]}"
ARGUMENTS_SCRIPT="$(cd "$(dirname "$ARGUMENTS_SCRIPT")" && pwd)/${ARGUMENTS_SCRIPT##*/}"
ARGUMENTS_REPOSITORY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# That script as ./path from the repository root, as the README writes it.
script_display_name() {
    case "$ARGUMENTS_SCRIPT" in
    "$ARGUMENTS_REPOSITORY_ROOT"/*) echo "./${ARGUMENTS_SCRIPT#"$ARGUMENTS_REPOSITORY_ROOT"/}" ;;
    *) echo "$ARGUMENTS_SCRIPT" ;;
    esac
}

# One error line on stderr, status 2.
refuse_arguments() {
    echo "error: $* (see $(script_display_name) --help)" >&2
    exit 2
}

# Print the usage and exit 0 when an argument (before any --) is -h or --help.
answer_help() {
    local synopsis="$1" argument line
    shift
    for argument in "$@"; do
        case "$argument" in
        --) return 0 ;;
        -h | --help) ;;
        *) continue ;;
        esac
        echo "Usage: $(script_display_name) [-h | --help]${synopsis:+ $synopsis}"
        echo
        # The comment block under the shebang line, without its "# ".
        while IFS= read -r line; do
            case "$line" in
            '#!'*) continue ;;
            '#'*) line="${line#\#}" && echo "${line# }" ;;
            *) break ;;
            esac
        done <"$ARGUMENTS_SCRIPT"
        exit 0
    done
}

accept_no_arguments() {
    answer_help "" "$@"
    [ "$#" -eq 0 ] || refuse_arguments "unknown argument '$1'"
}

# The synopsis column of each option line of a --help text (`-c FILE, --config-file=FILE`):
# lines indented by one to six spaces that start with a dash, up to the gap before the
# description. Options named in descriptions or in the usage line are not read.
option_columns() {
    sed -nE 's/^ {1,6}(-[[:alnum:]-].*)$/\1/p' <<<"$1" | sed -E 's/  .*//'
}

# The option names (`-x`, `--name`, not the `-auth` of `basic-auth`) on stdin, one per line.
option_names() {
    grep -oE -- '(^|[][ ,|/])--?[[:alnum:]][[:alnum:]_-]*' | sed -E 's/^[][ ,|/]//'
}

# The options of a --help text whose synopsis shows a value, every alias of the line
# (`-k EXPRESSION`, `--maxfail=num`, `-p, --port INTEGER`, click's choices `--app-name
# [basic-auth]`; not argparse's optional `--cache-show=[CACHESHOW]`), one per line.
options_taking_values() {
    local column
    while IFS= read -r column; do
        if grep -qE -- '--?[[:alnum:]][[:alnum:]_-]*([ =][[:alnum:]{<]| \[[a-z0-9])' <<<"$column"; then
            option_names <<<"$column"
        fi
    done < <(option_columns "$1")
}

# Refuse every option (before any --) that the help HELP_COMMAND prints does not list: `--name`,
# `--name=value`, and `-x` or grouped short options such as `-xvs` by their first letter; and
# an option that takes a value (`-k EXPRESSION`) given none: last, before --, `--name=`, or
# before a word the tool reads as an option (argparse, whose help starts with "usage:", reads
# any word that starts with a dash as one, but a negative number or words with a space; click
# and Compose take the next word whatever it is: only a listed option's name is refused there).
# Other words are values or names the tool itself checks. Runs HELP_COMMAND only with
# arguments to check; when it fails, the tool is left to refuse them itself.
refuse_unknown_options() {
    local tool="$1" help_command="$2" help argument name next argparse=false
    shift 2
    [ "$#" -gt 0 ] || return 0
    help="$("$help_command" 2>/dev/null)" || return 0
    [[ "$help" != usage:* ]] || argparse=true
    local -A listed=() takes_value=()
    while read -r name; do
        [ -z "$name" ] || listed["$name"]=1
    done < <(option_columns "$help" | option_names)
    while read -r name; do
        [ -z "$name" ] || takes_value["$name"]=1
    done < <(options_taking_values "$help")
    while [ "$#" -gt 0 ]; do
        argument="$1"
        shift
        case "$argument" in
        --) return 0 ;;
        --?*) name="${argument%%=*}" ;;
        -?*) name="${argument:0:2}" ;;
        *) continue ;;
        esac
        [ -n "${listed["$name"]:-}" ] ||
            refuse_arguments "unknown argument '$name': not an option of $tool"
        [ -n "${takes_value["$name"]:-}" ] || continue
        [ "$argument" != "$name=" ] || refuse_arguments "option '$name' needs a value"
        # Only a value given apart is checked (not `-kEXPRESSION` nor `--name=value`).
        [ "$argument" = "$name" ] || continue
        next="${1-"--"}"
        [ "$next" != -- ] || refuse_arguments "option '$name' needs a value"
        if { [ "$argparse" = true ] && [[ "$next" == -?* && "$next" != *" "* ]] &&
            ! [[ "$next" =~ ^-[0-9]+([.][0-9]*)?$ ]]; } || [ -n "${listed["$next"]:-}" ]; then
            refuse_arguments "option '$name' needs a value, not the option '$next'"
        fi
        shift
    done
}

# test_conventions.sh FACEAUDIT MODELS SHARED SOURCE_DIR - what users expect of
# a Unix tool: --version, a man page that renders cleanly and names every
# option of every command's --help, one exit-code table (cli.h = man page =
# README), and bash completion of commands and options.
source "$(dirname "$0")/lib.sh"
SRC=${4:?source dir}
MAN="$SRC/docs/faceaudit.1"

version=$(sed -n 's/^project(faceaudit VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
check_eq "--version" "$("$FA" --version)" "faceaudit $version"
check_contains "man page version" "$(sed -n '/^\.TH/p' "$MAN")" "faceaudit $version"
check_eq "man page renders without warnings" "$(groff -man -t -ww -z "$MAN" 2>&1)" ""

mantext=$(sed 's/\\-/-/g' "$MAN")
cmds=$("$FA" --help | sed -n 's/^  faceaudit \([a-z]*\) .*/\1/p')
check "at least the five original commands listed" test "$(wc -w <<<"$cmds")" -ge 5
for c in $cmds; do
    check_contains "man page: command $c" "$mantext" "^\.SS $c"
    for o in $("$FA" "$c" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        check_contains "man page: $c $o" "$mantext" "$o\b"
    done
done

# Exit codes: "FA_EXIT_X = N" in cli.h, "N<tab>text" in the man page's
# table, "| N | text |" in the README.
codes_h=$(sed -n 's/^ *FA_EXIT_[A-Z]* = \([0-9]*\),.*/\1/p' "$SRC/src/cli/cli.h" | tr '\n' ' ')
codes_man=$(sed -n '/^\.SH EXIT STATUS/,/^\.TE/p' "$MAN" | sed -n 's/^\([0-9]*\)\t.*/\1/p' | tr '\n' ' ')
codes_readme=$(sed -n '/^### Exit status/,/^The table/p' "$SRC/README.md" | sed -n 's/^| \([0-9]*\) |.*/\1/p' | tr '\n' ' ')
check_eq "exit codes: man page = cli.h" "$codes_man" "$codes_h"
check_eq "exit codes: README = cli.h" "$codes_readme" "$codes_h"
"$FA" index >/dev/null 2>&1
check_eq "bad command line exits 2" "$?" 2
"$FA" info "$T/none" >/dev/null 2>&1
check_eq "failure exits 1" "$?" 1

# Completion, with the tool under test as COMP_WORDS[0].
complete() { :; }   # the script registers itself; not needed here
source "$SRC/completion/faceaudit.bash"
comp() { COMP_WORDS=("$FA" "$@"); COMP_CWORD=$(($# )); _faceaudit; echo "${COMPREPLY[*]}"; }
check_eq "completes commands" "$(comp "")" "$(echo $cmds) --help --version"
check_eq "completes options" "$(comp index --reb)" "--rebuild"
check_eq "completes models subcommands" "$(comp models f)" "fetch"
check_eq "completes statuses" "$(comp info CACHE --list no_)" "no_face no_identity"
finish

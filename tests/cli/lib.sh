# lib.sh - shared helpers for the end-to-end tests of the faceaudit tool.
# Each test script sources this, calls `check` / `check_eq` / `check_contains`,
# and ends with `finish`, which prints "N passed, N failed" and sets the exit
# status. Usage of every script: SCRIPT FACEAUDIT MODELS_DIR SHARED_DIR
set -u
FA=${1:?faceaudit binary}
MODELS=${2:?models dir}
SHARED=${3:?shared dir}
FACES="$SHARED/faces"
PY=/usr/bin/python3
export FACEAUDIT_MODELS="$MODELS"
T=$(mktemp -d /tmp/fa-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
PASS=0
FAILED=0

check() {   # check "description" command...
    local what=$1; shift
    if "$@"; then PASS=$((PASS + 1)); else FAILED=$((FAILED + 1)); echo "FAIL: $what" >&2; fi
}
check_eq() {   # check_eq "description" actual expected
    if [ "$2" = "$3" ]; then PASS=$((PASS + 1)); else FAILED=$((FAILED + 1)); echo "FAIL: $1: got '$2', expected '$3'" >&2; fi
}
check_contains() {   # check_contains "description" file-or-text pattern
    if grep -q -- "$3" <<<"$2"; then PASS=$((PASS + 1)); else FAILED=$((FAILED + 1)); echo "FAIL: $1: no '$3' in: $(head -c 600 <<<"$2")" >&2; fi
}
finish() {
    echo "$PASS passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
# Value of one status count from `faceaudit info` ("... ok 12 no_face 0 ...").
status_count() {   # status_count CACHE STATUS
    "$FA" info "$1" | sed -n "s/^statuses .* $2 \([0-9]*\).*/\1/p"
}
info_field() {   # info_field CACHE files|faces|folders
    "$FA" info "$1" | awk -v k="$2" '$1 == k { print $2 }'
}
summary_field() {   # summary_field "index output" encoded|unchanged|moved|resumed|removed
    sed -n "s/.* $2 \([0-9]*\).*/\1/p" <<<"$1" | head -1
}

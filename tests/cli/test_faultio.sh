#!/usr/bin/env bash
# test_faultio.sh - I/O fault injection, SQLite-style: for every file the
# cache writes or reads (meta.json, the manifest, the embeddings, the
# journal, the lock), make the Nth open / read / write / rename / mmap /
# fsync / fdatasync on it fail, for N = 1, 2, ... until a run no longer
# reaches call N. Each run must end in exit 0, or exit 1 with a message
# naming the file; the committed cache stays as it was (or is the new
# generation when the run succeeded) and still opens. Needs enospc.so as $4.
. "$(dirname "$0")/lib.sh"
INJ=${4:?path to enospc.so}
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"

D="$T/data"
mkdir -p "$D"
cp -r "$FACES/examples/obama" "$FACES/examples/biden" "$D/"
"$FA" index "$D" -o "$T/c" -q >/dev/null || { echo "cannot build the cache"; exit 1; }
files=$(info_field "$T/c" files)
runs=0 fired=0 errors=0
# inject CALL TARGET N COMMAND... : runs the command with the fault armed; sets $rc, $err, $hit
inject() {
    local call=$1 target=$2 n=$3; shift 3
    rm -f "$T/log"
    err=$(LD_PRELOAD="$INJ" FA_FAULT_CALL="$call" FA_FAULT_AT="$n" FA_ENOSPC_MATCH="$target" \
          FA_FAULT_LOG="$T/log" "$@" 2>&1 >/dev/null); rc=$?
    hit=0; [ -s "$T/log" ] && hit=1
    [ "$rc" -ne 0 ] && errors=$((errors + 1))
    [ -n "${FA_FAULTIO_VERBOSE:-}" ] && [ "$hit" -eq 1 ] && echo "$call #$n $target: exit $rc: $err"
    runs=$((runs + 1)); fired=$((fired + hit))
}
for call in open read write rename mmap fsync fdatasync; do
    for target in meta.json manifest. embeddings. journal /lock; do
        for n in $(seq 1 12); do
            before=$(cat "$T/c/meta.json")
            # index with nothing to do still commits a new generation: the writers run, no network does
            inject "$call" "$target" "$n" "$FA" index "$D" -o "$T/c" -q
            what="index, $call #$n on $target"
            if [ "$rc" -ne 0 ]; then
                check_eq "$what: exit status" "$rc" 1
                check_contains "$what: message names the file" "$err" "${target#/}"
                check_eq "$what: committed cache unchanged" "$(cat "$T/c/meta.json")" "$before"
            fi
            check_eq "$what: cache opens with every file" "$(info_field "$T/c" files)" "$files"
            # the readers: info on the cache
            inject "$call" "$target" "$n" "$FA" info "$T/c"
            hit2=$hit
            if [ "$rc" -ne 0 ]; then
                check_eq "info, $call #$n on $target: exit status" "$rc" 1
                check_contains "info, $call #$n on $target: message names the file" "$err" "${target#/}"
            fi
            [ "$hit" -eq 1 ] || [ "$hit2" -eq 1 ] || break
        done
    done
done
echo "$runs runs, $fired with a fault fired, $errors ended in an error"
check "some faults fired" test "$fired" -gt 20
check "some ended in an error" test "$errors" -gt 10
finish

#!/usr/bin/env bash
# test_diskfull.sh - a full disk while writing the journal or committing the
# cache: clear error naming the file, non-zero exit, the committed cache
# untouched, and the next run completes. Needs the enospc.so injector as $4.
. "$(dirname "$0")/lib.sh"
INJ=${4:?path to enospc.so}
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"

D="$T/data"
mkdir -p "$D"
cp -r "$FACES/examples/obama" "$FACES/examples/biden" "$D/"
"$FA" index "$D" -o "$T/c" -q >/dev/null
before=$(cat "$T/c/meta.json")
cp "$FACES/examples/rose_leslie/img1.jpg" "$D/biden/new.jpg"

for target in journal manifest. embeddings. meta.json; do
    err=$(LD_PRELOAD="$INJ" FA_ENOSPC_MATCH="$target" "$FA" index "$D" -o "$T/c" -q 2>&1); rc=$?
    check_eq "disk full on $target: exit 1" "$rc" 1
    check_contains "disk full on $target: says so" "$err" "No space left on device"
    check_contains "disk full on $target: names the file" "$err" "$target"
    check_eq "disk full on $target: committed cache untouched" "$(cat "$T/c/meta.json")" "$before"
    check "disk full on $target: cache still opens" bash -c "'$FA' info '$T/c' >/dev/null"
done
out=$("$FA" index "$D" -o "$T/c" -q); rc=$?
check_eq "after the disk is freed, the run completes" "$rc" 0
check_eq "the new file is in" "$(info_field "$T/c" files)" 6
finish

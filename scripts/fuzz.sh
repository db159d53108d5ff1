#!/usr/bin/env bash
# fuzz.sh [--seconds N] [--runs N] [HARNESS...] - builds the libFuzzer
# harnesses of tests/fuzz (clang, ASan + UBSan, plain-C readers only) in
# build-fuzz/ and runs each (default: all) for N seconds (default 600) or N
# executions, whichever comes first. The corpus of each grows in
# build-fuzz/corpus/HARNESS, seeded from tests/fuzz/seeds and ../shared/hostile.
# Prints one line per harness: executions, coverage (cov/ft), and whether it
# found anything; a crash, leak or oracle failure leaves its input in
# build-fuzz/findings/ and makes the script exit 1. CI runs it with
# --seconds 10.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600 runs=-1
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) break ;;
    esac
done
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(json meta manifest npy journal image decisions findings request)
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (scripts/install-deps.sh --test)" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache)
CC=clang cmake -S . -B build-fuzz -DFA_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
hostile=$(cd .. && pwd)/shared/hostile
mkdir -p build-fuzz/findings
failed=0
for h in "${harnesses[@]}"; do
    corpus=build-fuzz/corpus/$h
    mkdir -p "$corpus"
    cp -n tests/fuzz/seeds/"$h"/* "$corpus"/ 2>/dev/null || true
    extra=()
    case "$h" in   # the hostile inputs this harness reads, as regression seeds
        manifest) extra=("$hostile/manifest_nfaces.bin") ;;
        meta|json) extra=("$hostile"/meta_*.json) ;;
        image) extra=("$hostile"/decode_*) ;;
    esac
    for f in "${extra[@]}"; do [ -f "$f" ] && cp -n "$f" "$corpus"/; done
    log=build-fuzz/fuzz_$h.log
    rc=0
    ASAN_OPTIONS=detect_leaks=1 build-fuzz/tests/fuzz/fuzz_"$h" -max_total_time="$seconds" -runs="$runs" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/findings/"$h"- \
        "$corpus" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    if [ "$rc" -eq 0 ]; then verdict="0 findings"; else verdict="FOUND (exit $rc, see $log)"; failed=1; fi
    printf '%-9s %12s executions  %-20s %s\n' "$h" "${execs:-?}" "${last:-?}" "$verdict"
    [ "$rc" -eq 0 ] || grep -E 'ERROR|oracle failed|SUMMARY' "$log" | head -5 >&2
done
exit $failed

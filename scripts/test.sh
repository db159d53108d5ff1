#!/usr/bin/env bash
# test.sh - builds faceaudit twice (normal, and with AddressSanitizer +
# UndefinedBehaviorSanitizer) and runs the whole test suite in each. The
# models are fetched once (from ../shared/models, the encoder rebuilt from
# face-api's weights) and shared by both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
phase() { echo "test.sh: $1 at ${SECONDS}s"; }   # where CI's time goes
scripts/install-deps.sh --test
phase "dependencies installed"
shared=$(cd .. && pwd)/shared
export FACEAUDIT_TEST_MODELS=$PWD/build/models
export FA_TEST_CACHE_DIR=$PWD/build/datasets
jobs=$(nproc)

scripts/build.sh build -DFA_SHARED="$shared"
phase "normal build done"
(cd build && ctest --output-on-failure -j1 --timeout 1500)
phase "normal tests done"

scripts/build.sh build-asan -DFA_SANITIZE=ON -DFA_SHARED="$shared"
phase "sanitizer build done"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j1 --timeout 1500 ${FA_ASAN_CTEST_ARGS:-})
phase "sanitizer tests done"

# The libFuzzer harnesses (issue 13), briefly: a clang build of the readers
# alone; scripts/fuzz.sh without --seconds runs them long.
scripts/fuzz.sh --seconds "${FA_FUZZ_SECONDS:-10}"
phase "fuzzing done"

#!/usr/bin/env bash
# test_mpi.sh - `mpirun -n P faceaudit audit` writes what the single-process
# audit writes: pairs.csv byte for byte, report.json and report.html equal
# but for the timings, for P = 1, 2, 3 (oversubscribed on this machine), on
# the kpop_idols cache and on a synthetic cache of 8,000 faces; also with
# --ivf. Killing one rank fails the run with mpirun's message
# and leaves no report behind. Usage: test_mpi.sh FACEAUDIT MODELS SHARED MPIEXEC
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
MPIEXEC=${4:?mpiexec}
# CI runs as root; Open MPI refuses root without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI's own allocations are not ours to chase (lsan_mpi.supp); its
# components stay loaded so that their frames have names to suppress by.
# Open MPI is built without frame pointers: LeakSanitizer needs the slow
# unwinder to see its frames.
export OMPI_MCA_mca_base_component_disable_dlclose=1
[ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$HERE/lsan_mpi.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
MPI=("$MPIEXEC" --oversubscribe --bind-to none)
# LeakSanitizer's end-of-run check stops every thread with ptrace; on some
# machines its tracer itself crashes at the exit of an Open MPI rank ("Tracer
# caught signal 11 ... LeakSanitizer has encountered a fatal error"), with
# code that passed there an hour before. The ranks keep ASan and UBSan but
# not the leak check; the single-process audits below keep all three.
RANK_ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:detect_leaks=0}
for v in LSAN_OPTIONS UBSAN_OPTIONS; do [ -n "${!v:-}" ] && MPI+=(-x "$v"); done
[ -n "$RANK_ASAN_OPTIONS" ] && MPI+=(-x "ASAN_OPTIONS=$RANK_ASAN_OPTIONS")

# Timings differ between any two runs; everything else must not.
strip_times() { sed -E 's/"(search|calibration|audit)_seconds": *[0-9.eE+-]+/"\1_seconds": T/g; s/[0-9]+\.[0-9]+ s\b/T s/g' "$1"; }
same_outputs() {   # same_outputs DIR_A DIR_B: pairs.csv identical, JSON and HTML but for timings
    cmp -s "$1/pairs.csv" "$2/pairs.csv" &&
        cmp -s <(strip_times "$1/report.json") <(strip_times "$2/report.json") &&
        { [ ! -f "$1/report.html" ] || cmp -s <(strip_times "$1/report.html") <(strip_times "$2/report.html"); }
}

compare_ranks() {   # compare_ranks NAME CACHE "audit options" RANKS...
    local name=$1 cache=$2 opts=$3; shift 3
    "$FA" audit "$cache" -o "$T/$name.plain" -q $opts >"$T/$name.plain.log" 2>&1
    check "$name: plain audit runs" test -s "$T/$name.plain/pairs.csv"
    for p in "$@"; do
        "${MPI[@]}" -n "$p" "$FA" audit "$cache" -o "$T/$name.np$p" -q $opts >"$T/$name.np$p.log" 2>&1
        local rc=$?
        check_eq "$name: mpirun -n $p exits 0" "$rc" 0
        [ "$rc" = 0 ] || cat "$T/$name.np$p.log" >&2
        check "$name: mpirun -n $p writes the single-process outputs" same_outputs "$T/$name.plain" "$T/$name.np$p"
        check "$name: mpirun -n $p leaves no staging folder" test -z "$(ls -A "$T/$name.np$p" | grep partial)"
    done
}

# --- a dataset of ../shared/faces: kpop_idols ----------------------------------
KPOP=${FA_TEST_CACHE_DIR:-/nonexistent}/kpop_idols
if [ ! -f "$KPOP/meta.json" ]; then    # the datasets test keeps it there; else make it
    KPOP=$T/kpop_idols
    "$FA" index "$FACES/kpop_idols" -o "$KPOP" -q >/dev/null 2>&1
fi
check "kpop_idols cache present" test -f "$KPOP/meta.json"
compare_ranks kpop "$KPOP" "--html-limit 8 --threads 1" 1 2 3
pairs=$(($(wc -l <"$T/kpop.plain/pairs.csv") - 1))
check "kpop: the audit found pairs to compare ($pairs)" test "$pairs" -gt 50
log=$(cat "$T/kpop.np3.log")
check_contains "kpop: rank 0 reports how the search was shared" "$log" "mpi: 3 ranks; pair search"
check_eq "kpop: one summary (rank 0 only)" "$(grep -c 'wrote ' "$T/kpop.np3.log")" 1
compare_ranks kpop-ivf "$KPOP" "--html-limit 0 --ivf 8" 2

# --- a synthetic cache: 8,000 faces, 140 folders, planted errors -------------------
"$PY" "$HERE/../../bench/synth.py" "$T/s8k" --n 8000 --ids 140 >/dev/null
"$PY" "$HERE/mkcache.py" "$T/s8k" "$T/synth"
check "synthetic cache readable" "$FA" info "$T/synth"
compare_ranks synth "$T/synth" "--html-limit 0" 1 2 3
pairs=$(($(wc -l <"$T/synth.plain/pairs.csv") - 1))
check "synth: the audit found pairs to compare ($pairs)" test "$pairs" -gt 200

# --- a failing rank: a bad cache on every rank fails cleanly ------------------------
out=$("${MPI[@]}" -n 2 "$FA" audit "$T/nowhere" -o "$T/bad" -q 2>&1); rc=$?
check "missing cache: mpirun fails" test "$rc" -ne 0
check_contains "missing cache: the message names it" "$out" "$T/nowhere: no faceaudit cache"

# --- killing one rank: the run fails, nothing is written -----------------------------
# Rank 1 is killed once it has used CPU time (past MPI_Init, in the audit):
# killing a process inside MPI_Init can hang Open MPI 4.1's launcher itself.
"$PY" "$HERE/../../bench/synth.py" "$T/s40k" --n 40000 --ids 700 >/dev/null
"$PY" "$HERE/mkcache.py" "$T/s40k" "$T/big"
"${MPI[@]}" -n 2 "$FA" audit "$T/big" -o "$T/killed" -q --html-limit 0 >"$T/kill.log" 2>&1 &
mpirun_pid=$!
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
victim=""
for _ in $(seq 1200); do     # rank 1 of this job, found by its environment
    if [ -z "$victim" ]; then
        for p in $(pgrep -f "audit $T/big" || true); do
            tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$p
        done
    fi
    [ -n "$victim" ] && [ "$(cpu_ticks "$victim")" -ge 50 ] && break
    sleep 0.05
done
check "rank 1 found and working" test -n "$victim"
[ -n "$victim" ] && kill -9 "$victim"
hung=1
for _ in $(seq 600); do kill -0 "$mpirun_pid" 2>/dev/null || { hung=0; break; }; sleep 0.1; done
[ "$hung" = 1 ] && kill -9 "$mpirun_pid"
wait "$mpirun_pid"; rc=$?
check_eq "killed rank: mpirun ends by itself" "$hung" 0
check "killed rank: mpirun exits non-zero ($rc)" test "$rc" -ne 0
check_contains "killed rank: mpirun names the rank and the signal" "$(cat "$T/kill.log")" "rank 1 .*signal 9"
for f in pairs.csv report.json report.html; do
    check "killed rank: no $f written" test ! -e "$T/killed/$f"
done
finish

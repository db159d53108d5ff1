#!/usr/bin/env bash
# bench_mpi.sh [BUILD_DIR] - the audit in one process against `mpirun -n P`
# on the same synthetic cache (bench/synth.py, N faces, default 57,637),
# calibrated threshold, no HTML. Prints, medians of RUNS runs (default 3),
# all in one run on the same machine (shared and noisy: compare the ratios):
#   whole audit wall time (process start to exit, mpirun included),
#   the pair search alone (report.json's search_seconds: for MPI, the share of
#   the slowest rank plus the gather), and the sgemm rate per rank from the
#   "mpi:" line. Needs mpirun (openmpi-bin) and /usr/bin/python3 with numpy.
set -euo pipefail
B=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
N=${N:-57637}
RUNS=${RUNS:-3}
T=$(mktemp -d /tmp/fa-bench-mpi-XXXXXX)
trap 'rm -rf "$T"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$PY" "$HERE/synth.py" "$T/s" --n "$N" --ids $((N / 57)) >/dev/null
"$PY" "$HERE/../tests/cli/mkcache.py" "$T/s" "$T/cache"
echo "faceaudit audit, $N synthetic faces, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), medians of $RUNS"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
run_one() {   # run_one LABEL PROCS THREADS -> appends "wall search gflops_per_rank" to $T/LABEL
    local label=$1 p=$2 t=$3
    local cmd=("$B/faceaudit" audit "$T/cache" -o "$T/out" -q --html-limit 0 --threads "$t")
    [ "$p" -gt 0 ] && cmd=(mpirun --oversubscribe --bind-to none -n "$p" "${cmd[@]}")
    local t0 t1
    t0=$(date +%s.%N)
    "${cmd[@]}" >"$T/log" 2>&1 || { cat "$T/log" >&2; exit 1; }
    t1=$(date +%s.%N)
    local search gf
    search=$(sed -n 's/.*"search_seconds": *\([0-9.eE+-]*\).*/\1/p' "$T/out/report.json" | head -1)
    gf=$(sed -n 's/.* \([0-9.]*\) GFLOP\/s per rank.*/\1/p' "$T/log")
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $search ${gf:-0}" >>"$T/$label"
    cp "$T/out/pairs.csv" "$T/pairs.$label"
}
configs=("plain-1thread 0 1" "plain-2threads 0 2" "mpirun-n1 1 1" "mpirun-n2 2 1" "mpirun-n4-oversubscribed 4 1")
for r in $(seq "$RUNS"); do
    for c in "${configs[@]}"; do run_one $c; done     # interleaved: load changes hit every config alike
done
printf '%-26s %10s %10s %14s %12s %10s\n' config wall_s search_s search_speedup GFLOP/s/rank same_pairs
base=$(cut -d' ' -f2 "$T/plain-1thread" | median)
for c in "${configs[@]}"; do
    set -- $c
    w=$(cut -d' ' -f1 "$T/$1" | median)
    s=$(cut -d' ' -f2 "$T/$1" | median)
    g=$(cut -d' ' -f3 "$T/$1" | median)
    same=$(cmp -s "$T/pairs.$1" "$T/pairs.plain-1thread" && echo yes || echo NO)
    printf '%-26s %10.2f %10.3f %13.2fx %12s %10s\n' "$1" "$w" "$s" "$(awk -v a="$base" -v b="$s" 'BEGIN { print a / b }')" "$g" "$same"
done

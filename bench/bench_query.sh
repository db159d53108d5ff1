#!/bin/bash
# bench_query.sh - how fast `faceaudit query` answers against a 57,637-face cache.
#
# usage: bench/bench_query.sh [BUILD_DIR] [MODELS_DIR] [SHARED_DIR] [PHOTO]
#   BUILD_DIR   where faceaudit and libfaceaudit_core.a are (default /tmp/b3)
#   MODELS_DIR  default $FACEAUDIT_MODELS or /tmp/models
#   SHARED_DIR  default ../shared next to the repository
#   PHOTO       default SHARED/faces/probes/obama-720p.jpg
#
# Builds a synthetic cache (bench/synth.py vectors, committed with
# fa_cache_commit by bench/bench_query.c, recording the real models so the
# tool accepts it), then measures:
#   - end to end: wall time of `faceaudit query CACHE PHOTO`, model loading
#     included, median of 5 runs (plus one --timing breakdown);
#   - search only: fa_search_topk per query face (k=10), first query after
#     opening the cache (page faults of the mapping) and median of 200;
#   - faiss IndexFlatL2 on the same vectors and queries (python3-faiss),
#     and how many of the top-10 rows the two agree on.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
B=${1:-/tmp/b3}
MODELS=${2:-${FACEAUDIT_MODELS:-/tmp/models}}
SHARED=${3:-$REPO/../shared}
PHOTO=${4:-$SHARED/faces/probes/obama-720p.jpg}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/fa_bench_query.XXXXXX")
trap 'rm -rf "$T"' EXIT
die() { echo "bench_query: $*" >&2; exit 1; }

cc -std=c11 -O2 -fopenmp -D_GNU_SOURCE -I"$REPO/include" -I"$REPO/src" "$REPO/bench/bench_query.c" \
    "$REPO/src/search.c" "$B/libfaceaudit_core.a" -lopenblas -lm -o "$T/bench_query" || die "cannot build bench_query"
"$PY" "$REPO/bench/synth.py" "$T/synth" > /dev/null || die "synth.py failed"

# The models the cache says it was made with: names and sums of MODELS_DIR's files.
args=()
for f in mmod_human_face_detector.dat shape_predictor_68_face_landmarks.dat \
         dlib_face_recognition_resnet_model_v1.dat dlib_face_recognition_resnet_model_v1_faceapi.dat; do
    [ -f "$MODELS/$f" ] || continue
    case $f in dlib_face_recognition_resnet_model_v1_faceapi.dat) [ ${#args[@]} -eq 6 ] && continue ;; esac
    args+=("$f" "$(sha256sum "$MODELS/$f" | cut -c1-64)")
done
[ ${#args[@]} -eq 6 ] || die "$MODELS lacks a detector, the 68-point landmarks or an encoder"
"$T/bench_query" mkcache "$T/synth" "$T/cache" "$T/root" "${args[@]}" > /dev/null || die "mkcache failed"

# --- search only ----------------------------------------------------------------------
"$T/bench_query" search "$T/cache" "$T" 200 10 > "$T/search.txt" || die "search bench failed"
have_faiss=1
"$PY" "$REPO/bench/faiss_flat.py" "$T/cache" "$T" 10 > "$T/faiss.txt" 2> "$T/faiss.err" || have_faiss=0
val() { awk -v k="$2" '$1 ~ "^"k"$" {print $2}' "$1"; }

# --- end to end -------------------------------------------------------------------------
export FACEAUDIT_MODELS=$MODELS
"$B/faceaudit" query "$T/cache" "$PHOTO" > /dev/null 2>&1    # warms the page cache and model sums
times=()
for i in 1 2 3 4 5; do
    t0=$(date +%s%N)
    "$B/faceaudit" query "$T/cache" "$PHOTO" > /dev/null 2>&1 || die "faceaudit query failed"
    t1=$(date +%s%N)
    times+=("$(( (t1 - t0) / 1000000 ))")
done
e2e=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
breakdown=$("$B/faceaudit" query "$T/cache" "$PHOTO" --timing 2>&1 >/dev/null | grep '^timing:')

nt=$(awk '$1 ~ /^warm_[0-9]+threads_ms$/ {sub("warm_", "", $1); sub("threads_ms", "", $1); print $1}' "$T/search.txt")
echo "faceaudit query, $(val "$T/search.txt" faces) faces x $(val "$T/search.txt" dim) (synthetic), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %10s %8s\n' "measure" "time" "target"
printf '%-44s %8s ms %8s\n' "end to end, one photo (median of 5: ${times[*]})" "$e2e" "1500 ms"
printf '%-44s %8s ms\n' "cache open (parse manifest, map embeddings)" "$(val "$T/search.txt" open_ms)"
printf '%-44s %8s ms\n' "search, first query after open (page faults)" "$(val "$T/search.txt" cold_ms)"
printf '%-44s %8s ms %8s\n' "search, 1 thread (median of 200)" "$(val "$T/search.txt" warm_1thread_ms)" "5 ms"
printf '%-44s %8s ms\n' "search, $nt threads (median of 200)" "$(val "$T/search.txt" "warm_${nt}threads_ms")"
if [ $have_faiss = 1 ]; then
    fnt=$(awk '$1 ~ /^faiss_[0-9]+threads_ms$/ {sub("faiss_", "", $1); sub("threads_ms", "", $1); print $1}' "$T/faiss.txt")
    printf '%-44s %8s ms\n' "faiss $(val "$T/faiss.txt" faiss_version) IndexFlatL2, 1 thread" "$(val "$T/faiss.txt" faiss_1thread_ms)"
    printf '%-44s %8s ms\n' "faiss IndexFlatL2, $fnt threads" "$(val "$T/faiss.txt" "faiss_${fnt}threads_ms")"
    echo "top-10 rows that faiss and faceaudit agree on: $(val "$T/faiss.txt" agree)"
else
    echo "faiss: not available ($(tail -1 "$T/faiss.err")); apt-get install python3-faiss"
fi
echo "$breakdown"

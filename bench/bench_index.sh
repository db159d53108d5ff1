#!/usr/bin/env bash
# bench_index.sh [BUILD_DIR] [MODELS_DIR] [SHARED_DIR] - indexing speed of
# faceaudit against a naive reference built from the same models (one thread,
# full-resolution detection, no upsampling, one image at a time), in one run:
# images/s, per-stage ms per image, faces found and peak RSS, with ratios.
# RUNS (default 3) runs per cell; the table shows medians. The networks'
# arithmetic per second is compared with OpenBLAS sgemm on all cores (the
# FLOP ceiling), measured in the same run.
# NOGI_LIMIT (default 120) images of nogizaka46 (the reference needs ~1 s each),
# CELEBA_LIMIT (default 300) of celeba_aligned. The crop sets also run with
# the aligned-crop policy (index --aligned), and faceaudit once more with
# FACEAUDIT_NO_DIRECT_CONV=1 (the detector on OpenCV's dnn for every layer,
# without the direct AVX-512 convolutions: the step before them).
# FA_BENCH_ENCODER=mobilefacenet measures that encoder instead of dlib's.
set -euo pipefail
B=${1:-build}; M=${2:-${FACEAUDIT_MODELS:-$HOME/.local/share/faceaudit/models}}; S=${3:-../shared}
RUNS=${RUNS:-3}
BIN="$B/bench/bench_index"
[ -x "$BIN" ] || { echo "build first: cmake --build $B --target bench_index" >&2; exit 1; }

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

run_cell() {   # run_cell MODE ROOT LIMIT -> prints median line fields
    local out="" i
    for i in $(seq "$RUNS"); do out+="$("$BIN" "$1" "$2" "$M" "$3")"$'\n'; done
    local f
    for f in files faces with_face seconds ips decode_ms detect_ms encode_ms rss_mb enc_ms_face gflop; do
        printf '%s=%s ' "$f" "$(grep -v '^$' <<<"$out" | field "$f" | median)"
    done
    echo
}

# The FLOP ceiling: OpenBLAS sgemm on every core, measured in this run.
peak=$("$B/bench/bench_join" --peak "$(nproc)" | field gflops)
echo "FLOP ceiling: sgemm ${peak} GFLOP/s on $(nproc) threads"
loads=$(for i in $(seq "$RUNS"); do "$BIN" load "$S/faces/examples" "$M" 0 | field load_ms; done | median)
echo "model load (detector, landmarks, encoder, until ready): ${loads} ms, median of $RUNS"
printf '%-12s %-9s %6s %6s %6s %8s %7s %8s %8s %8s %7s\n' dataset mode files faces w/face seconds img/s \
    decode_ms detect_ms encode_ms rss_MB
# dataset, limit, crop set (also --aligned), small faces (the reference also
# with images enlarged 2x: at 1x it finds almost none)
for ds in "kpop_idols 0 1 0" "celeba_aligned ${CELEBA_LIMIT:-300} 1 1" "nogizaka46 ${NOGI_LIMIT:-120} 0 0"; do
    set -- $ds
    ref=$(run_cell reference "$S/faces/$1" "$2")
    ref2=""
    [ "$4" = 1 ] && ref2=$(run_cell reference2x "$S/faces/$1" "$2")
    ours=$(run_cell ours "$S/faces/$1" "$2")
    dnn=$(FACEAUDIT_NO_DIRECT_CONV=1 run_cell ours "$S/faces/$1" "$2")
    lines=("reference|$ref")
    [ -n "$ref2" ] && lines+=("ref-2x|$ref2")
    lines+=("faceaudit|$ours" "dnn-only|$dnn")
    if [ "$3" = 1 ]; then
        al=$(run_cell aligned "$S/faces/$1" "$2")
        lines+=("--aligned|$al")
    fi
    for line in "${lines[@]}"; do
        IFS='|' read -r mode l <<<"$line"
        printf '%-12s %-9s %6s %6s %6s %8s %7s %8s %8s %8s %7s\n' "$1" "$mode" "$(field files <<<"$l")" \
            "$(field faces <<<"$l")" "$(field with_face <<<"$l")" "$(field seconds <<<"$l")" "$(field ips <<<"$l")" \
            "$(field decode_ms <<<"$l")" "$(field detect_ms <<<"$l")" "$(field encode_ms <<<"$l")" "$(field rss_mb <<<"$l")"
    done
    printf '%-12s speed-up %.1fx (images/s), faces %s vs %s; OpenCV dnn only %.1fx\n' "$1" \
        "$(awk -v a="$(field ips <<<"$ours")" -v b="$(field ips <<<"$ref")" 'BEGIN { print a / b }')" \
        "$(field faces <<<"$ours")" "$(field faces <<<"$ref")" \
        "$(awk -v a="$(field ips <<<"$dnn")" -v b="$(field ips <<<"$ref")" 'BEGIN { print a / b }')"
    if [ -n "$ref2" ]; then printf '%-12s against the 2x reference: faceaudit %.1fx, --aligned %.1fx (images/s), faces %s, %s vs %s\n' "$1" \
        "$(awk -v a="$(field ips <<<"$ours")" -v b="$(field ips <<<"$ref2")" 'BEGIN { print a / b }')" \
        "$(awk -v a="$(field ips <<<"$al")" -v b="$(field ips <<<"$ref2")" 'BEGIN { print a / b }')" \
        "$(field faces <<<"$ours")" "$(field faces <<<"$al")" "$(field faces <<<"$ref2")"; fi
    if [ "$3" = 1 ]; then printf '%-12s --aligned speed-up %.1fx (images/s), faces %s vs %s\n' "$1" \
        "$(awk -v a="$(field ips <<<"$al")" -v b="$(field ips <<<"$ref")" 'BEGIN { print a / b }')" \
        "$(field faces <<<"$al")" "$(field faces <<<"$ref")"; fi
    printf '%-12s encoder (%s) ms per face: faceaudit %s, reference %s\n' "$1" "${FA_BENCH_ENCODER:-dlib}" \
        "$(field enc_ms_face <<<"$ours")" "$(field enc_ms_face <<<"$ref")"
    printf '%-12s networks: %s GFLOP in %s s = %.1f GFLOP/s, %.0f%% of the FLOP ceiling\n' "$1" \
        "$(field gflop <<<"$ours")" "$(field seconds <<<"$ours")" \
        "$(awk -v g="$(field gflop <<<"$ours")" -v s="$(field seconds <<<"$ours")" 'BEGIN { print g / s }')" \
        "$(awk -v g="$(field gflop <<<"$ours")" -v s="$(field seconds <<<"$ours")" -v p="$peak" 'BEGIN { print 100 * g / s / p }')"
done

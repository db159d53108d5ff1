#!/usr/bin/env bash
# test_hostile.sh - the tool against ../shared/hostile (issue 13): caches
# whose manifests lie about their faces, meta.json with out-of-range
# detection parameters, images declaring 2^32-pixel sides. Each ends in
# exit 1 and exactly the message asserted (whole text, so garbling cannot
# come back), or in the correct status; a cache is never changed by a
# refused command. The inputs are copied first: the shared folder is read-only.
. "$(dirname "$0")/lib.sh"

H="$SHARED/hostile"
cp -a "$H" "$T/h" && chmod -R u+w "$T/h" || { echo "cannot copy $H"; exit 1; }

# run_fail "what" expected-message command... : exit 1, that message on stderr, nothing on stdout
run_fail() {
    local what=$1 want=$2; shift 2
    local out rc
    out=$("$@" 2>"$T/err"); rc=$?
    check_eq "$what: exit status" "$rc" 1
    check_eq "$what: message" "$(cat "$T/err")" "$want"
    check_eq "$what: no output" "$out" ""
}

O="$T/h/cache_audit_overlap"
run_fail "audit of overlapping face rows" \
    "faceaudit: $O/manifest.1.tsv:3: alex_lacamoire/alex-lacamoire.png has 1 face rows, its nfaces says 12" \
    "$FA" audit "$O"
run_fail "info of overlapping face rows" \
    "faceaudit: $O/manifest.1.tsv:3: alex_lacamoire/alex-lacamoire.png has 1 face rows, its nfaces says 12" \
    "$FA" info "$O"

N="$T/h/cache_index_nfaces1000"
before=$(cd "$N" && sha256sum meta.json manifest.1.tsv embeddings.1.npy)
last=$(wc -l <"$N/manifest.1.tsv")
run_fail "index into a cache whose last file claims 1000 faces" \
    "faceaudit: index $FACES/examples: cannot update the existing cache: $N/manifest.1.tsv:$last: $(awk -F'\t' 'END { print $3 }' "$N/manifest.1.tsv") has 1 face rows, its nfaces says 1000 (use --rebuild to start over)" \
    "$FA" index "$FACES/examples" -o "$N" -q
check_eq "the refused cache is unchanged" "$(cd "$N" && sha256sum meta.json manifest.1.tsv embeddings.1.npy)" "$before"

for m in max_pixels:meta_max_pixels.json chip_size:meta_chip_size.json; do
    key=${m%%:*} file=${m#*:}
    mkdir -p "$T/m_$key" && cp "$T/h/$file" "$T/m_$key/meta.json"
    run_fail "meta.json with detect.$key out of range" \
        "faceaudit: $T/m_$key/meta.json: \"detect.$key\" missing or out of range" "$FA" info "$T/m_$key"
done

# Images declaring sides whose product overflows 64 bits: too_large, not unreadable.
mkdir -p "$T/root/p"
cp "$T/h/decode_png_overflow.png" "$T/h/decode_tiff_overflow.tif" "$T/root/p/"
"$FA" index "$T/root" -o "$T/ic" -q >/dev/null 2>"$T/err"; rc=$?
check_eq "index of the overflowing headers succeeds" "$rc" 0
row() { awk -F'\t' -v p="$1" '$3 == p { print $6 "\t" $17 }' "$T/ic/manifest.tsv"; }
check_eq "png 2^32 sides" "$(row p/decode_png_overflow.png)" $'too_large\t3170172928x4294967260 pixels declared, limit 80000000'
check_eq "tiff 2^32 sides" "$(row p/decode_tiff_overflow.tif)" $'too_large\t4294957823x3758127616 pixels declared, limit 80000000'
finish

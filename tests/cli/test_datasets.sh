#!/usr/bin/env bash
# test_datasets.sh - index the real datasets: kpop_idols (365 tight crops) and
# nogizaka46 (860 web photos up to 1600 px, Japanese folder names, extensions
# that lie, byte-identical copies, group photos). Counts and statuses as the
# data's README describes them. With FA_TEST_CACHE_DIR set, the caches are
# kept there for the audit tests.
. "$(dirname "$0")/lib.sh"
C=${FA_TEST_CACHE_DIR:-$T}
mkdir -p "$C"

# Duplicate groups by content hash: sha256 values on more than one file.
dup_groups() { awk -F'\t' 'NR > 1 && $4 <= 0 && $16 != "" { n[$16]++ } END { k = 0; for (h in n) if (n[h] > 1) k++; print k }' "$1/manifest.tsv"; }
share_ok() { "$PY" -c "import sys; sys.exit(not $1 >= $2 * $3)"; }

# kpop_idols: 15 folders, 365 images, 98-99% with a detectable face.
out=$("$FA" index "$FACES/kpop_idols" -o "$C/kpop_idols" -q); rc=$?
check_eq "kpop_idols: index exits 0" "$rc" 0
check_eq "kpop_idols: files" "$(info_field "$C/kpop_idols" files)" 365
check_eq "kpop_idols: folders" "$(info_field "$C/kpop_idols" folders)" 15
ok=$(status_count "$C/kpop_idols" ok)
check "kpop_idols: >= 97% of images have a face ($ok/365)" share_ok "$ok" 0.97 365
check_eq "kpop_idols: nothing unreadable" "$(status_count "$C/kpop_idols" unreadable)" 0
check_eq "kpop_idols: its 11 duplicate pairs hash alike" "$(dup_groups "$C/kpop_idols")" 11

# nogizaka46: 7 folders with Japanese names, 860 files.
out=$("$FA" index "$FACES/nogizaka46" -o "$C/nogizaka46" -q); rc=$?
check_eq "nogizaka46: index exits 0" "$rc" 0
check_eq "nogizaka46: files" "$(info_field "$C/nogizaka46" files)" 860
check_eq "nogizaka46: folders" "$(info_field "$C/nogizaka46" folders)" 7
for name in 堀未央奈 生田絵梨花 生駒里奈 白石麻衣 秋元康 西野七瀬 齋藤飛鳥; do
    check "nogizaka46: folder $name in the manifest" grep -q -P "^\d+\t$name\t" "$C/nogizaka46/manifest.tsv"
done
ok=$(status_count "$C/nogizaka46" ok)
check "nogizaka46: >= 97% of images have a face ($ok/860)" share_ok "$ok" 0.97 860
check_eq "nogizaka46: files whose extension lies are decoded (none unreadable)" \
    "$(status_count "$C/nogizaka46" unreadable)" 0
check_eq "nogizaka46: nothing unsupported" "$(status_count "$C/nogizaka46" unsupported)" 0
check_eq "nogizaka46: its 34 groups of byte-identical files" "$(dup_groups "$C/nogizaka46")" 34
multi=$("$FA" info "$C/nogizaka46" | awk '$1 == "multi-face" { print $2 }')
check "nogizaka46: group photos have several faces ($multi files)" test "$multi" -ge 6
# asuka023 = ikoma007 = ikuta002 = nanase019: one photo, four folders, one hash.
h=$(awk -F'\t' 'NR > 1 && $3 ~ /asuka023\./ { print $16; exit }' "$C/nogizaka46/manifest.tsv")
check_eq "nogizaka46: asuka023's group photo is in four folders" \
    "$(awk -F'\t' -v h="$h" 'NR > 1 && $16 == h && $4 <= 0 { print $2 }' "$C/nogizaka46/manifest.tsv" | sort -u | wc -l)" 4
finish

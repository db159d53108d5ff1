#!/usr/bin/env bash
# test_imagecopy.sh - the whole image's thumbnail (cache.h, thumb.h): a small
# resized copy whose face pixels no longer tell it is told by its image.
#
# A tree of celeba_aligned crops with one photo scaled to 80% (71x87 px) into
# another person's folder: on so small a face the landmarks move and its face
# thumbnails correlate under 0.98 with the source's. The index stores one
# image thumbnail per file; the audit lists the copy as a duplicate for
# review, kept against its source, by its whole image; without the image
# thumbnails (a cache made before them) it does not. Indexing such an old
# cache decodes the unchanged files again for their image thumbnails only,
# and a file changed in place under the same size and time is indexed anew.
. "$(dirname "$0")/lib.sh"

A="$FACES/celeba_aligned"
mkdir -p "$T/tree"
for d in 1729 3588 $(ls "$A" | head -8); do
    mkdir -p "$T/tree/$d"
    for f in $(ls "$A/$d" | head -3); do cp "$A/$d/$f" "$T/tree/$d/"; done
done
"$PY" - "$A/1729/004863.jpg" "$T/tree/3588/004863 (small).jpg" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
im.resize((im.width * 4 // 5, im.height * 4 // 5), Image.LANCZOS).save(sys.argv[2], quality=75)
PY
nfiles=$(find "$T/tree" -type f | wc -l)

out=$("$FA" index "$T/tree" -o "$T/c" -q 2>&1)
check_eq "index exits 0" "$?" 0
check_contains "meta.json names the image thumbnails" "$(cat "$T/c/meta.json")" '"image_thumbs": "imagethumbs\.[0-9]*\.npy"'
rows=$("$PY" - "$T/c" <<'PY'
import sys, numpy as np
a = np.load(sys.argv[1] + "/imagethumbs.npy")
ok = sum(1 for l in open(sys.argv[1] + "/manifest.tsv", encoding="utf-8").readlines()[1:] if l.split("\t")[5] == "ok")
print(a.shape[0], a.shape[1], int((a.reshape(len(a), -1).max(1) > 0).sum()) >= ok)
PY
)
check_eq "one image thumbnail of 16x16 bytes per file, one for every file with a face" "$rows" "$nfiles 256 True"
check_contains "info counts them" "$("$FA" info "$T/c")" "^thumbnails  faces $nfiles of $nfiles, images $nfiles of $nfiles files$"

copy_finding() {   # copy_finding CACHE -> "review thumb_corr image_corr other_path" or "none"
    "$PY" - "$1/findings.json" <<'PY'
import json, sys
for f in json.load(open(sys.argv[1], encoding="utf-8"))["findings"]:
    if f["kind"] == "duplicate" and f["path"] == "3588/004863 (small).jpg":
        e = f["evidence"]
        print(int(f["review"]), e["thumb_corr"], e["image_corr"], f["other_path"]); break
else:
    print("none")
PY
}
"$FA" audit "$T/c" -o "$T/a" -q >/dev/null 2>&1
check_eq "audit exits 0" "$?" 0
read -r review face image other <<<"$(copy_finding "$T/c")"
echo "  the copy: review $review, face thumbnails $face, whole images $image, kept: $other"
check_eq "the 80% copy is a duplicate for review, kept against its source" "$review $other" "1 1729/004863.jpg"
check "its whole images correlate 0.99 or more ($image)" "$PY" -c "import sys; sys.exit(not float('$image') >= 0.99)"
check "its face thumbnails alone would not tell it (correlation $face < 0.98)" \
    "$PY" -c "import sys; sys.exit(not float('$face') < 0.98)"
check_contains "findings.csv has the image_corr column" "$(head -1 "$T/a/findings.csv")" ",thumb_corr,image_corr,"
check_contains "its summary gives the whole images' correlation" "$(grep -F '004863 (small)' "$T/a/findings.csv")" \
    "whole images 0\.99"

# A cache made before image thumbnails: no such evidence, no such finding.
cp -a "$T/c" "$T/old"
sed -i '/"image_thumbs"/d' "$T/old/meta.json"
check_contains "info says an old cache has none, and what makes them" "$("$FA" info "$T/old")" \
    "images 0 of $nfiles files (a cache made before image thumbnails: .index. makes them)"
out=$("$FA" audit "$T/old" -o "$T/a2" -q 2>&1)
check_eq "without image thumbnails the copy is not found as one" "$(copy_finding "$T/old")" "none"
check_contains "the audit says what the old cache lacks, and what adds it" "$out" \
    "this cache has no image thumbnails (made before them): copies told by their whole image (resized) may be missed; .faceaudit index. adds them"
check "a cache with them says nothing of it" bash -c "! '$FA' audit '$T/c' -o '$T/a4' -q 2>&1 | grep -q 'has no .*thumbnails'"

# --no-image-refresh leaves them without: nothing decoded, still no finding.
cp -a "$T/old" "$T/old2"
out=$("$FA" index "$T/tree" -o "$T/old2" --no-image-refresh 2>&1)
check_eq "--no-image-refresh: nothing encoded, nothing decoded again" \
    "$(summary_field "$out" encoded) $(grep -c 'decoded again' <<<"$out")" "0 0"
"$FA" audit "$T/old2" -o "$T/a3" -q >/dev/null 2>&1
check_eq "--no-image-refresh: the copy is still not found as one" "$(copy_finding "$T/old2")" "none"

# Indexing it again decodes the unchanged files for their image thumbnails
# only (no file is encoded), and gives the same thumbnails.
out=$("$FA" index "$T/tree" -o "$T/old" 2>&1)
check_eq "re-index of the old cache exits 0" "$?" 0
echo "$out" | sed 's/^/  /'
check_eq "no file encoded again" "$(summary_field "$out" encoded)" 0
ok=$(status_count "$T/c" ok)
check_contains "every unchanged file with a face decoded again for its image thumbnail" "$out" \
    "  $ok unchanged files decoded again for their image thumbnails"
check "the same image thumbnails as a fresh index" cmp "$T/c/imagethumbs.npy" "$T/old/imagethumbs.npy"
out=$("$FA" index "$T/tree" -o "$T/old" 2>&1)
check_eq "a third run has nothing to do" "$(summary_field "$out" encoded) $(grep -c 'decoded again' <<<"$out")" "0 0"

# A file changed in place under the same size and time, in a cache without
# image thumbnails: its bytes are not the indexed ones, so it is indexed anew.
sed -i '/"image_thumbs"/d' "$T/old/meta.json"
"$PY" - "$T/tree/3588/004863 (small).jpg" <<'PY'
import os, sys
p = sys.argv[1]; st = os.stat(p)
b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x01
open(p, "wb").write(b); os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
out=$("$FA" index "$T/tree" -o "$T/old" 2>&1)
check_eq "the changed file is encoded again, the others only decoded (and counted unchanged)" \
    "$(summary_field "$out" encoded) $(summary_field "$out" unchanged) $(grep -c 'decoded again' <<<"$out")" \
    "1 $((nfiles - 1)) 1"
finish

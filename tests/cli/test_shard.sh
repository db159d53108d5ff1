#!/usr/bin/env bash
# test_shard.sh - `index --shard K/N` and `merge`: the shards of a small tree
# (5 kpop_idols folders x 4 crops, an unreadable file and one directly in ROOT) merged in any order equal a single `index`, byte
# for byte (manifest and embeddings); the merged cache stays incremental; a
# new file lands in one shard only; merge refuses shards made with other
# models or detection settings, a missing, repeated or foreign cache.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/tree"
for d in Arin Chorong Jihyo Nayeon Umji; do
    mkdir -p "$T/tree/$d"
    ls "$FACES/kpop_idols/$d" | sort | head -4 | while read -r f; do cp "$FACES/kpop_idols/$d/$f" "$T/tree/$d/"; done
done
printf 'not a jpeg' >"$T/tree/Arin/broken.jpg"
cp "$FACES/kpop_idols/Sana/$(ls "$FACES/kpop_idols/Sana" | sort | head -1)" "$T/tree/loose.jpg"
N=3

"$FA" index "$T/tree" -o "$T/single" -q >/dev/null 2>&1
check "single index" test -f "$T/single/meta.json"
total=$(info_field "$T/single" files)
sum=0
for k in 1 2 3; do
    out=$("$FA" index "$T/tree" --shard $k/$N -o "$T/sh$k" -q 2>&1); rc=$?
    check_eq "shard $k/$N: index exits 0" "$rc" 0
    check_contains "shard $k/$N: summary names the shard" "$out" "(shard $k/$N)"
    check_contains "shard $k/$N: recorded in meta.json" "$(cat "$T/sh$k/meta.json")" "\"shard\": {\"k\": $k, \"n\": $N}"
    n=$(info_field "$T/sh$k" files)
    check "shard $k/$N: a real share ($n of $total files)" test "$n" -gt 0 -a "$n" -lt "$total"
    sum=$((sum + n))
done
check_eq "shards hold every file once" "$sum" "$total"

# Merged in any order: the single index's cache, byte for byte.
out=$("$FA" merge "$T/sh3" "$T/sh1" "$T/sh2" -o "$T/merged" 2>&1); rc=$?
check_eq "merge exits 0" "$rc" 0
check_contains "merge summary" "$out" "merged 3 shards -> $T/merged: $total files"
check "merged manifest equals the single index's" cmp "$T/single/manifest.tsv" "$T/merged/manifest.tsv"
check "merged embeddings equal the single index's" cmp "$T/single/embeddings.npy" "$T/merged/embeddings.npy"
check "merged face and image thumbnails equal the single index's" \
    cmp <(cat "$T/single/facethumbs.npy" "$T/single/imagethumbs.npy") <(cat "$T/merged/facethumbs.npy" "$T/merged/imagethumbs.npy")
check "merged meta.json equals but for the commit time" \
    cmp <(grep -v '"created"' "$T/single/meta.json") <(grep -v '"created"' "$T/merged/meta.json")
out=$("$FA" index "$T/tree" -o "$T/merged" 2>&1)
check_eq "index on the merged cache encodes nothing, nor decodes again for image thumbnails" \
    "$(summary_field "$out" encoded) $(grep -c 'decoded again' <<<"$out")" "0 0"
check_eq "index on the merged cache reuses every file (but the one in ROOT)" "$(summary_field "$out" unchanged)" \
    "$((total - $(status_count "$T/single" no_identity)))"
check_eq "index on the merged cache: nothing moved" "$(summary_field "$out" moved)" 0

# A new file goes to one shard; the others have nothing to do.
cp "$FACES/examples/kit_harington/john1.jpeg" "$T/tree/Jihyo/new_face.jpg"
encoded=0
for k in 1 2 3; do
    out=$("$FA" index "$T/tree" --shard $k/$N -o "$T/sh$k" 2>&1)
    encoded=$((encoded + $(summary_field "$out" encoded)))
    check_eq "shard $k/$N: re-run reuses its files" "$(summary_field "$out" removed)" 0
done
check_eq "the new file was encoded by exactly one shard" "$encoded" 1

# Refusals, each naming the cache at fault.
out=$("$FA" merge "$T/sh1" "$T/sh2" -o "$T/m2" 2>&1); rc=$?
check_eq "missing shard: exit 1" "$rc" 1
check_contains "missing shard: named" "$out" "shard 3/3 is missing"
out=$("$FA" merge "$T/sh1" "$T/sh2" "$T/sh2" -o "$T/m3" 2>&1)
check_contains "repeated shard: named" "$out" "$T/sh2 and $T/sh2 are both shard 2/3"
out=$("$FA" merge "$T/sh1" "$T/sh2" "$T/single" -o "$T/m4" 2>&1)
check_contains "not a shard: named" "$out" "$T/single is not a shard"
out=$("$FA" merge "$T/sh1" "$T/sh2" "$T/sh3" -o "$T/merged" 2>&1); rc=$?
check_eq "existing output: exit 1" "$rc" 1
check_contains "existing output: refused" "$out" "$T/merged already holds a cache"
check "refused merges leave no cache" test ! -e "$T/m2/meta.json" -a ! -e "$T/m3/meta.json" -a ! -e "$T/m4/meta.json"
# Other detection settings (a real run with another first-pass size).
"$FA" index "$T/tree" --shard 2/$N --detect-size 640 -o "$T/odd_detect" -q >/dev/null 2>&1
out=$("$FA" merge "$T/sh1" "$T/odd_detect" "$T/sh3" -o "$T/m5" 2>&1); rc=$?
check_eq "other detection settings: exit 1" "$rc" 1
check_contains "other detection settings: the odd shard named" "$out" "$T/odd_detect was made with other detection parameters"
# Another encoder: only one encoder is available here, so the shard's record
# of its encoder is changed to another file's sum, as another model would leave it.
cp -a "$T/sh2" "$T/odd_model"
other=$(printf 'another encoder' | sha256sum | cut -c1-64)
sed -i -E "/\"role\": \"encoder\"/ s/\"sha256\": \"[0-9a-f]{64}\"/\"sha256\": \"$other\"/" "$T/odd_model/meta.json"
out=$("$FA" merge "$T/sh1" "$T/odd_model" "$T/sh3" -o "$T/m6" 2>&1); rc=$?
check_eq "other encoder: exit 1" "$rc" 1
check_contains "other encoder: the odd shard and the model named" "$out" "$T/odd_model was made with encoder model"
# Another ROOT.
cp -a "$T/sh3" "$T/odd_root"
sed -i -E 's|"root": "[^"]*"|"root": "/elsewhere/tree"|' "$T/odd_root/meta.json"
out=$("$FA" merge "$T/sh1" "$T/sh2" "$T/odd_root" -o "$T/m7" 2>&1)
check_contains "other ROOT: named" "$out" "$T/odd_root indexed ROOT /elsewhere/tree"

# A shard cache only takes its own shard.
out=$("$FA" index "$T/tree" --shard 2/$N -o "$T/sh1" 2>&1); rc=$?
check_eq "other shard into a shard cache: exit 1" "$rc" 1
check_contains "other shard into a shard cache: said" "$out" "holds shard 1/3, this run indexes shard 2/3"
out=$("$FA" index "$T/tree" -o "$T/sh1" 2>&1)
check_contains "whole tree into a shard cache: refused" "$out" "holds shard 1/3, this run indexes the whole tree"
for bad in 0/3 4/3 3 a/b 1/0 "1/2x"; do
    "$FA" index "$T/tree" --shard "$bad" -o "$T/x" >/dev/null 2>&1; rc=$?
    check_eq "--shard $bad is a usage error" "$rc" 2
done
finish

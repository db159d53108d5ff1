#!/usr/bin/env bash
# test_incremental.sh - a second run encodes nothing; touch, add, move and
# delete each do the minimal work, and the result equals a fresh index.
. "$(dirname "$0")/lib.sh"

D="$T/data"
mkdir -p "$D"
for p in Arin Irene Lisa; do cp -r "$FACES/kpop_idols/$p" "$D/"; done
n=$(find "$D" -type f | wc -l)

out=$("$FA" index "$D" -o "$T/c" -q); check "first run" test $? -eq 0
check_eq "first run encodes all" "$(summary_field "$out" encoded)" "$n"

out=$("$FA" index "$D" -o "$T/c" -q)
check_eq "second run encodes nothing" "$(summary_field "$out" encoded)" 0
check_eq "second run reuses all" "$(summary_field "$out" unchanged)" "$n"

f=$(find "$D/Arin" -type f | sort | head -1)
touch -d '2001-01-01' "$f"
out=$("$FA" index "$D" -o "$T/c" -q)
check_eq "touch: one encoded (same bytes, so found by content)" \
    "$(( $(summary_field "$out" encoded) + $(summary_field "$out" moved) ))" 1
check_eq "touch: rest unchanged" "$(summary_field "$out" unchanged)" "$((n - 1))"

cp "$FACES/examples/biden/biden.jpg" "$f"   # new content under the same name
out=$("$FA" index "$D" -o "$T/c" -q)
check_eq "changed content: re-encoded" "$(summary_field "$out" encoded)" 1

cp "$FACES/examples/obama/obama.jpg" "$D/Lisa/new_face.jpg"
out=$("$FA" index "$D" -o "$T/c" -q)
check_eq "add: one encoded" "$(summary_field "$out" encoded)" 1
check_eq "add: file count" "$(info_field "$T/c" files)" "$((n + 1))"

g=$(find "$D/Irene" -type f | sort | head -1)
mv "$g" "$D/Lisa/moved_from_irene.jpg"
out=$("$FA" index "$D" -o "$T/c" -q)
check_eq "move: nothing encoded" "$(summary_field "$out" encoded)" 0
check_eq "move: found by content" "$(summary_field "$out" moved)" 1
check_eq "move: old name removed" "$(summary_field "$out" removed)" 1
check_contains "move: new name in manifest, in its new folder" "$(cut -f2,3 "$T/c/manifest.tsv")" $'Lisa\tLisa/moved_from_irene.jpg'

rm "$D/Lisa/new_face.jpg"
out=$("$FA" index "$D" -o "$T/c" -q)
check_eq "delete: nothing encoded" "$(summary_field "$out" encoded)" 0
check_eq "delete: one removed" "$(summary_field "$out" removed)" 1
check_eq "delete: file count" "$(info_field "$T/c" files)" "$n"

# The incrementally maintained cache equals a fresh index of the same tree.
"$FA" index "$D" -o "$T/fresh" -q >/dev/null
same=$("$PY" - "$T/c" "$T/fresh" <<'PY'
import sys, numpy as np
def load(d):
    rows = [l.rstrip("\n").split("\t") for l in open(d + "/manifest.tsv", encoding="utf-8")][1:]
    e = np.load(d + "/embeddings.npy")
    # compare everything but mtime (touched on purpose)
    return [r[:14] + r[15:] for r in rows], e
(ra, ea), (rb, eb) = load(sys.argv[1]), load(sys.argv[2])
print("yes" if ra == rb and ea.shape == eb.shape and np.abs(ea - eb).max(initial=0) < 1e-5 else "no")
PY
)
check_eq "incremental cache equals a fresh one" "$same" yes

# Embeddings of another model never mix in: --rebuild replaces the cache.
out=$("$FA" index "$D" -o "$T/c" -q --rebuild)
check_eq "--rebuild encodes all" "$(summary_field "$out" encoded)" "$n"
finish

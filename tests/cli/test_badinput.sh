#!/usr/bin/env bash
# test_badinput.sh - hostile input: every bad file gets a status and a reason,
# good files in odd formats and layouts are decoded, nothing crashes.
. "$(dirname "$0")/lib.sh"

R="$T/root"
mkdir -p "$R"
"$PY" "$(dirname "$0")/make_badinput.py" "$FACES" "$R" >"$T/expect.tsv" || { echo "cannot build the tree"; exit 1; }
ln -s loop.jpg "$R/bad/loop.jpg"                     # symlink loop
ln -s /nonexistent/gone.jpg "$R/bad/dangling.jpg"    # dangling symlink
mkfifo "$R/bad/fifo.jpg"                             # not a regular file: must not block
cp "$FACES/examples/biden/biden.jpg" "$R/bad/locked.jpg" && chmod 000 "$R/bad/locked.jpg"

out=$("$FA" index "$R" -o "$T/c" -q 2>"$T/err"); rc=$?
check_eq "index of a hostile tree succeeds" "$rc" 0
err=$(cat "$T/err")

# Statuses exactly as planted.
while IFS=$'\t' read -r path want; do
    got=$(awk -F'\t' -v p="$("$PY" -c 'import sys; print(sys.argv[1].replace("\\\\","\\\\\\\\"))' "$path")" \
        'NR > 1 && $3 == p { print $6; exit }' "$T/c/manifest.tsv")
    if [ "$path" = "bad/truncated.jpg" ]; then
        check "truncated jpeg has a status ($got)" test -n "$got"
    elif [[ "$path" == good/bad* ]]; then
        :   # the non-UTF-8 name is escaped in the manifest: checked below
    else
        check_eq "status of $path" "$got" "$want"
    fi
done <"$T/expect.tsv"

# The name that is not UTF-8 is kept, escaped, and indexed.
check_contains "non-UTF-8 name escaped in manifest" "$(cut -f3,6 "$T/c/manifest.tsv")" $'good/bad\\\\xff\\\\xfename.jpg\tok'
row() { grep -F "$1" "$T/c/manifest.tsv" | head -1 | cut -f6,17; }
check_contains "symlink loop reported" "$(row bad/loop.jpg)" $'unreadable\tsymlink loop'
check_contains "dangling symlink reported" "$(row bad/dangling.jpg)" $'unreadable\tdangling symlink'
check_contains "fifo reported, not read" "$(row bad/fifo.jpg)" $'unreadable\tnot a regular file'
check_contains "gif named" "$(row bad/anim.gif)" $'unsupported\tgif'
check_contains "bomb says its size" "$(row bad/bomb.png)" "100000x100000"
check_contains "empty file reason" "$(row bad/empty.jpg)" "empty file"
check_contains "text file reason" "$(row bad/text.png)" "not an image"
if [ "$(id -u)" != 0 ]; then
    check_contains "unreadable file reason" "$(row bad/locked.jpg)" "Permission denied"
fi
# The user is told which files failed and why.
check_contains "stderr names a failed file" "$err" "bad/bomb.png: too_large"
check_contains "summary counts statuses" "$out" "unsupported 1"

# EXIF rotation applied: the face box of the rotated copy is upright (taller than wide is fine,
# but its size must match the unrotated photo's face within 15%).
w1=$(awk -F'\t' '$3 == "good/gray.png" { print $9; exit }' "$T/c/manifest.tsv")
w2=$(awk -F'\t' '$3 == "good/exif_rotated.jpg" { print $9; exit }' "$T/c/manifest.tsv")
check "exif-rotated photo: face found like the upright one ($w1 vs $w2)" \
    "$PY" -c "import sys; sys.exit(not (abs($w1 - $w2) < 0.15 * $w1))"
d=$("$PY" - "$T/c" <<'PY'
import sys, numpy as np
d = sys.argv[1]
e = np.load(d + "/embeddings.npy")
rows = [l.rstrip("\n").split("\t") for l in open(d + "/manifest.tsv", encoding="utf-8")][1:]
r = {x[2]: int(x[0]) for x in rows if x[0] != "-1"}
print("%.3f" % np.linalg.norm(e[r["good/exif_rotated.jpg"]] - e[r["good/gray.png"]]))
PY
)
check "exif-rotated face embeds like the upright one ($d)" "$PY" -c "import sys; sys.exit(not $d < 0.6)"

# Running again over the same hostile tree does no work and still succeeds.
out=$("$FA" index "$R" -o "$T/c" -q 2>/dev/null); rc=$?
check_eq "second run succeeds" "$rc" 0
check_eq "second run encodes nothing" "$(summary_field "$out" encoded)" 0
chmod 644 "$R/bad/locked.jpg"
finish

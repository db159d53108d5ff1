#!/usr/bin/env bash
# test_review.sh - `faceaudit review` and `faceaudit fix` on the examples
# tree (12 photos, 6 people) with a copied photo and a same-named photo:
# the HTTP safety rules; the page in headless Chromium (decide five findings
# with the keyboard, reload, see them kept; screenshots in
# $FA_TEST_SCREENSHOT_DIR when set, else in the build's Testing dir); the
# fix plan, script, --apply, refusal of changed files, index picking the moves
# up without re-encoding, --undo restoring every byte, and an undo log cut
# short by a crash. Needs chromium, chromium-driver and python3-selenium;
# the browser part is skipped, as passed, when they are missing.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
SHOTS=${FA_TEST_SCREENSHOT_DIR:-$PWD/review-shots}
mkdir -p "$SHOTS"
reindex() {   # index the tree again; say why when it fails
    local out
    out=$("$FA" index "$T/tree" -o "$T/c" -q 2>&1) || { FAILED=$((FAILED + 1)); echo "FAIL: index: $out" >&2; }
}

# The tree: examples, a byte copy of obama.jpg in biden/, and a re-encoded
# photo under a name kit_harington/ already has (a clash when merging).
cp -r "$FACES/examples" "$T/tree"
rm -f "$T/tree/README"* 2>/dev/null
cp "$T/tree/obama/obama.jpg" "$T/tree/biden/obama-copy.jpg"
"$PY" -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).convert("RGB").save(sys.argv[2], quality=85)' \
    "$T/tree/rose_leslie/img2.jpg" "$T/tree/lin_manuel_miranda/john1.jpeg"
reindex
check "tree indexed" test -f "$T/c/meta.json"

have_browser=1
for x in chromium chromedriver; do command -v $x >/dev/null || have_browser=0; done
"$PY" -c 'import selenium' 2>/dev/null || have_browser=0

# --- the real audit's findings, then one of each kind: one server, one browser
"$FA" audit "$T/c" -q --html-limit 0 -o "$T/audit" >/dev/null
check "audit writes CACHE/findings.json" test -s "$T/c/findings.json"
"$FA" audit "$T/c" -q --html-limit 0 -o "$T/audit" --decisions /nonexistent >/dev/null 2>&1
check_eq "audit --decisions with a missing file fails" "$?" 1
snapshot() { (cd "$T/tree" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
if [ $have_browser = 0 ]; then
    echo "SKIP: browser part (needs chromium, chromium-driver, python3-selenium)"
    export FA_NO_BROWSER=1
fi
out=$("$PY" "$HERE/review_check.py" "$FA" "$T/c" "$SHOTS" all "$T/shared-decisions.tsv" 2>&1); rc=$?
echo "$out" | grep -v '^ok'
check_eq "review: HTTP rules, re-audit, keyboard decisions ($(grep -c '^ok' <<<"$out") checks passed)" "$rc" 0
if [ $have_browser = 1 ]; then
    # shared decisions, and a rename: the rejection follows the content
    rejected=$(awk -F'\t' '$3 == "reject" {print $1}' "$T/shared-decisions.tsv")
    mv "$T/tree/biden/obama-copy.jpg" "$T/tree/biden/renamed.jpg"
    mv "$T/tree/lin_manuel_miranda/john1.jpeg" "$T/tree/lin_manuel_miranda/moved.jpeg"
    reindex
    out=$("$FA" audit "$T/c" -q --html-limit 0 -o "$T/audit" --decisions "$T/shared-decisions.tsv")
    check_contains "audit --decisions FILE applies them" "$out" "1 rejected (listed apart"
    last=$("$PY" -c 'import json,sys; f=json.load(open(sys.argv[1]))["findings"][-1]; print(f["id"], f["review"])' "$T/c/findings.json")
    check_eq "the rejection survives renames and re-indexing" "$last" "$rejected False"
    mv "$T/tree/biden/renamed.jpg" "$T/tree/biden/obama-copy.jpg"
    mv "$T/tree/lin_manuel_miranda/moved.jpeg" "$T/tree/lin_manuel_miranda/john1.jpeg"
    reindex
else
    # the decisions the browser would have made, so that fix has something to do
    "$PY" "$HERE/make_findings.py" "$T/c" >/dev/null
    ids=$("$PY" -c 'import json,sys; print(" ".join(f["id"] for f in json.load(open(sys.argv[1]))["findings"]))' "$T/c/findings.json")
    set -- $ids
    printf '%s\t\taccept\tt\t\n%s\t\treject\tt\t\n%s\t\tskip\tt\t\n%s\t\tundo\tt\t\n%s\t\taccept\tt\t\n%s\t\taccept\tt\tObama'"'"'s double\n%s\t\taccept\tt\t\n' \
        "$1" "$2" "$3" "$3" "$3" "$4" "$5" >"$T/c/decisions.tsv"
fi
n=$("$PY" "$HERE/make_findings.py" "$T/c")
check_eq "one finding of each kind" "$n" 5
snapshot >"$T/before.txt"

check_eq "decisions.tsv: one line per decision, undo included" "$(wc -l <"$T/c/decisions.tsv")" 7
check "decisions.tsv records the split's name" grep -q "accept	.*	Obama's double\$" "$T/c/decisions.tsv"
check_eq "decisions.tsv carries the sorted SHA-256s" "$(awk -F'\t' 'NR==1{print length($2)}' "$T/c/decisions.tsv")" 64

# --- fix: plan, script, refusal, apply, index, undo --------------------------
out=$("$FA" fix "$T/c" 2>&1); rc=$?
check_eq "fix dry run exits 0" "$rc" 0
check_contains "plan moves the misfiled photo" "$out" "move   alex_lacamoire/alex-lacamoire.png -> biden/alex-lacamoire.png"
check_contains "plan quarantines the extra copy" "$out" "move   obama/obama.jpg -> .faceaudit-quarantine/obama/obama.jpg"
check_contains "plan splits into the named folder" "$out" "move   obama/obama3.jpg -> Obama's double/obama3.jpg"
check_contains "plan quarantines the stray" "$out" "rose_leslie/img1.jpg -> .faceaudit-quarantine/rose_leslie/img1.jpg"
check "plan leaves the rejected merge out" bash -c "! grep -q lin_manuel <<<\"\$1\"" _ "$out"
check_contains "dry run says so" "$out" "dry run"
check "dry run moved nothing" diff -q "$T/before.txt" <(snapshot)

check "fix --script writes a script" "$FA" fix "$T/c" --script "$T/fix.sh"
check "the script is valid sh" sh -n "$T/fix.sh"
check "the script quotes the quote in the name" grep -q "'Obama'\\\\''s double/obama3.jpg'" "$T/fix.sh"

touch -d '2001-01-01' "$T/tree/rose_leslie/img1.jpg"
out=$("$FA" fix "$T/c" --apply 2>&1); rc=$?
check_eq "fix refuses a file changed since the audit" "$rc" 1
check_contains "the refusal names the file" "$out" "rose_leslie/img1.jpg: changed since the audit"
check "refusal moved nothing" test -f "$T/tree/alex_lacamoire/alex-lacamoire.png"
reindex
"$PY" "$HERE/make_findings.py" "$T/c" >/dev/null    # same content, so the same ids
snapshot >"$T/before.txt"

nfiles=$(info_field "$T/c" files)
out=$("$FA" fix "$T/c" --apply --undo-log "$T/undo.log" 2>&1); rc=$?
check_eq "fix --apply exits 0" "$rc" 0
check_contains "apply names the undo log" "$out" "undo log $T/undo.log"
check "misfiled photo moved" test -f "$T/tree/biden/alex-lacamoire.png"
check "misfiled photo gone from its folder" test ! -e "$T/tree/alex_lacamoire/alex-lacamoire.png"
check "extra copy quarantined, not deleted" test -f "$T/tree/.faceaudit-quarantine/obama/obama.jpg"
check "kept copy stays" test -f "$T/tree/biden/obama-copy.jpg"
check "split into the new folder" test -f "$T/tree/Obama's double/obama3.jpg"
check "rejected merge untouched" test -f "$T/tree/lin_manuel_miranda/john1.jpeg"
check_eq "no file lost or changed" "$(snapshot | awk '{print $1}' | sort | sha256sum)" "$(awk '{print $1}' "$T/before.txt" | sort | sha256sum)"
check_eq "undo log: an fsync'ed intent before each operation" "$(grep -c '^intent' "$T/undo.log")" "$(grep -c '^done' "$T/undo.log")"

out=$("$FA" index "$T/tree" -o "$T/c" 2>&1 </dev/null) || echo "index failed: $out" >&2
check_eq "index after fix re-encodes nothing" "$(summary_field "$out" encoded)" 0
check_eq "index after fix sees the 2 moves within the dataset" "$(summary_field "$out" moved)" 2
check_eq "index after fix leaves the 2 quarantined files out" "$(info_field "$T/c" files)" $((nfiles - 2))

out=$("$FA" fix --undo "$T/undo.log" 2>&1); rc=$?
check_eq "fix --undo exits 0" "$rc" 0
check_contains "undo counts what it reversed" "$out" "undo: [0-9]* operations reversed"
check "undo restores every file byte for byte" diff "$T/before.txt" <(snapshot)
check "undo removes the folders fix made" test ! -e "$T/tree/Obama's double" -a ! -e "$T/tree/.faceaudit-quarantine"

# A crash after the second intent was logged and before it was done: undo
# reverses the first, sees the second was not done, and everything is back.
reindex
"$PY" "$HERE/make_findings.py" "$T/c" >/dev/null
"$FA" fix "$T/c" --apply --undo-log "$T/crash.log" >/dev/null 2>&1
"$FA" fix --undo "$T/crash.log" >/dev/null 2>&1   # back to the start, then replay part of the log
awk '/^intent\t/ { n++ } n <= 2 || !/^(intent|done)\t/' "$T/crash.log" | awk '!(/^done\t2$/)' >"$T/cut.log"
intent2=$(awk -F'\t' '$1 == "intent" && $2 == 2' "$T/cut.log")
check "the cut log ends with an intent that was not done" test -n "$intent2"
# redo only the operations whose done line survived (what a crash would leave)
while IFS=$'\t' read -r kind num op src dst; do
    [ "$kind" = intent ] && grep -q "^done	$num\$" "$T/cut.log" || continue
    case $op in mkdir) mkdir "$T/tree/$src" ;; rename) mv "$T/tree/$src" "$T/tree/$dst" ;; esac
done <"$T/cut.log"
out=$("$FA" fix --undo "$T/cut.log" 2>&1); rc=$?
check_eq "undo of a cut log exits 0" "$rc" 0
check_contains "undo sees the operation that had not happened" "$out" "1 had not been done"
check "after the crash and undo every file is back" diff "$T/before.txt" <(snapshot)

# Shared decisions: accept the merge from another file; the name clash is resolved.
merge_id=$("$PY" -c 'import json,sys; print([f["id"] for f in json.load(open(sys.argv[1]))["findings"] if f["kind"]=="same_identity"][0])' "$T/c/findings.json")
printf '%s\t\taccept\t2026-01-01T00:00:00Z\t\n' "$merge_id" >"$T/shared.tsv"
out=$("$FA" fix "$T/c" --decisions "$T/shared.tsv" 2>&1)
check_contains "shared decisions are read" "$out" "lin_manuel_miranda/john1.jpeg -> kit_harington/john1 (2).jpeg"
check_contains "the merged folder is removed when empty" "$out" "rmdir  lin_manuel_miranda (if empty)"
"$FA" fix "$T/c" --decisions "$T/shared.tsv" --script "$T/merge.sh" >/dev/null
check "the script runs" sh "$T/merge.sh"
check_eq "the script moved the clashing name aside" "$(sha256sum <"$T/tree/kit_harington/john1 (2).jpeg" | cut -c1-64)" \
    "$(grep ' ./lin_manuel_miranda/john1.jpeg$' "$T/before.txt" | cut -c1-64)"
check_eq "the script kept the existing file" "$(sha256sum <"$T/tree/kit_harington/john1.jpeg")" "$(sha256sum <"$FACES/examples/kit_harington/john1.jpeg")"

# Bad input: clear messages, no crash.
printf 'not-an-id!\t\taccept\tx\t\n' >"$T/bad.tsv"
out=$("$FA" fix "$T/c" --decisions "$T/bad.tsv" 2>&1); rc=$?
check_eq "a malformed decisions file fails" "$rc" 1
check_contains "the message names file and line" "$out" "bad.tsv:1: bad finding id"
echo '{"format": 1, "root": "/x", "findings": [{"id": "misfiled-1", "kind": "misfiled", "action": "move", "path": "../etc/passwd", "files": []}]}' >"$T/evil.json"
mkdir -p "$T/c2" && cp "$T/evil.json" "$T/c2/findings.json"
out=$("$FA" fix "$T/c2" 2>&1); rc=$?
check_eq "a findings file with ../ is refused" "$rc" 1
check_contains "the message says why" "$out" "not a plain path under ROOT"
out=$("$FA" fix --undo "$T/evil.json" 2>&1); rc=$?
check_eq "a non-log is refused by --undo" "$rc" 1
out=$("$FA" review "$T/nowhere" 2>&1); rc=$?
check_eq "review of a missing cache fails" "$rc" 1
finish

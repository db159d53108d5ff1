#!/usr/bin/env bash
# test_interrupt.sh - `kill -9` at a random point of an index run, then the
# same command again: the result equals an uninterrupted run, the finished
# work is resumed rather than redone, and the committed cache is never torn.
# Also: a second writer on the same cache gets a clear error.
. "$(dirname "$0")/lib.sh"

D="$T/data"
mkdir -p "$D"
cp -r "$FACES/kpop_idols/." "$D/"   # 365 crops: long enough to be killed mid-run

"$FA" index "$D" -o "$T/ref" -q >/dev/null
check "uninterrupted reference run" test -f "$T/ref/meta.json"

# An old committed state to protect: index a part first.
"$FA" index "$D" -o "$T/c" -q --limit 10 >/dev/null
before=$(cat "$T/c/meta.json")

"$FA" index "$D" -o "$T/c" -q --checkpoint 1 >/dev/null 2>&1 &
pid=$!
# A random point after the first checkpoint (journal has records beyond its
# 79-byte header), so that there is finished work to lose or keep.
for _ in $(seq 600); do
    [ "$(stat -c %s "$T/c/journal" 2>/dev/null || echo 0)" -gt 79 ] && break
    sleep 0.1
done
sleep "$("$PY" -c 'import random; print(round(random.uniform(0, 1), 2))')"
# While it runs, a second writer is refused with a clear message.
err=$("$FA" index "$D" -o "$T/c" -q 2>&1); rc=$?
check_eq "second writer exits 1" "$rc" 1
check_contains "second writer told why" "$err" "being written by another faceaudit process"
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
killed_before_end=$([ -f "$T/c/journal" ] && echo yes || echo no)
check_eq "killed mid-run (journal left behind)" "$killed_before_end" yes
check_eq "committed state untouched by the killed run" "$(cat "$T/c/meta.json")" "$before"
check "cache still opens after kill -9" bash -c "'$FA' info '$T/c' >/dev/null"

out=$("$FA" index "$D" -o "$T/c" -q); check "resumed run exits 0" test $? -eq 0
resumed=$(summary_field "$out" resumed)
check "finished work was resumed, not redone (resumed=$resumed)" test "${resumed:-0}" -gt 0
check "journal gone after commit" test ! -e "$T/c/journal"
check_eq "the resumed files kept their image thumbnails: none decoded again" "$(grep -c 'decoded again' <<<"$out")" 0
check "image thumbnails equal the uninterrupted run's" cmp "$T/c/imagethumbs.npy" "$T/ref/imagethumbs.npy"

same=$("$PY" - "$T/c" "$T/ref" <<'PY'
import sys, numpy as np
def load(d):
    rows = [l.rstrip("\n").split("\t") for l in open(d + "/manifest.tsv", encoding="utf-8")][1:]
    return rows, np.load(d + "/embeddings.npy")
(ra, ea), (rb, eb) = load(sys.argv[1]), load(sys.argv[2])
ok = ra == rb and ea.shape == eb.shape and np.abs(ea - eb).max(initial=0) < 1e-5
print("yes" if ok else "no: %d vs %d rows" % (len(ra), len(rb)))
PY
)
check_eq "resumed cache equals the uninterrupted one" "$same" yes
finish

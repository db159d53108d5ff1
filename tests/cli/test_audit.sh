#!/usr/bin/env bash
# test_audit.sh - `faceaudit audit` on a planted-error tree built from
# kpop_idols (9 photos of 12 people) and examples: a folder split in two, two
# photos moved into the wrong folder, a photo copied, one re-encoded and one
# scaled to 80% into a second folder, a duplicate inside a folder, a blank and
# a broken file, a two-face photo, and control folders left alone. Every planted error must be
# reported in its section, near the top, and no finding may be about a control
# folder. Then the three outputs (CSV quoting, JSON, HTML escaping), the match
# rules and search modes, and command-line errors.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$T/src"
for d in Chaeyong Jihyo Naeun Irene Seulgi Sana Yeji Dahyun Lisa Umji Yuju Eunha; do
    cp -r "$FACES/kpop_idols/$d" "$T/src/"
done
cp -r "$FACES/examples/obama" "$FACES/examples/biden" "$T/src/"
"$PY" "$HERE/audit_plant.py" "$T/src" "$T/tree" "$T/plan.json" --subset 9 --rename 'Lisa:リサ' \
    --split Chaeyong --move Jihyo:Naeun:2 --copy Irene:Seulgi --reencode Sana:Yeji --resize Naeun:Dahyun \
    --within Dahyun --recrop Seulgi \
    --control 'リサ,Umji,Yuju' --add "$FACES/probes/two_people.jpg:obama/two_people.jpg" \
    --noface Eunha/blank.jpg --broken 'Eunha/broken, "bad".jpg'
check "planted tree built" test -s "$T/plan.json"
"$FA" index "$T/tree" -o "$T/c" -q >/dev/null 2>&1
check "planted tree indexed" test -f "$T/c/meta.json"

out=$("$FA" audit "$T/c" -o "$T/out" -q 2>&1); rc=$?
check_eq "audit exits 0" "$rc" 0
check "pairs.csv written" test -s "$T/out/pairs.csv"
check "report.json written" test -s "$T/out/report.json"
check "report.html written" test -s "$T/out/report.html"
check_contains "summary prints the calibration" "$out" "calibrated threshold [0-9.]*: cross-folder quantile"
check_contains "summary prints within quantiles" "$out" "^  within  "
check_contains "summary prints cross quantiles" "$out" "^  cross   "
check_contains "summary prints the share flagged" "$out" "flags [0-9.]*% of cross-folder pairs"
check_contains "summary prints the method and time" "$out" "method: exact join; search [0-9.]* s"
check_contains "summary counts pairs by kind" "$out" "cross-folder pairs [0-9]* ([0-9]* strong"
check_contains "summary counts files without faces" "$out" "no face 1, several faces 1, errors 1"
check_contains "summary names the outputs" "$out" "wrote $T/out/pairs.csv"

# Every planted error in its section, near the top; the controls untouched.
while read -r kind ok what; do
    if [ "$kind" = check ]; then check_eq "$what" "$ok" 1; else echo "  $ok $what"; fi
done < <("$PY" "$HERE/audit_check.py" "$T/out/report.json" "$T/plan.json" --strict-control --top-slack 0)

# The review list: every planted error in review, the planted ones on top
# (slack 2: the kpop subset has a real stray of its own, Sana/ae1367e.jpg),
# one finding per copied file, nothing in review about the controls.
check "findings.csv written" test -s "$T/out/findings.csv"
check "CACHE/findings.json written" test -s "$T/c/findings.json"
check_eq "findings.csv header" "$(head -1 "$T/out/findings.csv" | cut -d, -f1-9)" "rank,id,kind,action,score,path,folder,other_path,other_folder"
while read -r kind ok what; do
    if [ "$kind" = check ]; then check_eq "$what" "$ok" 1; else echo "  $ok $what"; fi
done < <("$PY" "$HERE/findings_check.py" "$T/c/findings.json" "$T/plan.json" --strict-control --slack 2)
same=$("$PY" - "$T/c/findings.json" "$T/out/report.json" "$T/out/findings.csv" <<'PY'
import csv, json, sys
f = json.load(open(sys.argv[1], encoding="utf-8")); r = json.load(open(sys.argv[2], encoding="utf-8"))
rows = list(csv.DictReader(open(sys.argv[3], encoding="utf-8", newline="")))
ok = f["format"] == 1 and [x["id"] for x in f["findings"]] == [x["id"] for x in r["findings"]] == [x["id"] for x in rows]
ok = ok and all(x["rank"] == i + 1 and x["files"] and all(y["sha256"] for y in x["files"]) for i, x in enumerate(f["findings"]))
# merges in review by a misfiled face's evidence: counted, and each says so
by_face = [x for x in f["findings"] if x["kind"] == "same_identity" and x["review"] and "for review because" in x["summary"]]
ok = ok and r["method"]["same_identity_by_face"] == len(by_face)
# merges in review join mutual nearest folders, and say so; mutual is empty for other kinds
merges = [(x, y) for x, y in zip(f["findings"], rows) if x["kind"] == "same_identity"]
rev = [(x, y) for x, y in merges if x["review"]]
mutual = len(rev) > 0 and all(x["evidence"]["mutual"] == 1 and y["mutual"] == "1" and
                              "each finds the other first" in x["summary"] for x, y in rev)
mutual = mutual and all(y["mutual"] in ("0", "1") for x, y in merges) and \
    all(y["mutual"] == "" and x["evidence"]["mutual"] is None for x, y in zip(f["findings"], rows) if x["kind"] != "same_identity")
mutual = mutual and all("nearest folder is" in x["summary"] for x, y in merges if y["mutual"] == "0")
print(int(ok), int(mutual), len(rows))
PY
)
check_eq "findings.json, report.json and findings.csv list the same findings in rank order (and count the merges a face brought)" "${same%% *}" 1
mutual=${same#* }
check_eq "merges in review join mutual nearest folders (mutual 1, and the summary says so); the others name the folder a side finds first" "${mutual%% *}" 1
summary=$(printf '%s\n' "$out" | grep -c '^ *[0-9]* [* ] [a-z_]* ')
check "summary prints the top findings" test "$summary" -gt 0

# pairs.csv: the first three columns sort as promised; fields quoted properly.
check_eq "csv header" "$(head -1 "$T/out/pairs.csv" | cut -d, -f1-6)" "path1,path2,similarity,distance,kind,rel"
top=$(tail -n +2 "$T/out/pairs.csv" | grep -v '"' | sort -t, -k3,3 -g -r | head -1 | cut -d, -f5)
check_eq "sort -k3 -g -r puts the identical file first" "$top" identical_file
csvcheck=$("$PY" - "$T/out/pairs.csv" "$T/out/report.json" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
rep = json.load(open(sys.argv[2], encoding="utf-8"))
head, body = rows[0], rows[1:]
ok = len(body) == len(rep["pairs"]) and all(len(r) == len(head) for r in body)
same = all(r[0] == p["path1"] and r[1] == p["path2"] and abs(float(r[2]) - p["similarity"]) < 1e-5
           for r, p in zip(body, rep["pairs"]))
split = any(r[head.index("folder1")] == 'Chaeyong, "2"' or r[head.index("folder2")] == 'Chaeyong, "2"' for r in body)
print(int(ok), int(same), int(split))
PY
)
check_eq "csv parses: as many rows as report.json pairs, same paths and numbers, comma+quote folder" "$csvcheck" "1 1 1"
check_contains "csv quotes a name with comma and quotes" "$(cat "$T/out/pairs.csv")" '"Chaeyong, ""2""/'

# report.json: valid, with every section.
keys=$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(" ".join(k for k in ("pairs","merges","outliers","duplicates","no_face","multi_face","errors","calibration","method","threshold","counts") if k in r))' "$T/out/report.json")
check_eq "report.json sections" "$keys" "pairs merges outliers duplicates no_face multi_face errors calibration method threshold counts"
check_eq "multi-face file listed" "$("$PY" -c 'import json,sys; print([m["path"] for m in json.load(open(sys.argv[1]))["multi_face"]])' "$T/out/report.json")" "['obama/two_people.jpg']"

# report.html: one file, names escaped, thumbnails embedded.
html=$(cat "$T/out/report.html")
check_contains "html escapes quotes in folder names" "$html" 'Chaeyong, &quot;2&quot;'
check "html has no raw quote inside a name" bash -c "! grep -q 'Chaeyong, \"2\"' '$T/out/report.html'"
check_contains "html shows Japanese names" "$html" '(コピー).jpg'
check_contains "html embeds thumbnails" "$html" '<img class="thumb" src="data:image/jpeg;base64,'
check "html references no external file" bash -c "! grep -Eq '(src|href)=\"(https?:|file:|/)' '$T/out/report.html'"
for s in pairs merges outliers duplicates no-face multi-face errors calibration; do
    check_contains "html section $s" "$html" "<section id=\"$s\">"
done

# Match rules: every row within them, both numbers on every row.
"$FA" audit "$T/c" -o "$T/md" -q --max-distance 0.3 --html-limit 0 >/dev/null
check "--html-limit 0 writes no HTML" test ! -e "$T/md/report.html"
check_eq "--max-distance: every distance <= 0.3" "$(awk -F, 'NR > 1 && $0 !~ /"/ && $4 > 0.3' "$T/md/pairs.csv" | wc -l)" 0
check_eq "--max-distance recorded" "$("$PY" -c 'import json,sys; t=json.load(open(sys.argv[1]))["threshold"]; print(t["source"], t["distance"])' "$T/md/report.json")" "max-distance 0.3"
"$FA" audit "$T/c" -o "$T/ms" -q --min-similarity 0.97 --html-limit 0 >/dev/null
check_eq "--min-similarity: every similarity >= 0.97" "$(awk -F, 'NR > 1 && $0 !~ /"/ && $3 < 0.97' "$T/ms/pairs.csv" | wc -l)" 0
check "--min-similarity finds pairs" test "$(wc -l <"$T/ms/pairs.csv")" -gt 1

# Search modes: IVF exact equals exact; the probe mode prints its recall.
"$FA" audit "$T/c" -o "$T/ivf" -q --ivf 4 --html-limit 0 >/dev/null
check "--ivf 4 gives the exact pairs" cmp -s <(cut -d, -f1-4 "$T/out/pairs.csv" | sort) <(cut -d, -f1-4 "$T/ivf/pairs.csv" | sort)
out=$("$FA" audit "$T/c" -o "$T/np" -q --nprobe 1 --ivf=8 --html-limit 0)
check_contains "--nprobe prints recall against exact" "$out" "nprobe 1, recall [0-9.]* against exact"
check_eq "--nprobe recall in report.json" "$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1]))["method"]; print(m["search"], 0 <= m["recall"] <= 1)' "$T/np/report.json")" "ivf_probe True"

# An accepted merge below the review cut joins the review part; it was not
# brought there by a misfiled face, and its summary must not say so. (Last:
# the audit writes the decision into CACHE/findings.json.)
merge_id=$("$PY" -c 'import json,sys; print(next((x["id"] for x in json.load(open(sys.argv[1]))["findings"] if x["kind"] == "same_identity" and not x["review"] and "for review because" not in x["summary"]), ""))' "$T/c/findings.json")
check "a merge below the review cut to accept" test -n "$merge_id"
printf '%s\t\taccept\t2026-11-29T00:00:00Z\t\n' "$merge_id" >"$T/accept.tsv"
"$FA" audit "$T/c" -o "$T/acc" -q --html-limit 0 --decisions "$T/accept.tsv" >/dev/null
check_eq "the accepted merge is in review, its summary not claiming a misfiled face's evidence" \
    "$("$PY" -c 'import json,sys; x=[f for f in json.load(open(sys.argv[1]))["findings"] if f["id"] == sys.argv[2]]; print(len(x) == 1 and x[0]["review"] and "for review because" not in x[0]["summary"])' "$T/acc/report.json" "$merge_id")" True

# Command-line errors.
err=$("$FA" audit 2>&1); rc=$?
check_eq "audit without CACHE exits 2" "$rc" 2
check_contains "says CACHE is needed" "$err" "needs CACHE"
err=$("$FA" audit "$T/nocache" 2>&1); rc=$?
check_eq "missing cache exits 1" "$rc" 1
check_contains "says how to make a cache" "$err" "faceaudit index"
err=$("$FA" audit "$T/c" --min-similarity 2 2>&1); rc=$?
check_eq "bad --min-similarity exits 2" "$rc" 2
err=$("$FA" audit "$T/c" --nprobe 0 2>&1); rc=$?
check_eq "bad --nprobe exits 2" "$rc" 2
touch "$T/afile"
err=$("$FA" audit "$T/c" -o "$T/afile/x" -q 2>&1); rc=$?
check_eq "unwritable output exits 1" "$rc" 1
check "help exits 0" bash -c "'$FA' audit --help >/dev/null"
finish

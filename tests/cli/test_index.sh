#!/usr/bin/env bash
# test_index.sh - `faceaudit index` on examples/: counts, the cache format as
# numpy and awk read it, the encoder's known distances, and command-line errors.
. "$(dirname "$0")/lib.sh"

out=$("$FA" index "$FACES/examples" -o "$T/c" -q 2>&1)
check "index examples exits 0" test $? -eq 0
check_eq "files" "$(info_field "$T/c" files)" 12
check_eq "faces" "$(info_field "$T/c" faces)" 12
check_eq "folders" "$(info_field "$T/c" folders)" 6
check_eq "all ok" "$(status_count "$T/c" ok)" 12
check_contains "models recorded" "$("$FA" info "$T/c")" "encoder .* sha256 [0-9a-f]\{64\}"
check "quiet run printed no progress" test "$(grep -c $'\r' <<<"$out")" -eq 0

# The manifest is plain TSV: header, one row per face, awk can count folders.
check_eq "manifest header" "$(head -1 "$T/c/manifest.tsv" | cut -f1-3)" $'row\tfolder\tpath'
check_eq "awk counts obama rows" "$(awk -F'\t' '$2 == "obama"' "$T/c/manifest.tsv" | wc -l)" 3

# numpy opens the embeddings as they are; the encoder separates people.
dist=$("$PY" - "$T/c" <<'PY'
import sys, numpy as np
d = sys.argv[1]
e = np.load(d + "/embeddings.npy", mmap_mode="r")
rows = [l.rstrip("\n").split("\t") for l in open(d + "/manifest.tsv", encoding="utf-8")][1:]
row = {r[2]: int(r[0]) for r in rows if r[0] != "-1"}
dist = lambda a, b: float(np.linalg.norm(e[row[a]] - e[row[b]]))
ob = ["obama/obama.jpg", "obama/obama2.jpg", "obama/obama3.jpg"]
same = max(dist(a, b) for a in ob for b in ob if a < b)
diff = min(dist(a, "biden/biden.jpg") for a in ob)
print(e.shape[0], e.shape[1], e.dtype, "%.3f" % same, "%.3f" % diff)
PY
)
read -r n d dtype same diff <<<"$dist"
check_eq "npy shape rows" "$n" 12
check_eq "npy dim" "$d" 128
check_eq "npy dtype" "$dtype" float32
check "obama photos mutually < 0.6 (max $same)" "$PY" -c "import sys; sys.exit(not $same < 0.6)"
check "obama-biden > 0.6 (min $diff)" "$PY" -c "import sys; sys.exit(not $diff > 0.6)"

# Aligned crops (issue 10): --aligned finds the faces of 89x109 celeba
# crops in one pass and records its policy in the cache, and finds at least
# as many as the default policy.
mkdir -p "$T/al"
for d in $(ls "$FACES/celeba_aligned" | head -6); do
    mkdir -p "$T/al/$d"
    for f in $(ls "$FACES/celeba_aligned/$d" | head -2); do cp "$FACES/celeba_aligned/$d/$f" "$T/al/$d/"; done
done
nal=$(find "$T/al" -type f | wc -l)
"$FA" index "$T/al" -o "$T/al.c" -q --aligned >/dev/null 2>&1
check "index --aligned exits 0" test $? -eq 0
"$FA" index "$T/al" -o "$T/al.d" -q >/dev/null 2>&1
check_contains "aligned policy recorded" "$(cat "$T/al.c/meta.json")" '"detect_long_side": 144'
check "--aligned finds every crop's face ($(status_count "$T/al.c" ok) of $nal)" \
    test "$(status_count "$T/al.c" ok)" -eq "$nal"
check "--aligned finds at least the default's faces" \
    test "$(info_field "$T/al.c" faces)" -ge "$(info_field "$T/al.d" faces)"

# Command-line errors: clear message, usage exit status.
err=$("$FA" index 2>&1); rc=$?
check_eq "index without ROOT exits 2" "$rc" 2
check_contains "says ROOT is needed" "$err" "needs ROOT"
err=$("$FA" index "$T/nonexistent" -o "$T/c2" 2>&1); rc=$?
check_eq "missing root exits 1" "$rc" 1
check_contains "names the missing root" "$err" "$T/nonexistent"
err=$("$FA" index "$FACES/examples" -o "$T/c3" --jobs zero 2>&1); rc=$?
check_eq "bad --jobs exits 2" "$rc" 2
err=$("$FA" index "$FACES/examples" -o "$T/c3" --models "$T/nomodels" 2>&1); rc=$?
check_eq "missing models exits 1" "$rc" 1
check_contains "says how to fetch models" "$err" "models fetch"
err=$("$FA" info "$T/nonexistent" 2>&1); rc=$?
check_eq "info on missing cache exits 1" "$rc" 1
err=$("$FA" frobnicate 2>&1); rc=$?
check_eq "unknown command exits 2" "$rc" 2
check "help exits 0" bash -c "'$FA' index --help >/dev/null"

# A foreign or damaged cache is refused, never overwritten.
mkdir -p "$T/foreign" && echo '{"format": "something-else"}' >"$T/foreign/meta.json"
err=$("$FA" index "$FACES/examples" -o "$T/foreign" -q 2>&1); rc=$?
check_eq "foreign cache refused" "$rc" 1
check_contains "says not a faceaudit cache" "$err" "not a faceaudit cache"
check_eq "foreign meta untouched" "$(cat "$T/foreign/meta.json")" '{"format": "something-else"}'
cp -a "$T/c" "$T/trunc" && truncate -s 200 "$(readlink -f "$T/trunc/embeddings.npy")"
err=$("$FA" info "$T/trunc" 2>&1); rc=$?
check_eq "truncated cache refused" "$rc" 1
check_contains "names the truncated file" "$err" "embeddings.1.npy"

# Another encoder file: the cache refuses to mix, --rebuild starts over.
cp "$(ls "$MODELS"/dlib_face_recognition_resnet_model_v1*.dat | head -1)" "$T/other_encoder.dat"
printf 'x' >>"$T/other_encoder.dat"
err=$("$FA" index "$FACES/examples" -o "$T/c" -q --encoder "$T/other_encoder.dat" 2>&1); rc=$?
check_eq "other models refused" "$rc" 1
check_contains "explains model mismatch" "$err" "must not be mixed"
finish

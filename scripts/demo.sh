#!/usr/bin/env bash
# demo.sh - from a fresh Debian machine to an audit report: installs the
# dependencies, builds, fetches the models (from ../shared/models when that
# folder exists, else dlib.net; the encoder is rebuilt from face-api's
# weights via npm when dlib.net cannot be reached), indexes the face photos
# that Debian's libdlib package ships (5 people x 11 photos) and audits them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
export FACEAUDIT_MODELS=${FACEAUDIT_MODELS:-$PWD/.models}
from=()
[ -d ../shared/models ] && from=(--from ../shared/models)
build/faceaudit models fetch "${from[@]}"
data=/usr/share/doc/libdlib19.1/examples/johns
out=${1:-out/demo}
mkdir -p "$out"
build/faceaudit index "$data" -o "$out/cache"
build/faceaudit audit "$out/cache" -o "$out/report"
echo
echo "report: $out/report/report.html (pairs.csv, report.json beside it)"

#!/usr/bin/env bash
# build.sh [DIR] [cmake options...] - configures and builds faceaudit
# (default build/, release with debug info).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"

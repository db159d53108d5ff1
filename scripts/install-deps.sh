#!/usr/bin/env bash
# install-deps.sh - installs what faceaudit needs from Debian's packages:
# the build (dlib, OpenCV, OpenBLAS, OpenMP), the model fetch (curl, bzip2,
# npm for the face-api weights) and, with --test, what the tests and
# benchmarks use (numpy, PIL, headless Chromium, faiss, Open MPI). Idempotent.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
pkgs=(build-essential cmake pkg-config libdlib-dev libdlib-data libopencv-dev
      libopenblas-dev libomp-dev curl bzip2 ca-certificates libmicrohttpd-dev)
# maintained libraries instead of hand-written code (issue 12)
pkgs+=(libssl-dev zlib1g-dev libcurl4-openssl-dev libbz2-dev libunistring-dev libjansson-dev nlohmann-json3-dev
       libarchive-dev)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [ "${1:-}" = "--test" ]; then
    pkgs+=(clang libclang-rt-dev)   # libFuzzer harnesses (scripts/fuzz.sh, issue 13)
    pkgs+=(python3 python3-numpy python3-pil chromium python3-faiss chromium-driver python3-selenium)
    pkgs+=(groff-base)   # the man page test
    pkgs+=(fonts-ipafont-gothic)   # Japanese folder names legible in the headless browser's screenshots
    # the MPI audit and its test (issue 11); the build works without them
    pkgs+=(libopenmpi-dev openmpi-bin)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# dlib calls the generic libblas.so.3: make sure it resolves to OpenBLAS, not
# the reference BLAS (about 15x slower for the face encoder).
blas=$(readlink -f /usr/lib/$(gcc -dumpmachine)/libblas.so.3 2>/dev/null || true)
case "$blas" in
    *openblas*) ;;
    *) echo "warning: libblas.so.3 is $blas, not OpenBLAS; run: update-alternatives --config libblas.so.3-$(gcc -dumpmachine)" >&2 ;;
esac

# test_install.sh FACEAUDIT MODELS SHARED BUILD_DIR SOURCE_DIR SANITIZE(0|1)
# `cmake --install` into a temporary prefix, then checks what is there (public
# headers only, both libraries, faceaudit.pc, the CMake package, man page,
# completion), that the shared library exports only FA_API functions, and
# builds examples/index_and_search.c against the installed copy three ways
# (find_package shared and static, pkg-config), all of which must index,
# search and audit four photos alike; a copied photo is the audit's first
# finding.
source "$(dirname "$0")/lib.sh"
BUILD=${4:?build dir}
SRC=${5:?source dir}
SAN=""
[ "${6:-0}" = 1 ] && SAN="-fsanitize=address,undefined"
P="$T/prefix"

check "cmake --install" cmake --install "$BUILD" --prefix "$P" --strip >/dev/null
lib=$(dirname "$(dirname "$(find "$P" -name faceaudit.pc)")")
# mpi.h is the tool's MPI layer (not in the library), so it is not installed.
check "public headers only" test "$(ls "$P/include/faceaudit")" = "$(ls "$SRC/include/faceaudit" | grep -vx mpi.h)"
for f in "$lib/libfaceaudit.so" "$lib/libfaceaudit.a" "$lib/cmake/faceaudit/faceauditConfig.cmake" \
         "$lib/cmake/faceaudit/faceauditConfigVersion.cmake" "$P/bin/faceaudit" \
         "$P/share/man/man1/faceaudit.1" "$P/share/bash-completion/completions/faceaudit"; do
    check "installed $f" test -e "$f"
done

# Every function of the public headers is marked FA_API (else the shared
# library hides it); exported are those, and nothing else.
unmarked=$(ls "$SRC"/include/faceaudit/*.h | grep -v '/mpi\.h$' | xargs grep -hE '^[a-z][a-z0-9_ *]*[ *]fa_[a-z0-9_]*\(' | grep -v '^typedef' || true)
check_eq "every public function is marked FA_API" "$unmarked" ""
exported=$(nm -D --defined-only "$lib/libfaceaudit.so" | awk '$2 == "T" || $2 == "D" || $2 == "B" { print $3 }' | sort)
declared=$(sed -n 's/^FA_API .*[ *]\(fa_[a-z0-9_]*\)(.*/\1/p' "$SRC"/include/faceaudit/*.h | sort)
check_eq "exported symbols = FA_API declarations" "$exported" "$declared"

# find_package: the shared and the static library.
cmake -S "$SRC/examples" -B "$T/ex" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="$SAN" >"$T/cmake.log" 2>&1 &&
    cmake --build "$T/ex" >>"$T/cmake.log" 2>&1
check "example built with find_package" test -x "$T/ex/index_and_search_static" || cat "$T/cmake.log" >&2
# pkg-config: the shared library.
export PKG_CONFIG_PATH="$lib/pkgconfig"
check "pkg-config --modversion" test "$(pkg-config --modversion faceaudit)" = "$(sed -n 's/^project(faceaudit VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")"
# shellcheck disable=SC2046,SC2086
check "example built with pkg-config" cc $SAN "$SRC/examples/index_and_search.c" -o "$T/ex_pc" \
    $(pkg-config --cflags --libs faceaudit) -Wl,-rpath,"$lib"

mkdir -p "$T/tree/biden" "$T/tree/obama"
cp "$FACES/examples/biden/biden.jpg" "$FACES/examples/biden/biden2.jpg" "$T/tree/biden/"
cp "$FACES/examples/obama/obama.jpg" "$FACES/examples/obama/obama2.jpg" "$T/tree/obama/"
echo "not an image" >"$T/tree/obama/broken.jpg"
out=$("$T/ex/index_and_search" "$MODELS" "$T/cache" "$T/tree" 2>&1)
check_contains "version" "$out" "^faceaudit [0-9]"
check_contains "indexed" "$out" "^indexed 5 files, 4 faces, 1 not usable"
check_contains "failures handed back" "$out" "^not usable: obama/broken.jpg: "
check_contains "nearest is itself" "$out" "^hit 0 0.000 biden/biden.jpg"
check_contains "next is the same person" "$out" "^hit 1 0\.[0-5][0-9]* biden/biden2.jpg"
check_contains "audited through the public API" "$out" "^audit 4 faces, threshold 0\.[0-9]* (calibrated), [0-9]* findings"
hits=$(grep '^hit\|^audit\|^finding' <<<"$out")
check_eq "static library, same hits and findings" "$("$T/ex/index_and_search_static" "$MODELS" "$T/cache" | grep '^hit\|^audit\|^finding')" "$hits"
check_eq "pkg-config build, same hits and findings" "$("$T/ex_pc" "$MODELS" "$T/cache" | grep '^hit\|^audit\|^finding')" "$hits"
# A photo copied into the other folder: the findings a program reads name it.
cp "$FACES/examples/biden/biden.jpg" "$T/tree/obama/copy.jpg"
out=$("$T/ex/index_and_search" "$MODELS" "$T/cache2" "$T/tree" 2>&1)
check_contains "the copy is the first finding" "$out" "^finding 0 duplicate keep_one obama/copy.jpg biden$"
# The tool's own listing agrees that the cache the library wrote is whole.
check_eq "faceaudit info reads it" "$(info_field "$T/cache" faces)" 4
finish

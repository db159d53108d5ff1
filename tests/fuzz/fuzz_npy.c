/*
 * fuzz_npy.c - the NPY header reader (cache_npy.c). Oracle: an accepted header
 * lies inside the input and gives a shape the cache can hold.
 */
#include <string.h>
#include "cache_parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t rows;
    int cols;
    long off = fa_npy_parse("e.npy", data, size, &rows, &cols);
    if (off >= 0) {
        ORACLE((size_t)off <= size && off >= 10, "offset %ld of %zu", off, size);
        ORACLE(cols >= 1 && cols <= FA_DIM_MAX && rows <= (1ULL << 40), "shape (%zu, %d)", rows, cols);
    } else {
        ORACLE(strncmp(fa_last_error(), "e.npy: ", 7) == 0, "%s", fa_last_error());
    }
    return 0;
}

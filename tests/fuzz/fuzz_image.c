/*
 * fuzz_image.c - image sniffing and header sizes (decode.c), the part of
 * decoding that runs before any pixel is touched. Oracle: sizes are never
 * negative, and the too-large decision agrees with exact 128-bit arithmetic.
 */
#include "decode.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fa_format f = fa_sniff(data, size);
    int64_t w = 0, h = 0;
    ORACLE(fa_format_name(f) != NULL, "name");
    if (fa_image_dims(data, size, f, &w, &h) != 0) return 0;
    ORACLE(w >= 0 && h >= 0 && w <= 0xFFFFFFFFLL && h <= 0xFFFFFFFFLL, "%lldx%lld", (long long)w, (long long)h);
    static const int64_t limits[] = {0, 1, 80000000, 1000000000000000LL};
    for (int i = 0; i < 4; i++) {
        int want = (__int128)w * h > limits[i];
        ORACLE(fa_image_too_large(w, h, limits[i]) == want, "%lldx%lld vs %lld", (long long)w, (long long)h,
               (long long)limits[i]);
    }
    return 0;
}

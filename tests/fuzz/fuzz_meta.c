/*
 * fuzz_meta.c - the meta.json reader (cache_meta.c). Oracle: what is accepted is
 * in range (the numbers are cast to int) and names plain files inside the
 * cache directory; a refusal names the file.
 */
#include <string.h>
#include "cache_parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) return 0;
    fa_cache c = {0};
    fa_gen_names nm;
    const char *emb = nm.emb, *man = nm.man;
    if (fa_cache_parse_meta(&c, "meta.json", (const char *)data, size, &nm) == 0) {
        const fa_detect_params *d = &c.detect;
        ORACLE(c.dim >= 1 && c.dim <= FA_DIM_MAX, "dim %d", c.dim);
        ORACLE(c.n_files <= 1000000000000ULL && c.n_faces <= 1000000000000ULL, "counts");
        ORACLE(d->detect_long_side >= 1 && d->upsample_min_side >= 0 && d->retry_long_side >= 0 &&
               d->max_pixels >= 0 && d->chip_size >= 1 && d->chip_padding >= 0 && d->chip_padding <= 1, "detect");
        ORACLE(emb[0] && man[0] && !strchr(emb, '/') && !strchr(man, '/') && strcmp(emb, "..") && strcmp(man, ".."),
               "names '%s' '%s'", emb, man);
        ORACLE(!strchr(nm.thumb, '/') && !strchr(nm.image, '/') && strcmp(nm.thumb, "..") && strcmp(nm.image, ".."),
               "names '%s' '%s'", nm.thumb, nm.image);
        ORACLE(c.n_models >= 0 && c.n_models <= FA_MODELS_MAX, "models");
        ORACLE(c.root != NULL, "root");
    } else {
        ORACLE(strncmp(fa_last_error(), "meta.json: ", 11) == 0, "message does not name the file: %s",
               fa_last_error());
    }
    free(c.root);
    return 0;
}

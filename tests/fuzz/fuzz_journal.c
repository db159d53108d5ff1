/*
 * fuzz_journal.c - journal replay (journal.c). Oracle: re-encoding the
 * records replay accepted gives back exactly the bytes it consumed, and every
 * accepted record is a consistent result (status ok if and only if faces).
 */
#include <string.h>
#include "fuzz.h"
#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FA_JOURNAL_HEADER_LEN || size > 1 << 20) return 0;
    uint32_t dim = (uint32_t)data[11] | (uint32_t)data[12] << 8 | (uint32_t)data[13] << 16 | (uint32_t)data[14] << 24;
    if (dim < 1 || dim > FA_DIM_MAX) return 0;
    fa_result *res;
    size_t n;
    off_t end = fa_journal_replay((const char *)data, size, (int)dim, &res, &n);
    ORACLE(end >= FA_JOURNAL_HEADER_LEN && (size_t)end <= size, "end %lld", (long long)end);
    fa_buf b = {0};
    fa_buf_append(&b, data, FA_JOURNAL_HEADER_LEN);
    for (size_t i = 0; i < n; i++) {
        ORACLE((res[i].status == FA_STATUS_OK) == (res[i].n_faces > 0) && res[i].path && res[i].reason,
               "record %zu inconsistent", i);
        ORACLE(fa_journal_record(&b, &res[i], (int)dim) == 0, "out of memory");
    }
    ORACLE(b.len == (size_t)end && memcmp(b.data, data, b.len) == 0, "re-encoded %zu bytes differ from the %lld read",
           b.len, (long long)end);
    fa_buf_free(&b);
    for (size_t i = 0; i < n; i++) fa_result_clear(&res[i]);
    free(res);
    return 0;
}

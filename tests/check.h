/*
 * check.h - the smallest test harness: CHECK records a failure with its line
 * and goes on; check_done prints "N passed, N failed" (ctest reads the exit
 * status, people read the line).
 */
#ifndef FA_CHECK_H
#define FA_CHECK_H
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) check_passed++;                                              \
        else {                                                                 \
            check_failed++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

static inline int check_done(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
#endif

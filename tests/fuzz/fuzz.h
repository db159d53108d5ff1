/*
 * fuzz.h - what every libFuzzer harness here shares: an oracle check that
 * aborts (libFuzzer saves the input and reports a crash) with a reason.
 */
#ifndef FA_FUZZ_H
#define FA_FUZZ_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ORACLE(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "oracle failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif

/*
 * testrand.h - deterministic random data for the audit tests, from the
 * library's own generator so every machine builds the same test data.
 */
#ifndef FA_TESTRAND_H
#define FA_TESTRAND_H
#include <math.h>
#include <stdint.h>
#include "../src/audit/ivf.h"   /* fa_rand_next */

static uint64_t rs;

/* Uniform in [0, 1). */
static double urand(void) { return (double)(fa_rand_next(&rs) >> 11) / 9007199254740992.0; }

/* Standard normal (Box-Muller). */
static double nrand(void)
{
    double u = urand() + 1e-300, v = urand();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
#endif

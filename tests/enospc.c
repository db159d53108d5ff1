/*
 * enospc.c - LD_PRELOAD fault injector: write(2) and fdatasync(2) on a file
 * whose path contains $FA_ENOSPC_MATCH fail with ENOSPC, as on a full disk.
 * Lets the tests prove that a full disk costs no committed data.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int targeted(int fd)
{
    const char *match = getenv("FA_ENOSPC_MATCH");
    char link[64], path[4096];
    if (!match || !*match) return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return strstr(path, match) != NULL;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (targeted(fd)) { errno = ENOSPC; return -1; }
    return real(fd, buf, count);
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (targeted(fd)) { errno = ENOSPC; return -1; }
    return real(fd);
}

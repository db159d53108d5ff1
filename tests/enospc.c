/*
 * enospc.c - LD_PRELOAD fault injector for the cache's files.
 *
 * Full disk: with only $FA_ENOSPC_MATCH set, write(2) and fdatasync(2) on a
 * file whose path contains it fail with ENOSPC.
 *
 * One failing call (SQLite-style): with $FA_FAULT_CALL set to open, read,
 * write, rename, mmap, fsync or fdatasync, the $FA_FAULT_AT-th such call
 * (1-based) on a path containing $FA_ENOSPC_MATCH fails once (EIO; ENOSPC
 * for write, ENOMEM for mmap) and "fired" is appended to $FA_FAULT_LOG, so a
 * test can loop N = 1, 2, ... until a run no longer reaches call N. Lets the
 * tests prove that a failing disk costs no committed data.
 * Built without sanitizers: it must not carry its own ASan runtime.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

static int path_matches(const char *path)
{
    const char *match = getenv("FA_ENOSPC_MATCH");
    return match && *match && path && strstr(path, match) != NULL;
}

static int fd_matches(int fd)
{
    char link[64], path[4096];
    const char *match = getenv("FA_ENOSPC_MATCH");
    if (!match || !*match) return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return path_matches(path);
}

/* 1 when this call of `name` on a matching file is the one to fail. */
static int fault(const char *name, int matches)
{
    static long count;
    const char *call = getenv("FA_FAULT_CALL"), *at = getenv("FA_FAULT_AT");
    if (!call || strcmp(call, name) != 0 || !matches) return 0;
    if (++count != (at ? atol(at) : 1)) return 0;
    const char *log = getenv("FA_FAULT_LOG");
    if (log) {
        int (*ropen)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
        ssize_t (*rwrite)(int, const void *, size_t) = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
        int fd = ropen(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) { ssize_t w = rwrite(fd, "fired\n", 6); (void)w; close(fd); }
    }
    return 1;
}

/* The full-disk mode: every write to a matching file fails. */
static int full_disk(int fd) { return !getenv("FA_FAULT_CALL") && fd_matches(fd); }

#define REAL(ret, name, ...) \
    static ret (*real)(__VA_ARGS__); \
    if (!real) real = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, name)

ssize_t write(int fd, const void *buf, size_t count)
{
    REAL(ssize_t, "write", int, const void *, size_t);
    if (full_disk(fd) || fault("write", getenv("FA_FAULT_CALL") && fd_matches(fd))) { errno = ENOSPC; return -1; }
    return real(fd, buf, count);
}

int fdatasync(int fd)
{
    REAL(int, "fdatasync", int);
    if (full_disk(fd) || fault("fdatasync", getenv("FA_FAULT_CALL") && fd_matches(fd))) { errno = ENOSPC; return -1; }
    return real(fd);
}

int fsync(int fd)
{
    REAL(int, "fsync", int);
    if (fault("fsync", getenv("FA_FAULT_CALL") && fd_matches(fd))) { errno = EIO; return -1; }
    return real(fd);
}

ssize_t read(int fd, void *buf, size_t count)
{
    REAL(ssize_t, "read", int, void *, size_t);
    if (fault("read", getenv("FA_FAULT_CALL") && fd_matches(fd))) { errno = EIO; return -1; }
    return real(fd, buf, count);
}

static int open_common(const char *sym, const char *path, int flags, va_list ap)
{
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
    if (fault("open", path_matches(path))) { errno = EIO; return -1; }
    return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int fd = open_common("open", path, flags, ap);
    va_end(ap);
    return fd;
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int fd = open_common("open64", path, flags, ap);
    va_end(ap);
    return fd;
}

int rename(const char *from, const char *to)
{
    REAL(int, "rename", const char *, const char *);
    if (fault("rename", path_matches(from) || path_matches(to))) { errno = EIO; return -1; }
    return real(from, to);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    REAL(void *, "mmap", void *, size_t, int, int, int, off_t);
    if (fd >= 0 && fault("mmap", getenv("FA_FAULT_CALL") && fd_matches(fd))) { errno = ENOMEM; return MAP_FAILED; }
    return real(addr, len, prot, flags, fd, off);
}

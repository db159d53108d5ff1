/*
 * util.c - buffers, file I/O that never accepts short counts, atomic
 * replacement of files. See util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistr.h>
#include <uniwidth.h>
#include <time.h>
#include <unistd.h>
#include "faceaudit/faceaudit.h"
#include "util.h"

void fa_buf_free(fa_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int buf_reserve(fa_buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) { b->oom = 1; return -1; }
    b->data = p;
    b->cap = cap;
    return 0;
}

void fa_buf_append(fa_buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void fa_buf_putc(fa_buf *b, char c) { fa_buf_append(b, &c, 1); }
void fa_buf_puts(fa_buf *b, const char *s) { fa_buf_append(b, s, strlen(s)); }

void fa_buf_printf(fa_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

size_t fa_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    ucs4_t uc;
    int k = n ? u8_mbtoucr(&uc, (const uint8_t *)s, n) : -1;
    if (k <= 0 || (k == 1 && (unsigned char)s[0] >= 0x80)) return 0;
    if (cp) *cp = uc;
    return (size_t)k;
}

int fa_utf8_valid(const char *s, size_t n)
{
    return u8_check((const uint8_t *)s, n) == NULL;
}

int fa_utf8_width(const char *s)
{
    int w = 0;
    while (*s) {
        uint32_t cp;
        size_t k = fa_utf8_next(s, 4, &cp);
        int cw = k ? uc_width(cp, "UTF-8") : 1;
        w += cw > 0 ? cw : k ? 0 : 1;
        s += k ? k : 1;
    }
    return w;
}

void fa_buf_csv_field(fa_buf *b, const char *s)
{
    size_t n = strlen(s);
    int q = n && (s[0] == ' ' || s[n - 1] == ' ');
    if (!q && !strpbrk(s, ",\"\r\n")) { fa_buf_append(b, s, n); return; }
    fa_buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"') fa_buf_putc(b, '"');
        fa_buf_putc(b, *p);
    }
    fa_buf_putc(b, '"');
}

void fa_buf_json_str(fa_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    fa_buf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        int k = (int)fa_utf8_next((const char *)p + i, n - i, NULL);
        if (c == '"' || c == '\\') { fa_buf_putc(b, '\\'); fa_buf_putc(b, (char)c); i++; }
        else if (c == '\n') { fa_buf_puts(b, "\\n"); i++; }
        else if (c == '\t') { fa_buf_puts(b, "\\t"); i++; }
        else if (c == '\r') { fa_buf_puts(b, "\\r"); i++; }
        else if (c < 0x20 || k == 0) { fa_buf_printf(b, "\\u%04x", c); i++; }
        else { fa_buf_append(b, p + i, (size_t)k); i += (size_t)k; }
    }
    fa_buf_putc(b, '"');
}

int fa_read_file(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fa_error("%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fa_error("%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return fa_error("%s: too large (%lld bytes, limit %zu)", path, (long long)st.st_size, max);
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *p = malloc(cap);
    if (!p) { close(fd); return fa_error("%s: out of memory", path); }
    for (;;) {
        if (n + 1 >= cap) {  /* the file grew while we read it */
            if (cap > max) { free(p); close(fd); return fa_error("%s: too large", path); }
            char *q = realloc(p, cap * 2);
            if (!q) { free(p); close(fd); return fa_error("%s: out of memory", path); }
            p = q; cap *= 2;
        }
        ssize_t r = read(fd, p + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { int e = errno; free(p); close(fd); return fa_error("%s: read: %s", path, strerror(e)); }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    p[n] = 0;
    *out = p;
    *len = n;
    return 0;
}

int fa_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        if (w == 0) { errno = ENOSPC; return -1; }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int fa_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fa_error("%s: %s", dir, strerror(errno));
    int r = fsync(fd);
    int e = errno;
    close(fd);
    /* Some file systems cannot fsync directories; that is not our failure. */
    if (r < 0 && e != EINVAL && e != EROFS) return fa_error("%s: fsync: %s", dir, strerror(e));
    return 0;
}

int fa_write_file_atomic(const char *path, const void *p, size_t n)
{
    char *tmp = malloc(strlen(path) + 8);
    if (!tmp) return fa_error("%s: out of memory", path);
    sprintf(tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { fa_error("%s: %s", tmp, strerror(errno)); free(tmp); return -1; }
    int w = fa_write_all(fd, p, n);
    if (w < 0 || fsync(fd) < 0) {
        fa_error("%s: %s: %s", tmp, w < 0 ? "write" : "fsync", strerror(errno));
        close(fd); unlink(tmp); free(tmp);
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        fa_error("%s: %s", path, strerror(errno));
        unlink(tmp); free(tmp);
        return -1;
    }
    free(tmp);
    /* The directory, without allocating: the new file is already in place. */
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash) return fa_fsync_dir(".");
    if (slash == path) return fa_fsync_dir("/");
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return fa_fsync_dir(dir);
}

int fa_mkdir_p(const char *path)
{
    char *p = fa_strdup(path);
    if (!p) return fa_error("out of memory");
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                fa_error("%s: mkdir: %s", p, strerror(errno));
                free(p);
                return -1;
            }
            *s = c;
            if (!c) break;
        }
    }
    free(p);
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) return fa_error("%s: not a directory", path);
    return 0;
}

char *fa_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    size_t k = la;
    if (la && a[la - 1] != '/') p[k++] = '/';
    memcpy(p + k, b, lb + 1);
    return p;
}

char *fa_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

double fa_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *fa_getenv_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int fa_fclose_synced(FILE *f)
{
    int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
    int e = errno;
    if (fclose(f) != 0 && rc == 0) return -1;
    errno = e;
    return rc;
}

int fa_write_stream_atomic(const char *path, int (*fill)(FILE *f, void *ud, const char **why), void *ud,
                           const char **why)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.part", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return -2;
    int rc = fill(f, ud, why);
    if (fa_fclose_synced(f) != 0 && rc == 0) { *why = strerror(errno); rc = -1; }
    if (rc == 0 && rename(tmp, path) < 0) { *why = strerror(errno); rc = -1; }
    if (rc != 0) unlink(tmp);
    return rc;
}

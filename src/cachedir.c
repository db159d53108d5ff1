/*
 * cachedir.c - the writer's lock and journal names in a cache directory
 * (see cachedir.h; the committed files are cache.c's).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "cachedir.h"
#include "faceaudit/faceaudit.h"
#include "util.h"

/* flock()ed lock file: a second writer fails at once. */
int fa_cache_lock(const char *dir)
{
    char *path = fa_path_join(dir, "lock");
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (fd < 0) { fa_error("%s: %s", path ? path : dir, strerror(errno)); free(path); return -1; }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        fa_error("%s is being written by another faceaudit process%s%s; wait for it or use another -o",
                 dir, pid[0] ? " (pid " : "", pid[0] ? strcat(pid, ")") : "");
        close(fd);
        free(path);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) == 0) { ssize_t w = pwrite(fd, pid, (size_t)n, 0); (void)w; }
    free(path);
    return fd;
}

char *fa_cache_journal_path(const char *dir) { return fa_path_join(dir, "journal"); }

/*
 * test_decisions.c - decisions.tsv (src/review/decisions.c): last line wins,
 * undo pops, appends read back, a line cut by a crash is dropped, malformed
 * lines are errors naming the line; and fa_safe_relpath / fa_safe_name, which
 * keep every path of findings.json and of a split's name inside ROOT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "faceaudit/faceaudit.h"
#include "faceaudit/review.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_stack(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/d.tsv", dir);
    write_text(path, "# comment\n"
                     "a-1\tx\taccept\tt\t\n"
                     "a-1\tx\treject\tt\t\n"
                     "b-2\tx\tskip\tt\t\n"
                     "b-2\tx\tundo\tt\t\n"
                     "c-3\tx\taccept\tt\tNew\\tName\n"
                     "\n"
                     "d-4\tx\taccept\tt\t");   /* cut by a crash: no newline... */
    fa_decisions *d = fa_decisions_load(path);
    CHECK(d != NULL, "%s", fa_last_error());
    if (!d) return;
    const char *arg;
    CHECK(fa_decisions_get(d, "a-1", NULL) == FA_DEC_REJECT, "the last line wins");
    CHECK(fa_decisions_get(d, "b-2", NULL) == FA_DEC_NONE, "undo pops");
    CHECK(fa_decisions_get(d, "c-3", &arg) == FA_DEC_ACCEPT && !strcmp(arg, "New\tName"), "argument unescaped: %s", arg);
    CHECK(fa_decisions_get(d, "d-4", NULL) == FA_DEC_ACCEPT, "a complete last line without newline is kept");
    CHECK(fa_decisions_get(d, "zz-9", &arg) == FA_DEC_NONE && !strcmp(arg, ""), "unknown id");
    CHECK(fa_decisions_append(d, path, "b-2", "x", FA_DEC_UNDO, NULL) == -1, "undo with nothing to undo fails");
    /* the file ended without a newline: an append must still start a line */
    CHECK(fa_decisions_append(d, path, "a-1", "x", FA_DEC_UNDO, NULL) == 0, "%s", fa_last_error());
    CHECK(fa_decisions_get(d, "a-1", NULL) == FA_DEC_ACCEPT, "undo returns to the decision before");
    CHECK(fa_decisions_append(d, path, "e-5", "x,y", FA_DEC_ACCEPT, "Obama's double") == 0, "%s", fa_last_error());
    CHECK(fa_decisions_append(d, path, "bad id!", "x", FA_DEC_ACCEPT, NULL) == -1, "bad id refused");
    CHECK(fa_decisions_count(d) == 4, "a-1 c-3 d-4 e-5: got %zu", fa_decisions_count(d));
    fa_decisions_free(d);
    d = fa_decisions_load(path);
    CHECK(d != NULL, "reload: %s", fa_last_error());
    if (!d) return;
    CHECK(fa_decisions_get(d, "a-1", NULL) == FA_DEC_ACCEPT, "appended undo read back");
    CHECK(fa_decisions_get(d, "e-5", &arg) == FA_DEC_ACCEPT && !strcmp(arg, "Obama's double"), "appended arg read back");
    fa_decisions_free(d);
}

static void test_bad(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bad.tsv", dir);
    const char *bad[] = {"a-1\tx\tmaybe\tt\t\n", "A B\tx\taccept\tt\t\n", "a-1\n", "a-1\tx\taccept\tt\tbad\\q\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[256];
        snprintf(text, sizeof text, "ok-1\tx\taccept\tt\t\n%s", bad[i]);
        write_text(path, text);
        fa_decisions *d = fa_decisions_load(path);
        CHECK(d == NULL && strstr(fa_last_error(), "bad.tsv:2:"), "bad line %zu: %s", i, fa_last_error());
        fa_decisions_free(d);
    }
    snprintf(path, sizeof path, "%s/none.tsv", dir);
    fa_decisions *d = fa_decisions_load(path);
    CHECK(d && fa_decisions_count(d) == 0, "a missing file is empty");
    fa_decisions_free(d);
}

static void test_paths(void)
{
    const char *ok[] = {"a/b.jpg", "a", "ウムジ/x y.jpg", "a/..b", "a/.b"};
    const char *bad[] = {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/", "a/..", ".", "a\nb", "a\tb"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) CHECK(fa_safe_relpath(ok[i]), "%s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(!fa_safe_relpath(bad[i]), "%s", bad[i]);
    CHECK(fa_safe_name("Obama's double"), "name");
    CHECK(!fa_safe_name("a/b") && !fa_safe_name(".hidden") && !fa_safe_name(".."), "bad names");
}

int main(void)
{
    char dir[] = "/tmp/fa-decisions-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    test_stack(dir);
    test_bad(dir);
    test_paths();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) return 1;
    return check_done();
}

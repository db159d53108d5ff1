/*
 * html.c - escaping, base64 and embedded thumbnails for HTML reports
 * (see html.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "html.h"
#include "shim/shim.h"

const char fa_html_css[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{padding:.2em .6em;text-align:left;vertical-align:top;border-bottom:1px solid #ddd}"
    ".thumb{width:96px;height:96px;border-radius:4px;display:block}"
    ".nothumb{display:inline-block;width:96px;height:96px;background:#eee;font-size:70%;overflow:hidden}"
    ".faces{display:flex;flex-wrap:wrap;gap:.6em}"
    ".face{font-size:80%;width:110px;overflow-wrap:anywhere}"
    ".match{color:#070}.nomatch{color:#a00}.err{color:#a00}";

void fa_html_escape(fa_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        size_t n = fa_utf8_next((const char *)p, 4, NULL);
        if (n == 0) { fa_buf_printf(b, "\\x%02X", *p++); continue; }
        switch (*p) {
        case '&': fa_buf_puts(b, "&amp;"); break;
        case '<': fa_buf_puts(b, "&lt;"); break;
        case '>': fa_buf_puts(b, "&gt;"); break;
        case '"': fa_buf_puts(b, "&quot;"); break;
        case '\'': fa_buf_puts(b, "&#39;"); break;
        default:
            if (n == 1 && (*p < 0x20 || *p == 0x7F) && *p != '\t') fa_buf_puts(b, "&#xFFFD;");
            else fa_buf_append(b, p, n);
        }
        p += n;
    }
}

void fa_base64(fa_buf *b, const void *data, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        q[0] = tab[v >> 18 & 63];
        q[1] = tab[v >> 12 & 63];
        q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        fa_buf_append(b, q, 4);
    }
}

int fa_html_thumb(fa_buf *b, const char *path, const fa_box *box, int size, const char *alt)
{
    uint8_t *jpg = NULL;
    size_t len = 0;
    if (fa_thumbnail_jpeg(path, box, size, &jpg, &len)) {
        fa_buf_puts(b, "<span class=\"nothumb\">");
        fa_html_escape(b, fa_last_error());
        fa_buf_puts(b, "</span>");
        return -1;
    }
    fa_buf_puts(b, "<img class=\"thumb\" src=\"data:image/jpeg;base64,");
    fa_base64(b, jpg, len);
    fa_buf_puts(b, "\" alt=\"");
    fa_html_escape(b, alt);
    fa_buf_puts(b, "\">");
    free(jpg);
    return 0;
}

/*
 * xml_out: a small writer for S3 response documents over a capped cn_buf.
 *
 * It remembers the first failure (the buffer's cap, usually) so that the
 * handlers can write a whole document and check once at the end. Text is
 * escaped for XML 1.0: the five specials, CR (a parser would fold it into a
 * newline), and other control bytes as character references, which is what
 * S3 itself emits for keys that contain them; clients that need exact bytes
 * ask for encoding-type=url.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

int s3__xml_text(cn_buf *b, const char *s, size_t n)
{
    size_t i, start = 0;
    int err = 0;

    for (i = 0; i < n && err == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 || c == '\t' || c == '\n')
            continue;
        err = cn_buf_xml_escape(b, s + start, i - start);
        if (err == 0)
            err = cn_buf_printf(b, "&#x%X;", c);
        start = i + 1;
    }
    if (err == 0)
        err = cn_buf_xml_escape(b, s + start, n - start);
    return err;
}

void s3__xw_begin(s3_xw *w, cn_buf *b, const char *root)
{
    w->b = b;
    w->err = cn_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s xmlns=\"%s\">", root, S3_XMLNS);
}

void s3__xw_open(s3_xw *w, const char *name)
{
    if (w->err == 0)
        w->err = cn_buf_printf(w->b, "<%s>", name);
}

void s3__xw_close(s3_xw *w, const char *name)
{
    if (w->err == 0)
        w->err = cn_buf_printf(w->b, "</%s>", name);
}

void s3__xw_elem_n(s3_xw *w, const char *name, const char *text, size_t n)
{
    s3__xw_open(w, name);
    if (w->err == 0)
        w->err = s3__xml_text(w->b, text, n);
    s3__xw_close(w, name);
}

void s3__xw_elem(s3_xw *w, const char *name, const char *text)
{
    s3__xw_elem_n(w, name, text != NULL ? text : "", text != NULL ? strlen(text) : 0);
}

void s3__xw_elemf(s3_xw *w, const char *name, const char *fmt, ...)
{
    va_list ap;

    s3__xw_open(w, name);
    if (w->err == 0) {
        va_start(ap, fmt);
        w->err = cn_buf_vprintf(w->b, fmt, ap);
        va_end(ap);
    }
    s3__xw_close(w, name);
}

void s3__xw_elem_enc(s3_xw *w, const char *name, const char *text, int url)
{
    size_t n = text != NULL ? strlen(text) : 0;
    char *enc;

    if (!url || n == 0) {
        s3__xw_elem(w, name, text);
        return;
    }
    /* S3 keeps '/' readable in url-encoded listings; clients decode with
     * unquote or unquote_plus, and both accept %20 and %2B. */
    enc = malloc(3 * n + 1);
    if (enc == NULL) {
        if (w->err == 0)
            w->err = -CN_ENOMEM;
        return;
    }
    s3__xw_elem_n(w, name, enc, cn_uri_encode(enc, text, n, 1));
    free(enc);
}

void s3__time_iso_ms(char *out, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    struct tm tm;

    if (ms < 0) {
        t = 0;
        frac = 0;
    }
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + strlen(out), 32 - strlen(out), ".%03uZ", (unsigned)frac % 1000u);
}

void s3__xw_elem_time(s3_xw *w, const char *name, int64_t ms)
{
    char t[32];

    s3__time_iso_ms(t, ms);
    s3__xw_elem(w, name, t);
}

void s3__xw_elem_bool(s3_xw *w, const char *name, int v)
{
    s3__xw_elem(w, name, v ? "true" : "false");
}

int s3__xw_send(s3_xw *w, cn_response *res)
{
    if (w->err != 0)
        return w->err == -CN_ETOOLARGE ? -CN_EINTERNAL : w->err;
    if (res->status == 0)
        res->status = 200;
    return cn_res_add_header(res, "content-type", "application/xml");
}

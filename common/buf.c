/*
 * buf: capped growable buffer. Growth doubles, never past the limit; a failed
 * append changes nothing, so a caller can report -CN_ETOOLARGE and still use
 * what was built so far.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

void cn_buf_init(cn_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void cn_buf_dispose(cn_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void cn_buf_reset(cn_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static int reserve(cn_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > b->limit || b->len > b->limit - extra)
        return -CN_ETOOLARGE;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return -CN_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int cn_buf_append(cn_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);

    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int cn_buf_puts(cn_buf *b, const char *s)
{
    return cn_buf_append(b, s, strlen(s));
}

int cn_buf_vprintf(cn_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -CN_EINTERNAL;
    rc = reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int cn_buf_printf(cn_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = cn_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int cn_buf_xml_escape(cn_buf *b, const char *s, size_t n)
{
    size_t i, start = 0;
    const char *rep;
    int rc;

    for (i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        /* XML 1.0 cannot carry most control characters even escaped as
         * entities; S3 writes them as numeric references, which libxml2
         * and the SDKs accept. */
        case '\r':
            rep = "&#13;";
            break;
        case '\n':
            rep = "&#10;";
            break;
        case '\t':
            rep = "&#9;";
            break;
        default:
            continue;
        }
        if ((rc = cn_buf_append(b, s + start, i - start)) != 0 || (rc = cn_buf_puts(b, rep)) != 0)
            return rc;
        start = i + 1;
    }
    return cn_buf_append(b, s + start, n - start);
}

int cn_grow(void *arrayp, size_t *cap, size_t n, size_t elem, size_t first)
{
    void **array = arrayp;
    size_t c = *cap;
    void *p;

    if (n < c)
        return 0;
    c = c != 0 ? 2 * c : first;
    if (c <= n)
        c = n + 1;
    p = realloc(*array, c * elem);
    if (p == NULL)
        return -CN_ENOMEM;
    *array = p;
    *cap = c;
    return 0;
}

char *cn_buf_steal(cn_buf *b, size_t *len)
{
    char *p = b->data;

    if (len != NULL)
        *len = b->len;
    if (p == NULL)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

/*
 * http: accessors for cn_request / cn_response and the raw query parser.
 * Header names in both are lower-case by construction (the gateway lowers
 * them), so lookups compare bytes.
 */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "util.h"

/* Bounds the XML body of an error or listing response. */
#define RES_BODY_LIMIT (64u << 20)

const cn_header *cn_req_header(const cn_request *r, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name_len == n && memcmp(r->headers[i].name, name, n) == 0)
            return &r->headers[i];
    return NULL;
}

const char *cn_req_header_str(const cn_request *r, const char *name)
{
    const cn_header *h = cn_req_header(r, name);

    return h ? h->value : NULL;
}

void cn_res_init(cn_response *res)
{
    memset(res, 0, sizeof(*res));
    cn_buf_init(&res->body, RES_BODY_LIMIT);
}

void cn_res_dispose(cn_response *res)
{
    for (size_t i = 0; i < res->n_headers; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    free(res->headers);
    free(res->bucket);
    free(res->key);
    cn_buf_dispose(&res->body);
    if (res->stream != NULL)
        res->stream->close(res->stream);
    memset(res, 0, sizeof(*res));
}

int cn_res_add_header(cn_response *res, const char *name, const char *value)
{
    cn_header *h;

    if (res->n_headers == res->cap_headers) {
        size_t cap = res->cap_headers ? res->cap_headers * 2 : 16;
        cn_header *v = realloc(res->headers, cap * sizeof(*v));
        if (v == NULL)
            return -CN_ENOMEM;
        res->headers = v;
        res->cap_headers = cap;
    }
    h = &res->headers[res->n_headers];
    h->name = strdup(name);
    h->value = strdup(value);
    if (h->name == NULL || h->value == NULL) {
        free(h->name);
        free(h->value);
        return -CN_ENOMEM;
    }
    h->name_len = strlen(name);
    h->value_len = strlen(value);
    res->n_headers++;
    return 0;
}

int cn_res_add_headerf(cn_response *res, const char *name, const char *fmt, ...)
{
    char v[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    return cn_res_add_header(res, name, v);
}

/* Finds parameter `name` in a raw query; points val and vlen at its raw value. */
static int query_find(const char *query, const char *name, const char **val, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = query;

    while (p != NULL && *p != '\0') {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        if (klen == nl && memcmp(p, name, nl) == 0) {
            *val = eq ? eq + 1 : p + len;
            *vlen = eq ? len - klen - 1 : 0;
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

int cn_query_get(const char *query, const char *name, char *out, size_t outcap)
{
    const char *v;
    size_t vl;

    if (!query_find(query, name, &v, &vl))
        return -1;
    return cn_uri_decode(out, outcap, v, vl, 1);
}

int cn_query_has(const char *query, const char *name)
{
    const char *v;
    size_t vl;

    return query_find(query, name, &v, &vl);
}

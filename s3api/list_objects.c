/*
 * list_objects: ListObjects (v1) and ListObjectsV2, one object-layer call
 * (obj_list) and two spellings of its result.
 *
 * - v1 pages with marker/NextMarker; S3 only returns NextMarker when a
 *   delimiter was given (clients otherwise continue from the last key).
 * - v2 pages with an opaque continuation token: base64 of the last key or
 *   common prefix returned, which obj_list takes as "start after". Tokens are
 *   not signed: a client that forges one only lists from another key of a
 *   bucket it may list anyway.
 * - max-keys is capped at 1000, as S3 caps it; encoding-type=url URL-encodes
 *   every key-like element (Key, Prefix, Delimiter, Marker, NextMarker,
 *   StartAfter, CommonPrefixes) so that keys with bytes XML cannot carry
 *   survive the trip.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

typedef struct list_q {
    char prefix[S3_QVAL_MAX], delim[S3_QVAL_MAX], marker[S3_QVAL_MAX], token[S3_QVAL_MAX], start[S3_QVAL_MAX];
    char after[S3_QVAL_MAX]; /* decoded continuation token */
    int has_delim, has_marker, has_token, has_start;
    int url, fetch_owner, v2;
    long max_keys;
} list_q;

static int get(s3_op *op, const char *name, char *buf, int *has)
{
    int n = s3__qget(op, name, buf, S3_QVAL_MAX);

    if (n < -1)
        return s3__fail(op, n, "Invalid value for the %s parameter", name);
    if (has != NULL)
        *has = n >= 0;
    return 0;
}

int s3__q_encoding(s3_op *op, int *url)
{
    char enc[16];
    int has_enc = s3__qget(op, "encoding-type", enc, sizeof(enc)) != -1;

    if (has_enc && strcmp(enc, "url") != 0)
        return s3__fail(op, -CN_EINVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
    *url = has_enc;
    return 0;
}

const char *s3__qarg(const char *v)
{
    return v[0] != '\0' ? v : NULL;
}

void s3__xw_prefixes(s3_xw *w, char *const *prefixes, size_t n, int url)
{
    size_t i;

    for (i = 0; i < n; i++) {
        s3__xw_open(w, "CommonPrefixes");
        s3__xw_elem_enc(w, "Prefix", prefixes[i], url);
        s3__xw_close(w, "CommonPrefixes");
    }
}

static int decode_token(s3_op *op, list_q *q)
{
    int n = cn_unbase64((uint8_t *)q->after, sizeof(q->after) - 1, q->token, strlen(q->token));

    if (n <= 0 || memchr(q->after, '\0', (size_t)n) != NULL)
        return s3__fail(op, -CN_EINVALID_ARGUMENT, "The continuation token provided is incorrect");
    q->after[n] = '\0';
    return 0;
}

static int parse_query(s3_op *op, list_q *q)
{
    char fo[8];
    int has_fo, err;

    q->v2 = op->rt->op == S3_OP_LIST_OBJECTS_V2;
    err = get(op, "prefix", q->prefix, NULL);
    if (err == 0)
        err = get(op, "delimiter", q->delim, &q->has_delim);
    if (err == 0)
        err = get(op, "marker", q->marker, &q->has_marker);
    if (err == 0)
        err = get(op, "continuation-token", q->token, &q->has_token);
    if (err == 0)
        err = get(op, "start-after", q->start, &q->has_start);
    if (err == 0)
        err = s3__qint(op, "max-keys", 1000, 1000, &q->max_keys);
    if (err == 0)
        err = s3__q_encoding(op, &q->url);
    if (err < 0)
        return err;
    has_fo = s3__qget(op, "fetch-owner", fo, sizeof(fo)) >= 0;
    q->fetch_owner = has_fo && strcmp(fo, "true") == 0;
    if (q->v2 && q->has_token)
        return decode_token(op, q);
    return 0;
}

static void contents(s3_xw *w, const list_q *q, const obj_version *v)
{
    s3__xw_open(w, "Contents");
    s3__xw_elem_enc(w, "Key", v->key, q->url);
    s3__xw_elem_time(w, "LastModified", v->mtime_ms);
    s3__xw_elem(w, "ETag", v->etag);
    s3__xw_elemf(w, "Size", "%llu", (unsigned long long)v->size);
    if (!q->v2 || q->fetch_owner) {
        s3__xw_open(w, "Owner");
        s3__xw_elem(w, "ID", v->owner);
        s3__xw_elem(w, "DisplayName", v->owner);
        s3__xw_close(w, "Owner");
    }
    s3__xw_elem(w, "StorageClass", v->storage_class[0] != '\0' ? v->storage_class : "STANDARD");
    s3__xw_close(w, "Contents");
}

/* The key (or prefix) the next page starts after. */
static const char *next_after(const obj_list_result *r)
{
    if (r->next_marker != NULL)
        return r->next_marker;
    return r->n_items > 0 ? r->items[r->n_items - 1].key : NULL;
}

static void head_v1(s3_xw *w, const list_q *q, const obj_list_result *r)
{
    const char *next = next_after(r);

    s3__xw_elem_enc(w, "Marker", q->marker, q->url);
    if (r->truncated && q->has_delim && next != NULL)
        s3__xw_elem_enc(w, "NextMarker", next, q->url);
}

static int head_v2(s3_xw *w, const list_q *q, const obj_list_result *r)
{
    const char *next = next_after(r);
    char *tok;
    size_t n;

    s3__xw_elemf(w, "KeyCount", "%zu", r->n_items + r->n_prefixes);
    if (q->has_token)
        s3__xw_elem(w, "ContinuationToken", q->token);
    if (q->has_start)
        s3__xw_elem_enc(w, "StartAfter", q->start, q->url);
    if (!r->truncated || next == NULL)
        return 0;
    n = strlen(next);
    tok = malloc(4 * ((n + 2) / 3) + 1);
    if (tok == NULL)
        return -CN_ENOMEM;
    cn_base64(tok, (const uint8_t *)next, n);
    s3__xw_elem(w, "NextContinuationToken", tok);
    free(tok);
    return 0;
}

static int write_result(s3_op *op, const list_q *q, const obj_list_result *r)
{
    s3_xw w;
    size_t i;
    int err = 0;

    s3__xw_begin(&w, &op->res->body, "ListBucketResult");
    s3__xw_elem(&w, "Name", op->rt->bucket);
    s3__xw_elem_enc(&w, "Prefix", q->prefix, q->url);
    if (q->v2)
        err = head_v2(&w, q, r);
    else
        head_v1(&w, q, r);
    s3__xw_elemf(&w, "MaxKeys", "%ld", q->max_keys);
    if (q->has_delim)
        s3__xw_elem_enc(&w, "Delimiter", q->delim, q->url);
    s3__xw_elem_bool(&w, "IsTruncated", r->truncated);
    if (q->url)
        s3__xw_elem(&w, "EncodingType", "url");
    for (i = 0; i < r->n_items; i++)
        contents(&w, q, &r->items[i]);
    s3__xw_prefixes(&w, r->prefixes, r->n_prefixes, q->url);
    s3__xw_close(&w, "ListBucketResult");
    if (err < 0)
        return err;
    return s3__xw_send(&w, op->res);
}

/* v1 starts after marker; v2 after the continuation token's key, else after
 * start-after. */
static void list_args(const s3_op *op, const list_q *q, obj_list_args *a)
{
    memset(a, 0, sizeof(*a));
    a->bucket = op->rt->bucket;
    a->prefix = s3__qarg(q->prefix);
    a->delimiter = s3__qarg(q->delim);
    if (!q->v2)
        a->start_after = q->has_marker ? s3__qarg(q->marker) : NULL;
    else if (q->has_token)
        a->start_after = q->after;
    else
        a->start_after = q->has_start ? s3__qarg(q->start) : NULL;
    a->max_keys = (int)q->max_keys;
}

int s3__list_objects(s3_op *op)
{
    list_q *q = calloc(1, sizeof(*q));
    obj_list_args a;
    obj_list_result r;
    int err;

    memset(&r, 0, sizeof(r));
    if (q == NULL)
        return -CN_ENOMEM;
    err = parse_query(op, q);
    if (err == 0) {
        list_args(op, q, &a);
        err = obj_list(op->ctx->store, &a, &r);
    }
    if (err == 0)
        err = write_result(op, q, &r);
    obj_list_dispose(&r);
    free(q);
    return err;
}

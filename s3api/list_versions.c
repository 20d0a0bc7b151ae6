/*
 * list_versions: ListObjectVersions (GET /bucket?versions), one call of
 * obj_list_versions() and its XML.
 *
 * Versions and delete markers come in one sequence (key order, newest
 * first) and are written in that sequence as <Version> and <DeleteMarker>,
 * as S3 does. Paging is by (key-marker, version-id-marker); the next page's
 * pair is NextKeyMarker / NextVersionIdMarker, the latter absent when a page
 * ends on a common prefix. max-keys counts versions and prefixes, capped at
 * 1000; encoding-type=url encodes every key-like element.
 */
#include <stdlib.h>
#include <string.h>

#include "s3int.h"

typedef struct lv_q {
    char prefix[S3_QVAL_MAX], delim[S3_QVAL_MAX], key_marker[S3_QVAL_MAX], vid_marker[128];
    int has_delim, has_key_marker, has_vid_marker, url;
    long max_keys;
} lv_q;

static int get(s3_op *op, const char *name, char *buf, size_t cap, int *has)
{
    int n = s3__qget(op, name, buf, cap);

    if (n < -1)
        return s3__fail(op, n, "Invalid value for the %s parameter", name);
    if (has != NULL)
        *has = n >= 0;
    return 0;
}

static int parse_query(s3_op *op, lv_q *q)
{
    int err = get(op, "prefix", q->prefix, sizeof(q->prefix), NULL);

    if (err == 0)
        err = get(op, "delimiter", q->delim, sizeof(q->delim), &q->has_delim);
    if (err == 0)
        err = get(op, "key-marker", q->key_marker, sizeof(q->key_marker), &q->has_key_marker);
    if (err == 0)
        err = get(op, "version-id-marker", q->vid_marker, sizeof(q->vid_marker), &q->has_vid_marker);
    if (err == 0)
        err = s3__qint(op, "max-keys", 1000, 1000, &q->max_keys);
    if (err == 0)
        err = s3__q_encoding(op, &q->url);
    if (err == 0 && q->has_vid_marker && q->vid_marker[0] != '\0' && q->key_marker[0] == '\0')
        err = s3__fail(op, -CN_EINVALID_ARGUMENT, "A version-id marker cannot be specified without a key marker.");
    return err;
}

static void owner(s3_xw *w, const s3_op *op, const obj_version *v)
{
    const char *id = v->owner[0] != '\0' ? v->owner : op->bucket.owner;

    s3__xw_open(w, "Owner");
    s3__xw_elem(w, "ID", id);
    s3__xw_elem(w, "DisplayName", id);
    s3__xw_close(w, "Owner");
}

static void entry(s3_xw *w, const s3_op *op, const lv_q *q, const obj_version *v)
{
    const char *tag = v->delete_marker ? "DeleteMarker" : "Version";

    s3__xw_open(w, tag);
    s3__xw_elem_enc(w, "Key", v->key, q->url);
    s3__xw_elem(w, "VersionId", v->version_id);
    s3__xw_elem_bool(w, "IsLatest", v->is_latest);
    s3__xw_elem_time(w, "LastModified", v->mtime_ms);
    if (!v->delete_marker) {
        s3__xw_elem(w, "ETag", v->etag);
        s3__xw_elemf(w, "Size", "%llu", (unsigned long long)v->size);
        s3__xw_elem(w, "StorageClass", v->storage_class[0] != '\0' ? v->storage_class : "STANDARD");
    }
    owner(w, op, v);
    s3__xw_close(w, tag);
}

static int write_result(s3_op *op, const lv_q *q, const obj_list_versions_result *r)
{
    s3_xw w;
    size_t i;

    s3__xw_begin(&w, &op->res->body, "ListVersionsResult");
    s3__xw_elem(&w, "Name", op->rt->bucket);
    s3__xw_elem_enc(&w, "Prefix", q->prefix, q->url);
    s3__xw_elem_enc(&w, "KeyMarker", q->key_marker, q->url);
    s3__xw_elem(&w, "VersionIdMarker", q->vid_marker);
    if (r->next_key_marker != NULL)
        s3__xw_elem_enc(&w, "NextKeyMarker", r->next_key_marker, q->url);
    if (r->next_version_id_marker != NULL)
        s3__xw_elem(&w, "NextVersionIdMarker", r->next_version_id_marker);
    s3__xw_elemf(&w, "MaxKeys", "%ld", q->max_keys);
    if (q->has_delim)
        s3__xw_elem_enc(&w, "Delimiter", q->delim, q->url);
    s3__xw_elem_bool(&w, "IsTruncated", r->truncated);
    if (q->url)
        s3__xw_elem(&w, "EncodingType", "url");
    for (i = 0; i < r->n_items; i++)
        entry(&w, op, q, &r->items[i]);
    s3__xw_prefixes(&w, r->prefixes, r->n_prefixes, q->url);
    s3__xw_close(&w, "ListVersionsResult");
    return s3__xw_send(&w, op->res);
}

int s3__list_versions(s3_op *op)
{
    lv_q *q = calloc(1, sizeof(*q));
    obj_list_versions_args a;
    obj_list_versions_result r;
    int err;

    memset(&r, 0, sizeof(r));
    if (q == NULL)
        return -CN_ENOMEM;
    err = parse_query(op, q);
    if (err == 0) {
        memset(&a, 0, sizeof(a));
        a.bucket = op->rt->bucket;
        a.prefix = s3__qarg(q->prefix);
        a.delimiter = s3__qarg(q->delim);
        a.key_marker = s3__qarg(q->key_marker);
        a.version_id_marker = s3__qarg(q->vid_marker);
        a.max_keys = (int)q->max_keys;
        err = obj_list_versions(op->ctx->store, &a, &r);
    }
    if (err == -CN_EINVALID_ARGUMENT && op->err_msg == NULL)
        err = s3__fail(op, err, "Invalid version id specified");
    if (err == 0)
        err = write_result(op, q, &r);
    obj_list_versions_dispose(&r);
    free(q);
    return err;
}

/*
 * meta: the headers that travel with an object.
 *
 * In: which request headers S3 stores with a version (content-type,
 * content-encoding without the transport's "aws-chunked", content-disposition,
 * content-language, cache-control, expires, x-amz-website-redirect-location,
 * x-amz-meta-*), and the 2 KB limit on user metadata, counted as AWS counts
 * it: names without the "x-amz-meta-" prefix plus values, in bytes.
 * Out: the headers of GET/HEAD/304, including the response-* query overrides.
 * Stored x-amz-checksum-* attributes are only echoed when the client asked
 * with x-amz-checksum-mode: ENABLED, as S3 does.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/util.h"
#include "s3int.h"

static const char *const stored[] = {
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
    "x-amz-website-redirect-location",
};

int s3__attrs_add(s3_attrs *a, const char *name, const char *value)
{
    obj_attr *v;

    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        v = realloc(a->v, cap * sizeof(*v));
        if (v == NULL)
            return -CN_ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n].name = strdup(name);
    a->v[a->n].value = strdup(value);
    if (a->v[a->n].name == NULL || a->v[a->n].value == NULL) {
        free(a->v[a->n].name);
        free(a->v[a->n].value);
        return -CN_ENOMEM;
    }
    a->n++;
    return 0;
}

void s3__attrs_dispose(s3_attrs *a)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        free(a->v[i].name);
        free(a->v[i].value);
    }
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* Content-Encoding minus "aws-chunked", which describes the transfer only. */
static int add_encoding(s3_attrs *a, const char *v)
{
    char out[1024];
    size_t o = 0;
    const char *p = v;

    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *t = p;
        while (n > 0 && (*t == ' ' || *t == '\t')) {
            t++;
            n--;
        }
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
        if (n > 0 && !(n == 11 && strncasecmp(t, "aws-chunked", 11) == 0) && o + n + 1 < sizeof(out)) {
            if (o > 0)
                out[o++] = ',';
            memcpy(out + o, t, n);
            o += n;
        }
        p = end != NULL ? end + 1 : p + strlen(p);
    }
    out[o] = '\0';
    return o > 0 ? s3__attrs_add(a, "content-encoding", out) : 0;
}

static int is_stored(const char *name)
{
    size_t i;

    if (strncmp(name, "x-amz-meta-", 11) == 0)
        return 1;
    for (i = 0; i < CN_ARRAY_SIZE(stored); i++) {
        if (strcmp(name, stored[i]) == 0)
            return 1;
    }
    return 0;
}

int s3__attrs_from_request(const cn_request *req, s3_attrs *out)
{
    size_t i, meta = 0;
    int err = 0;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < req->n_headers && err == 0; i++) {
        const cn_header *h = &req->headers[i];
        if (!is_stored(h->name))
            continue;
        if (strncmp(h->name, "x-amz-meta-", 11) == 0)
            meta += h->name_len - 11 + h->value_len;
        if (strcmp(h->name, "content-encoding") == 0)
            err = add_encoding(out, h->value);
        else
            err = s3__attrs_add(out, h->name, h->value);
    }
    if (err == 0 && meta > S3_MAX_META_BYTES)
        err = -CN_EMETADATA_TOO_LARGE;
    if (err < 0)
        s3__attrs_dispose(out);
    return err;
}

int s3__check_put_headers(s3_op *op)
{
    static const char *const unsupported[] = {
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-object-lock-mode",
        "x-amz-object-lock-retain-until-date",
        "x-amz-object-lock-legal-hold",
    };
    const char *sse = s3__hdr(op, "x-amz-server-side-encryption");
    size_t i;

    /* x-amz-storage-class names a placement: the object layer checks it */
    /* Every blob is sealed with AES-256-GCM, so SSE-S3 is what happens anyway;
     * KMS and customer keys are not ours to offer yet. */
    if (sse != NULL && strcmp(sse, "AES256") != 0) {
        if (strncmp(sse, "aws:kms", 7) == 0)
            return -CN_ENOTIMPL;
        return s3__fail(op, -CN_EINVALID_ARGUMENT, "The encryption method specified is not supported");
    }
    for (i = 0; i < CN_ARRAY_SIZE(unsupported); i++) {
        if (s3__hdr(op, unsupported[i]) != NULL)
            return -CN_ENOTIMPL;
    }
    return 0;
}

int s3__put_headers(s3_op *op, const obj_version *v)
{
    int err = cn_res_add_header(op->res, "etag", v->etag);

    if (err == 0 && v->version_id[0] != '\0' && strcmp(v->version_id, "null") != 0)
        err = cn_res_add_header(op->res, "x-amz-version-id", v->version_id);
    if (err == 0 && s3__hdr(op, "x-amz-server-side-encryption") != NULL)
        err = cn_res_add_header(op->res, "x-amz-server-side-encryption", "AES256");
    return err;
}

/* ---- GET / HEAD ---- */

static const struct {
    const char *param, *header;
} overrides[] = {
    {"response-content-type", "content-type"},
    {"response-content-language", "content-language"},
    {"response-expires", "expires"},
    {"response-cache-control", "cache-control"},
    {"response-content-disposition", "content-disposition"},
    {"response-content-encoding", "content-encoding"},
};

static int overridden(const s3_op *op, const char *header)
{
    size_t i;
    const char *q = op->req->query != NULL ? op->req->query : "";

    for (i = 0; i < CN_ARRAY_SIZE(overrides); i++) {
        if (strcmp(overrides[i].header, header) == 0 && cn_query_has(q, overrides[i].param))
            return 1;
    }
    return 0;
}

/* A decoded query value becomes a header: no CR, LF or other control bytes. */
static int safe_header_value(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return 0;
        if (*s == 0x7f)
            return 0;
    }
    return 1;
}

static int add_overrides(s3_op *op)
{
    char val[S3_QVAL_MAX];
    size_t i;
    int n, err = 0;

    for (i = 0; i < CN_ARRAY_SIZE(overrides) && err == 0; i++) {
        n = s3__qget(op, overrides[i].param, val, sizeof(val));
        if (n == -1)
            continue;
        if (n < 0 || !safe_header_value(val))
            return s3__fail(op, -CN_EINVALID_ARGUMENT, "Invalid value for %s", overrides[i].param);
        err = cn_res_add_header(op->res, overrides[i].header, val);
    }
    return err;
}

static int add_attrs(s3_op *op, const obj_version *v, int with_checksum)
{
    size_t i;
    int err = 0;

    for (i = 0; i < v->n_attrs && err == 0; i++) {
        const char *name = v->attrs[i].name;
        if (strncmp(name, "x-amz-checksum-", 15) == 0 && !with_checksum)
            continue;
        if (overridden(op, name))
            continue;
        err = cn_res_add_header(op->res, name, v->attrs[i].value);
    }
    return err;
}

int s3__version_headers(s3_op *op, const obj_version *v, int with_checksum)
{
    cn_response *res = op->res;
    char date[40];
    int err;

    /* Overrides are checked first: a bad one must fail before any header. */
    err = add_overrides(op);
    if (err < 0)
        return err;
    cn_time_rfc1123(date, (time_t)(v->mtime_ms / 1000));
    err = cn_res_add_header(res, "etag", v->etag);
    if (err == 0)
        err = cn_res_add_header(res, "last-modified", date);
    if (err == 0)
        err = cn_res_add_header(res, "accept-ranges", "bytes");
    if (err == 0 && obj_version_attr(v, "content-type") == NULL && !overridden(op, "content-type"))
        err = cn_res_add_header(res, "content-type", "binary/octet-stream");
    if (err == 0)
        err = add_attrs(op, v, with_checksum);
    if (err == 0 && v->n_tags > 0)
        err = cn_res_add_headerf(res, "x-amz-tagging-count", "%d", v->n_tags);
    if (err == 0 && v->parts_count > 0)
        err = cn_res_add_headerf(res, "x-amz-mp-parts-count", "%d", v->parts_count);
    if (err == 0 && v->storage_class[0] != '\0' && strcmp(v->storage_class, "STANDARD") != 0)
        err = cn_res_add_header(res, "x-amz-storage-class", v->storage_class);
    if (err == 0 && v->version_id[0] != '\0' && strcmp(v->version_id, "null") != 0)
        err = cn_res_add_header(res, "x-amz-version-id", v->version_id);
    return err;
}

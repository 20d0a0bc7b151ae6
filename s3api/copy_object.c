/*
 * copy_object: CopyObject, and the copy source that UploadPartCopy shares.
 *
 * No bytes move: obj_copy() makes a version whose extents reference the
 * source's blobs. What s3api owns is the protocol around it:
 *  - x-amz-copy-source is "[/]bucket/key[?versionId=v]", URL-encoded; the
 *    '?' is split off before decoding, so an encoded "%3F" stays in the key;
 *  - the caller must own the source bucket too;
 *  - x-amz-copy-source-if-* follow the GET precedence, but every failure
 *    (including what would be 304) is 412 PreconditionFailed;
 *  - x-amz-metadata-directive COPY keeps the source's stored headers,
 *    REPLACE takes the request's (the checksums stay: the bytes are the same);
 *  - copying an object onto itself must change something, else S3 refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

static const char self_copy_msg[] =
    "This copy request is illegal because it is trying to copy an object to itself without changing the "
    "object's metadata, storage class, website redirect location or encryption attributes.";

void s3__copy_source_dispose(s3_copy_src *s)
{
    free(s->key);
    s->key = NULL;
}

int s3__copy_source_parse(const char *hdr, s3_copy_src *out)
{
    const char *p = hdr, *q, *slash;
    size_t plen;
    int n;

    memset(out, 0, sizeof(*out));
    while (*p == '/')
        p++;
    q = strchr(p, '?');
    plen = q != NULL ? (size_t)(q - p) : strlen(p);
    slash = memchr(p, '/', plen);
    if (slash == NULL || slash == p || (size_t)(slash - p) >= sizeof(out->bucket) || slash + 1 == p + plen)
        return -CN_EINVALID_ARGUMENT;
    n = cn_uri_decode(out->bucket, sizeof(out->bucket), p, (size_t)(slash - p), 0);
    if (n < 0)
        return -CN_EINVALID_ARGUMENT;
    out->bucket[n] = '\0';
    plen -= (size_t)(slash + 1 - p);
    out->key = malloc(plen + 1);
    if (out->key == NULL)
        return -CN_ENOMEM;
    n = cn_uri_decode(out->key, plen + 1, slash + 1, plen, 0);
    if (n < 0)
        return -CN_EINVALID_ARGUMENT;
    out->key[n] = '\0';
    out->key_len = (size_t)n;
    if (q != NULL && cn_query_has(q + 1, "versionId")) {
        n = cn_query_get(q + 1, "versionId", out->version_id, sizeof(out->version_id));
        if (n <= 0)
            return -CN_EINVALID_ARGUMENT;
    }
    return 0;
}

static int source_conditions(s3_op *op, const obj_version *v)
{
    s3_cond c;
    int err;

    c.if_match = s3__hdr(op, "x-amz-copy-source-if-match");
    c.if_none_match = s3__hdr(op, "x-amz-copy-source-if-none-match");
    c.if_modified_since = s3__hdr(op, "x-amz-copy-source-if-modified-since");
    c.if_unmodified_since = s3__hdr(op, "x-amz-copy-source-if-unmodified-since");
    err = s3__cond_eval(&c, v->etag, v->mtime_ms);
    return err == -CN_ENOT_MODIFIED ? -CN_EPRECONDITION : err;
}

int s3__copy_source_open(s3_op *op, s3_copy_src *src, obj_version *v)
{
    const char *hdr = s3__hdr(op, "x-amz-copy-source");
    obj_bucket b;
    int err;

    err = s3__copy_source_parse(hdr != NULL ? hdr : "", src);
    if (err == -CN_EINVALID_ARGUMENT)
        return s3__fail(op, err, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
    if (err == 0 && memchr(src->key, '\0', src->key_len) != NULL)
        err = -CN_EINVALID_KEY;
    if (err == 0)
        err = obj_key_valid(src->key, src->key_len);
    if (err == 0) {
        s3_az_req az = {.action = "s3:GetObject",
                        .perm = S3_PERM_READ,
                        .bucket = src->bucket,
                        .key = src->key,
                        .version_id = src->version_id[0] ? src->version_id : NULL};
        err = s3__authorize_on(op, &az, &b);
    }
    if (err == 0)
        err = obj_head(op->ctx->store, src->bucket, src->key, src->version_id[0] ? src->version_id : NULL, v);
    if (err == -CN_EMETHOD_NOT_ALLOWED)
        return s3__fail(op, -CN_EINVALID_REQUEST,
                        "The source of a copy request may not specifically refer to a delete marker by version id.");
    if (err == -CN_ENO_KEY) {
        /* S3 names the missing source, not the destination. */
        snprintf(op->extra_buf, sizeof(op->extra_buf), "%s", src->key);
        op->err_extra_name = "Key";
        op->err_extra_value = op->extra_buf;
    }
    if (err == 0)
        err = source_conditions(op, v);
    if (err == 0 && strcmp(v->version_id, "null") != 0 && v->version_id[0] != '\0')
        err = cn_res_add_header(op->res, "x-amz-copy-source-version-id", v->version_id);
    return err;
}

static int directive(s3_op *op, const char *name, int *replace)
{
    const char *d = s3__hdr(op, name);

    *replace = d != NULL && strcmp(d, "REPLACE") == 0;
    if (d != NULL && !*replace && strcmp(d, "COPY") != 0)
        return s3__fail(op, -CN_EINVALID_ARGUMENT, "Unknown %s.",
                        name[6] == 'm' ? "metadata directive" : "tagging directive");
    return 0;
}

static int is_self_copy(s3_op *op, const s3_copy_src *src, int replace)
{
    if (replace || strcmp(src->bucket, op->rt->bucket) != 0 || src->key_len != op->rt->key_len ||
        memcmp(src->key, op->rt->key, src->key_len) != 0)
        return 0;
    if (src->version_id[0] != '\0' && strcmp(src->version_id, "null") != 0)
        return 0; /* restoring an older version is a change */
    return s3__hdr(op, "x-amz-storage-class") == NULL && s3__hdr(op, "x-amz-website-redirect-location") == NULL &&
           s3__hdr(op, "x-amz-server-side-encryption") == NULL;
}

/* REPLACE: the request's headers, plus the source's checksums. */
static int replaced_attrs(s3_op *op, const obj_version *sv, s3_attrs *at)
{
    size_t i;
    int err = s3__attrs_from_request(op->req, at);

    for (i = 0; err == 0 && i < sv->n_attrs; i++) {
        if (strncmp(sv->attrs[i].name, "x-amz-checksum-", 15) == 0)
            err = s3__attrs_add(at, sv->attrs[i].name, sv->attrs[i].value);
    }
    return err;
}

static int copy_tags(s3_op *op, int replace, obj_tags *tags)
{
    const char *h = s3__hdr(op, "x-amz-tagging");
    const char *why = NULL;
    int err;

    if (!replace || h == NULL)
        return 0;
    err = s3__tags_from_query(h, tags, &why);
    return err < 0 && why != NULL ? s3__fail(op, err, "%s", why) : err;
}

static int copy_result(s3_op *op, const obj_version *v)
{
    s3_xw w;
    int err = s3__put_headers(op, v);

    if (err < 0)
        return err;
    s3__xw_begin(&w, &op->res->body, "CopyObjectResult");
    s3__xw_elem_time(&w, "LastModified", v->mtime_ms);
    s3__xw_elem(&w, "ETag", v->etag);
    s3__xw_close(&w, "CopyObjectResult");
    return s3__xw_send(&w, op->res);
}

int s3__copy_object(s3_op *op)
{
    s3_copy_src src = {0};
    s3_attrs at = {0};
    obj_tags tags = {0};
    obj_version sv, dv;
    obj_copy_args a;
    int err, meta_replace = 0, tag_replace = 0;

    memset(&sv, 0, sizeof(sv));
    memset(&dv, 0, sizeof(dv));
    memset(&a, 0, sizeof(a));
    err = s3__check_put_headers(op);
    if (err == 0)
        err = s3__acl_header(op, &a.acl);
    if (err == 0)
        err = directive(op, "x-amz-metadata-directive", &meta_replace);
    if (err == 0)
        err = directive(op, "x-amz-tagging-directive", &tag_replace);
    if (err == 0)
        err = copy_tags(op, tag_replace, &tags);
    if (err == 0)
        err = s3__copy_source_open(op, &src, &sv);
    if (err < 0)
        goto out;
    if (sv.size > OBJ_MAX_PUT_SIZE) {
        err = s3__fail(op, -CN_EINVALID_REQUEST,
                       "The specified copy source is larger than the maximum allowable size for a copy source: %llu",
                       (unsigned long long)OBJ_MAX_PUT_SIZE);
        goto out;
    }
    if (is_self_copy(op, &src, meta_replace)) {
        err = s3__fail(op, -CN_EINVALID_REQUEST, "%s", self_copy_msg);
        goto out;
    }
    if (meta_replace) {
        err = replaced_attrs(op, &sv, &at);
        if (err < 0)
            goto out;
        a.attrs = at.v;
        a.n_attrs = at.n;
        a.replace_attrs = 1;
    }
    a.src = &sv;
    a.bucket = op->rt->bucket;
    a.key = op->rt->key;
    a.tags = tag_replace ? &tags : NULL;
    a.owner = s3__principal(op);
    a.storage_class = s3__hdr(op, "x-amz-storage-class");
    err = obj_copy(op->ctx->store, &a, &dv);
    if (err == 0)
        err = copy_result(op, &dv);
out:
    s3__copy_source_dispose(&src);
    s3__attrs_dispose(&at);
    s3__tags_dispose(&tags);
    obj_version_dispose(&sv);
    obj_version_dispose(&dv);
    return err;
}

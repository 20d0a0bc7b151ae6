/*
 * multipart: CreateMultipartUpload, CompleteMultipartUpload and
 * AbortMultipartUpload. (Parts are in upload_part.c, listings in
 * list_parts.c.)
 *
 *   POST ?uploads ----------> obj_mpu_create ---> upload id
 *   PUT ?partNumber&uploadId -> obj_mpu_put_part / obj_mpu_copy_part (repeatable)
 *   POST ?uploadId ---------> obj_mpu_complete --> one version, ETag md5-of-md5s-N
 *   DELETE ?uploadId -------> obj_mpu_abort ----> parts released
 *
 * The object layer owns the rules of completion (ascending order, ETags,
 * 5 MiB minimum); this file owns the XML and the stored headers, which are
 * taken at creation, as S3 takes them.
 */
#include <stdio.h>
#include <string.h>

#include "s3int.h"

/* 10000 parts with checksums stay well under this. */
#define S3_MAX_COMPLETE_BODY (4u << 20)

int s3__upload_id(s3_op *op, char out[64])
{
    int n = s3__qget(op, "uploadId", out, 64);

    if (n <= 0)
        return -CN_ENO_UPLOAD; /* empty, absent, or longer than any id we issue */
    return 0;
}

int s3__create_upload(s3_op *op)
{
    s3_attrs at = {0};
    obj_tags tags = {0};
    obj_mpu_create_args a;
    char id[64];
    const char *h = s3__hdr(op, "x-amz-tagging"), *why = NULL;
    s3_xw w;
    int err;

    memset(&a, 0, sizeof(a));
    err = s3__check_put_headers(op);
    if (err == 0)
        err = s3__attrs_from_request(op->req, &at);
    if (err == 0 && h != NULL) {
        err = s3__tags_from_query(h, &tags, &why);
        if (err < 0 && why != NULL)
            err = s3__fail(op, err, "%s", why);
    }
    if (err < 0)
        goto out;
    a.bucket = op->rt->bucket;
    a.key = op->rt->key;
    a.attrs = at.v;
    a.n_attrs = at.n;
    a.tags = tags.n > 0 ? &tags : NULL;
    a.owner = s3__principal(op);
    err = obj_mpu_create(op->ctx->store, &a, id);
    if (err < 0)
        goto out;
    s3__xw_begin(&w, &op->res->body, "InitiateMultipartUploadResult");
    s3__xw_elem(&w, "Bucket", op->rt->bucket);
    s3__xw_elem_n(&w, "Key", op->rt->key, op->rt->key_len);
    s3__xw_elem(&w, "UploadId", id);
    s3__xw_close(&w, "InitiateMultipartUploadResult");
    err = s3__xw_send(&w, op->res);
out:
    s3__attrs_dispose(&at);
    s3__tags_dispose(&tags);
    return err;
}

/* The request's own path is already the encoded URL of the object. */
static void location(s3_xw *w, const cn_request *req)
{
    const char *host = req->host != NULL ? req->host : "";

    s3__xw_open(w, "Location");
    if (w->err == 0)
        w->err = cn_buf_puts(w->b, req->is_tls ? "https://" : "http://");
    if (w->err == 0)
        w->err = s3__xml_text(w->b, host, strlen(host));
    if (w->err == 0)
        w->err = s3__xml_text(w->b, req->path, strlen(req->path));
    s3__xw_close(w, "Location");
}

static int complete_result(s3_op *op, const obj_version *v)
{
    s3_xw w;
    int err = s3__put_headers(op, v);

    if (err < 0)
        return err;
    s3__xw_begin(&w, &op->res->body, "CompleteMultipartUploadResult");
    location(&w, op->req);
    s3__xw_elem(&w, "Bucket", op->rt->bucket);
    s3__xw_elem_n(&w, "Key", op->rt->key, op->rt->key_len);
    s3__xw_elem(&w, "ETag", v->etag);
    s3__xw_close(&w, "CompleteMultipartUploadResult");
    return s3__xw_send(&w, op->res);
}

int s3__complete_upload(s3_op *op)
{
    cn_buf body;
    s3_part_list parts = {0};
    obj_version v;
    char id[64];
    int err, star = 0;

    memset(&v, 0, sizeof(v));
    cn_buf_init(&body, S3_MAX_COMPLETE_BODY);
    err = s3__upload_id(op, id);
    if (err == 0)
        err = s3__write_cond(op, &star);
    if (err == 0 && star) {
        /* The object layer has no conditional complete yet: check now. */
        obj_version cur;
        memset(&cur, 0, sizeof(cur));
        err = obj_head(op->ctx->store, op->rt->bucket, op->rt->key, NULL, &cur);
        err = err == 0 ? -CN_EPRECONDITION : err == -CN_ENO_KEY ? 0 : err;
        obj_version_dispose(&cur);
    }
    if (err == 0)
        err = s3__body_read_all(op, S3_MAX_COMPLETE_BODY, &body);
    if (err == 0)
        err = s3__xml_complete(body.data, body.len, &parts);
    if (err == 0)
        err = obj_mpu_complete(op->ctx->store, op->rt->bucket, op->rt->key, id, parts.v, parts.n, &v);
    if (err == 0)
        err = complete_result(op, &v);
    s3__part_list_dispose(&parts);
    cn_buf_dispose(&body);
    obj_version_dispose(&v);
    return err;
}

int s3__abort_upload(s3_op *op)
{
    char id[64];
    int err = s3__upload_id(op, id);

    if (err == 0)
        err = obj_mpu_abort(op->ctx->store, op->rt->bucket, op->rt->key, id);
    if (err == 0)
        op->res->status = 204;
    return err;
}

/*
 * bucket: the bucket-level operations that are one object-layer call each:
 * ListBuckets, CreateBucket, HeadBucket, DeleteBucket and GetBucketLocation.
 * Bucket versioning lives in versioning.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3int.h"

static const char *region(const s3_op *op)
{
    const char *r = op->ctx->cfg.region;

    return r != NULL && r[0] != '\0' ? r : "us-east-1";
}

int s3__list_buckets(s3_op *op)
{
    obj_bucket *v = NULL;
    size_t n = 0, i;
    s3_xw w;
    int err;

    err = obj_bucket_list(op->ctx->store, s3__principal(op), &v, &n);
    if (err < 0)
        return err;
    s3__xw_begin(&w, &op->res->body, "ListAllMyBucketsResult");
    s3__xw_open(&w, "Owner");
    s3__xw_elem(&w, "ID", s3__principal(op));
    s3__xw_elem(&w, "DisplayName", s3__principal(op));
    s3__xw_close(&w, "Owner");
    s3__xw_open(&w, "Buckets");
    for (i = 0; i < n; i++) {
        s3__xw_open(&w, "Bucket");
        s3__xw_elem(&w, "Name", v[i].name);
        s3__xw_elem_time(&w, "CreationDate", (int64_t)v[i].created * 1000);
        s3__xw_close(&w, "Bucket");
    }
    s3__xw_close(&w, "Buckets");
    s3__xw_close(&w, "ListAllMyBucketsResult");
    free(v);
    return s3__xw_send(&w, op->res);
}

/* Headers that would ask CreateBucket for something we cannot give; the
 * canned ACL it asks for into *acl (NULL: private). */
static int create_headers(s3_op *op, const char **acl)
{
    const char *lock = s3__hdr(op, "x-amz-bucket-object-lock-enabled");
    const char *own = s3__hdr(op, "x-amz-object-ownership");
    int err = s3__acl_header(op, acl);

    if (err < 0)
        return err;
    if (lock != NULL && strcasecmp(lock, "true") == 0)
        return -CN_ENOTIMPL;
    if (own != NULL && strcmp(own, "BucketOwnerEnforced") != 0)
        return -CN_ENOTIMPL;
    return 0;
}

static int only_space(const cn_buf *b)
{
    size_t i;

    for (i = 0; i < b->len; i++) {
        if (b->data[i] != ' ' && b->data[i] != '\t' && b->data[i] != '\r' && b->data[i] != '\n')
            return 0;
    }
    return 1;
}

/* x-cairn-storage-class on CreateBucket: the bucket's default placement
 * (a cairn extension; S3 has no bucket-level storage class). */
#define PLACEMENT_HEADER "x-cairn-storage-class"

int s3__create_bucket(s3_op *op)
{
    const char *placement = cn_req_header_str(op->req, PLACEMENT_HEADER), *acl = NULL;
    cn_buf body;
    char lc[64] = "";
    int err;

    cn_buf_init(&body, S3_MAX_XML_BODY);
    err = create_headers(op, &acl);
    if (err == 0)
        err = obj_storage_class_valid(op->ctx->store, placement);
    if (err == 0)
        err = s3__body_read_all(op, S3_MAX_XML_BODY, &body);
    if (err == 0 && !only_space(&body))
        err = s3__xml_location(body.data, body.len, lc, sizeof(lc));
    /* One gateway serves one region: any other constraint cannot be met. */
    if (err == 0 && lc[0] != '\0' && strcmp(lc, region(op)) != 0)
        err = -CN_EINVALID_LOCATION;
    if (err == 0)
        err = obj_bucket_create(op->ctx->store, op->rt->bucket, s3__principal(op), region(op));
    if (err == 0 && placement != NULL)
        err = obj_bucket_placement_set(op->ctx->store, op->rt->bucket, placement);
    /* After the create, like the placement: a failure in between leaves a
     * private bucket, never a more open one. */
    if (err == 0 && acl != NULL && acl[0] != '\0')
        err = obj_bucket_acl_set(op->ctx->store, op->rt->bucket, acl);
    if (err == 0)
        err = cn_res_add_headerf(op->res, "location", "/%s", op->rt->bucket);
    cn_buf_dispose(&body);
    return err;
}

int s3__head_bucket(s3_op *op)
{
    op->res->no_body = 1;
    op->res->content_length = 0;
    return cn_res_add_header(op->res, "x-amz-bucket-region", op->bucket.region[0] ? op->bucket.region : region(op));
}

int s3__delete_bucket(s3_op *op)
{
    int err = obj_bucket_delete(op->ctx->store, op->rt->bucket);

    if (err == 0)
        op->res->status = 204;
    return err;
}

int s3__get_bucket_location(s3_op *op)
{
    const char *r = op->bucket.region[0] != '\0' ? op->bucket.region : region(op);
    s3_xw w;

    s3__xw_begin(&w, &op->res->body, "LocationConstraint");
    /* S3 answers us-east-1 with an empty constraint, for historical reasons. */
    if (w.err == 0 && strcmp(r, "us-east-1") != 0)
        w.err = s3__xml_text(w.b, r, strlen(r));
    s3__xw_close(&w, "LocationConstraint");
    return s3__xw_send(&w, op->res);
}

/*
 * tagging: Get/Put/DeleteObjectTagging and Get/Put/DeleteBucketTagging, one
 * handler each for the three verbs, told apart by whether the route has a
 * key. Bodies are small (a Tagging document), read whole and checked against
 * the limits in tags.c before the object layer sees them. A bucket without
 * tags answers 404 NoSuchTagSet, as S3 does; an object without tags answers
 * an empty TagSet.
 */
#include <stdio.h>
#include <string.h>

#include "s3int.h"

/* Versioned answers name the version, as S3 does for a non-null one. */
static int version_header(s3_op *op, const char *vid)
{
    if (vid == NULL || strcmp(vid, "null") == 0)
        return 0;
    return cn_res_add_header(op->res, "x-amz-version-id", vid);
}

int s3__get_tagging(s3_op *op)
{
    obj_tags t = {0};
    char buf[128];
    const char *vid = NULL;
    size_t i;
    s3_xw w;
    int err;

    if (op->rt->key == NULL) {
        err = obj_bucket_tags_get(op->ctx->store, op->rt->bucket, &t);
    } else {
        err = s3__version_id(op, buf, sizeof(buf), &vid);
        if (err == 0)
            err = obj_tags_get(op->ctx->store, op->rt->bucket, op->rt->key, vid, &t);
        if (err == 0)
            err = version_header(op, vid);
    }
    if (err < 0)
        goto out;
    s3__xw_begin(&w, &op->res->body, "Tagging");
    s3__xw_open(&w, "TagSet");
    for (i = 0; i < t.n; i++) {
        s3__xw_open(&w, "Tag");
        s3__xw_elem(&w, "Key", t.v[i].key);
        s3__xw_elem(&w, "Value", t.v[i].value);
        s3__xw_close(&w, "Tag");
    }
    s3__xw_close(&w, "TagSet");
    s3__xw_close(&w, "Tagging");
    err = s3__xw_send(&w, op->res);
out:
    obj_tags_dispose(&t);
    return err;
}

int s3__put_tagging(s3_op *op)
{
    cn_buf body;
    obj_tags t = {0};
    char buf[128];
    const char *vid = NULL, *why = NULL;
    int bucket = op->rt->key == NULL, err;

    cn_buf_init(&body, S3_MAX_XML_BODY);
    err = s3__body_read_all(op, S3_MAX_XML_BODY, &body);
    if (err == 0)
        err = s3__xml_tagging(body.data, body.len, &t);
    if (err == 0)
        err = s3__tags_validate(&t, bucket ? S3_MAX_TAGS_BUCKET : S3_MAX_TAGS_OBJECT, &why);
    if (err == -CN_EINVALID_TAG && why != NULL)
        err = s3__fail(op, err, "%s", why);
    if (err < 0)
        goto out;
    if (bucket) {
        err = obj_bucket_tags_put(op->ctx->store, op->rt->bucket, &t);
        op->res->status = 204; /* S3 answers PutBucketTagging with 204 */
    } else {
        err = s3__version_id(op, buf, sizeof(buf), &vid);
        if (err == 0)
            err = obj_tags_put(op->ctx->store, op->rt->bucket, op->rt->key, vid, &t);
        if (err == 0)
            err = version_header(op, vid);
    }
out:
    s3__tags_dispose(&t);
    cn_buf_dispose(&body);
    return err;
}

int s3__delete_tagging(s3_op *op)
{
    char buf[128];
    const char *vid = NULL;
    int err;

    if (op->rt->key == NULL) {
        err = obj_bucket_tags_delete(op->ctx->store, op->rt->bucket);
    } else {
        err = s3__version_id(op, buf, sizeof(buf), &vid);
        if (err == 0)
            err = obj_tags_delete(op->ctx->store, op->rt->bucket, op->rt->key, vid);
        if (err == 0)
            err = version_header(op, vid);
    }
    if (err == 0)
        op->res->status = 204;
    return err;
}

/*
 * put_object: PutObject.
 *
 * The body streams from the client through auth (signatures, aws-chunked)
 * and the checksum verifier into obj_put(), which hashes and stores it as it
 * reads; nothing is buffered here. A failure anywhere in the stream (bad
 * chunk signature, checksum mismatch, short body) fails obj_put, which then
 * commits nothing.
 *
 * A checksum sent as a trailer is only known at the end of the body, but
 * obj_put encodes the attributes before it reads the body; so a trailer
 * checksum is verified and echoed but not stored (GET with checksum mode
 * then has none to return) until the object layer takes attributes at commit.
 *
 * Conditional writes: If-None-Match: * is passed to the object layer, which
 * checks it atomically. If-Match is checked here against the current
 * version; that leaves a window between check and commit, which the object
 * layer should close one day by taking the expected ETag itself.
 */
#include <stdlib.h>
#include <string.h>

#include "s3int.h"

int s3__write_cond(s3_op *op, int *none_match_star)
{
    const char *inm = s3__hdr(op, "if-none-match");
    const char *im = s3__hdr(op, "if-match");
    obj_version v;
    int err;

    *none_match_star = 0;
    if (inm != NULL) {
        if (strcmp(inm, "*") != 0)
            return -CN_ENOTIMPL;
        *none_match_star = 1;
    }
    if (im == NULL)
        return 0;
    memset(&v, 0, sizeof(v));
    err = obj_head(op->ctx->store, op->rt->bucket, op->rt->key, NULL, &v);
    if (err == 0 && !s3__etag_match(im, v.etag))
        err = -CN_EPRECONDITION;
    obj_version_dispose(&v);
    return err;
}

/* Stored attributes plus the checksum one (when known now), which s3_body owns. */
static obj_attr *all_attrs(const s3_attrs *at, s3_body *b, size_t *n)
{
    obj_attr *v = malloc((at->n + 1) * sizeof(*v));

    if (v == NULL)
        return NULL;
    if (at->n > 0)
        memcpy(v, at->v, at->n * sizeof(*v));
    *n = at->n;
    if (b->algo != S3_CK_NONE && !b->from_trailer) {
        v[*n].name = b->attr_name;
        v[*n].value = b->value;
        (*n)++;
    }
    return v;
}

static int put_tags(s3_op *op, obj_tags *tags)
{
    const char *h = s3__hdr(op, "x-amz-tagging");
    const char *why = NULL;
    int err;

    if (h == NULL)
        return 0;
    err = s3__tags_from_query(h, tags, &why);
    if (err < 0 && why != NULL)
        return s3__fail(op, err, "%s", why);
    return err;
}

int s3__put_object(s3_op *op)
{
    s3_attrs at = {0};
    obj_tags tags = {0};
    s3_body b;
    obj_version v;
    obj_put_args a;
    obj_attr *attrs = NULL;
    int err;

    memset(&b, 0, sizeof(b));
    memset(&v, 0, sizeof(v));
    memset(&a, 0, sizeof(a));
    err = s3__check_put_headers(op);
    if (err == 0 && auth_payload_length(op->ar, op->req->body_len) > OBJ_MAX_PUT_SIZE)
        err = -CN_EENTITY_TOO_LARGE;
    if (err == 0)
        err = s3__attrs_from_request(op->req, &at);
    if (err == 0)
        err = put_tags(op, &tags);
    if (err == 0)
        err = s3__write_cond(op, &a.if_none_match_star);
    if (err == 0)
        err = s3__body_open(op, &b);
    if (err < 0)
        goto out;
    attrs = all_attrs(&at, &b, &a.n_attrs);
    if (attrs == NULL) {
        err = -CN_ENOMEM;
        goto out;
    }
    a.bucket = op->rt->bucket;
    a.key = op->rt->key;
    a.body = b.stream;
    a.size = b.length;
    a.attrs = attrs;
    a.tags = tags.n > 0 ? &tags : NULL;
    a.content_md5 = b.has_md5 ? b.md5 : NULL;
    a.owner = s3__principal(op);
    err = obj_put(op->ctx->store, &a, &v);
    op->res->bytes_in = b.length;
    if (err < 0) {
        err = s3__body_error(op, &b, err);
        goto out;
    }
    err = s3__put_headers(op, &v);
    if (err == 0 && b.algo != S3_CK_NONE)
        err = cn_res_add_header(op->res, b.attr_name, b.value);
out:
    s3__body_close(&b);
    free(attrs);
    s3__attrs_dispose(&at);
    s3__tags_dispose(&tags);
    obj_version_dispose(&v);
    return err;
}

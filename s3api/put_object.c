/*
 * put_object: PutObject.
 *
 * The body streams from the client through auth (signatures, aws-chunked)
 * and the checksum verifier into obj_put(), which hashes and stores it as it
 * reads; nothing is buffered here. A failure anywhere in the stream (bad
 * chunk signature, checksum mismatch, short body) fails obj_put, which then
 * commits nothing.
 *
 * A checksum sent as a trailer (the default of current SDKs) is only known
 * at the end of the body. obj_put reads its attributes only after the body
 * has returned its final 0, so the checksum's attribute slot points into
 * s3_body.ck, which the verifying stream fills just before that final 0;
 * header and trailer checksums are thus stored alike (with
 * x-amz-checksum-type FULL_OBJECT, as S3 reports for a single PUT), echoed
 * on the response and returned by GET/HEAD with x-amz-checksum-mode.
 *
 * Conditional writes: If-None-Match: * and If-Match are passed to the object
 * layer, which checks them inside the commit transaction (and once before
 * streaming, to spare a body bound to be refused).
 */
#include <stdlib.h>
#include <string.h>

#include "s3int.h"

int s3__write_cond(s3_op *op, int *none_match_star, const char **if_match)
{
    const char *inm = s3__hdr(op, "if-none-match");

    *none_match_star = 0;
    *if_match = s3__hdr(op, "if-match");
    if (inm != NULL) {
        if (strcmp(inm, "*") != 0)
            return -CN_ENOTIMPL;
        *none_match_star = 1;
    }
    return 0;
}

static char checksum_type_name[] = "x-amz-checksum-type";
static char checksum_type_full[] = "FULL_OBJECT";

/* Stored attributes plus, when a checksum was asked for, its slot and its
 * type. The slot's value is s3_body.ck.value: still empty now for a trailer,
 * filled by the verifying stream at the body's end, before obj_put reads it. */
static obj_attr *all_attrs(const s3_attrs *at, s3_body *b, size_t *n)
{
    obj_attr *v = malloc((at->n + 2) * sizeof(*v));

    if (v == NULL)
        return NULL;
    if (at->n > 0)
        memcpy(v, at->v, at->n * sizeof(*v));
    *n = at->n;
    if (b->algo != S3_CK_NONE) {
        v[*n].name = b->attr_name;
        v[*n].value = b->ck.value;
        v[*n + 1].name = checksum_type_name;
        v[*n + 1].value = checksum_type_full;
        *n += 2;
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
        err = s3__acl_header(op, &a.acl);
    if (err == 0)
        err = s3__write_cond(op, &a.if_none_match_star, &a.if_match_etag);
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
    a.storage_class = s3__hdr(op, "x-amz-storage-class");
    err = obj_put(op->ctx->store, &a, &v);
    op->res->bytes_in = b.length;
    if (err < 0) {
        err = s3__body_error(op, &b, err);
        goto out;
    }
    err = s3__put_headers(op, &v);
    if (err == 0 && b.algo != S3_CK_NONE)
        err = cn_res_add_header(op->res, b.attr_name, b.ck.value);
    if (err == 0 && b.algo != S3_CK_NONE)
        err = cn_res_add_header(op->res, checksum_type_name, checksum_type_full);
out:
    s3__body_close(&b);
    free(attrs);
    s3__attrs_dispose(&at);
    s3__tags_dispose(&tags);
    obj_version_dispose(&v);
    return err;
}

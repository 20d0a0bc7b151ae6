/*
 * upload_part: UploadPart and UploadPartCopy.
 *
 * UploadPart streams like PutObject (same auth and checksum verification,
 * Content-MD5 checked by the object layer). A verified checksum (header or
 * trailer) is stored with the part: obj_mpu_put_part reads it only after the
 * body's final 0, when the verifying stream has filled s3_body.ck. When the
 * upload was created with a checksum algorithm, a part must use that one,
 * and a COMPOSITE upload needs one on every part (S3's "Checksum Type
 * mismatch"); this is checked before the body is read, which is sound
 * because an upload's algorithm never changes.
 *
 * UploadPartCopy references [first, last] of a source version: no bytes
 * move, so no checksum is computed for such a part (S3 would read the bytes
 * to compute one). Both take partNumber 1..10000, as S3 does.
 */
#include <stdlib.h>
#include <string.h>

#include "s3int.h"

static int part_number(s3_op *op, int *pn)
{
    char buf[16], *end = buf;
    long v = 0;
    int n = s3__qget(op, "partNumber", buf, sizeof(buf));

    if (n > 0 && buf[0] >= '0' && buf[0] <= '9')
        v = strtol(buf, &end, 10);
    if (n <= 0 || buf[0] < '0' || buf[0] > '9' || *end != '\0' || v < 1 || v > OBJ_MAX_PARTS)
        return s3__fail(op, -CN_EINVALID_ARGUMENT, "Part number must be an integer between 1 and 10000, inclusive");
    *pn = (int)v;
    return 0;
}

/* The part's checksum algorithm against the upload's. */
static int part_algo(s3_op *op, const obj_mpu *u, const s3_body *b)
{
    s3_ck_algo want = s3__ck_from_name(u->checksum_algo);

    if (want == S3_CK_NONE || b->algo == want)
        return 0;
    if (b->algo == S3_CK_NONE && strcmp(u->checksum_type, "FULL_OBJECT") == 0)
        return 0;
    return s3__fail(op, -CN_EINVALID_REQUEST,
                    "Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
                    s3__ck_name(want), b->algo != S3_CK_NONE ? s3__ck_name(b->algo) : "null");
}

int s3__upload_part(s3_op *op)
{
    s3_body b;
    obj_part part;
    obj_mpu u;
    char id[64];
    int pn = 0, err;

    memset(&b, 0, sizeof(b));
    memset(&part, 0, sizeof(part));
    memset(&u, 0, sizeof(u));
    err = part_number(op, &pn);
    if (err == 0)
        err = s3__upload_id(op, id);
    if (err == 0 && auth_payload_length(op->ar, op->req->body_len) > OBJ_MAX_PART_SIZE)
        err = -CN_EENTITY_TOO_LARGE;
    if (err == 0)
        err = obj_mpu_get(op->ctx->store, op->rt->bucket, op->rt->key, id, &u);
    if (err == 0)
        err = s3__body_open(op, &b);
    if (err == 0)
        err = part_algo(op, &u, &b);
    if (err < 0)
        goto out;
    /* b.ck is empty until the stream's final 0; the object layer reads it after. */
    err = obj_mpu_put_part(op->ctx->store, op->rt->bucket, op->rt->key, id, pn, b.stream, b.length,
                           b.has_md5 ? b.md5 : NULL, &b.ck, &part);
    op->res->bytes_in = b.length;
    if (err < 0) {
        err = s3__body_error(op, &b, err);
        goto out;
    }
    err = cn_res_add_header(op->res, "etag", part.etag);
    if (err == 0 && part.checksum.algo[0] != '\0')
        err = cn_res_add_header(op->res, b.attr_name, part.checksum.value);
out:
    s3__body_close(&b);
    obj_mpu_dispose(&u);
    return err;
}

static int copy_range(s3_op *op, const obj_version *src, s3_range *rg)
{
    const char *h = s3__hdr(op, "x-amz-copy-source-range");
    int err;

    rg->off = 0;
    rg->len = src->size;
    if (h == NULL)
        return 0;
    err = s3__copy_range_parse(h, src->size, rg);
    if (err == -CN_ERANGE)
        return s3__fail(op, -CN_EINVALID_ARGUMENT, "Range specified is not valid for source object of size: %llu",
                        (unsigned long long)src->size);
    if (err < 0)
        return s3__fail(op, err,
                        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and "
                        "last are the zero-based offsets of the first and last bytes to copy");
    return 0;
}

int s3__upload_part_copy(s3_op *op)
{
    s3_copy_src src = {0};
    obj_version sv;
    obj_part part;
    s3_range rg;
    char id[64];
    s3_xw w;
    int pn = 0, err;

    memset(&sv, 0, sizeof(sv));
    memset(&part, 0, sizeof(part));
    err = part_number(op, &pn);
    if (err == 0)
        err = s3__upload_id(op, id);
    if (err == 0)
        err = s3__copy_source_open(op, &src, &sv);
    if (err == 0)
        err = copy_range(op, &sv, &rg);
    if (err == 0 && rg.len > OBJ_MAX_PART_SIZE)
        err = s3__fail(op, -CN_EINVALID_REQUEST,
                       "The specified copy source is larger than the maximum allowable size for a copy source: %llu",
                       (unsigned long long)OBJ_MAX_PART_SIZE);
    if (err == 0)
        err = obj_mpu_copy_part(op->ctx->store, op->rt->bucket, op->rt->key, id, pn, &sv, rg.off, rg.len, &part);
    if (err < 0)
        goto out;
    s3__xw_begin(&w, &op->res->body, "CopyPartResult");
    s3__xw_elem_time(&w, "LastModified", part.mtime_ms);
    s3__xw_elem(&w, "ETag", part.etag);
    s3__xw_close(&w, "CopyPartResult");
    err = s3__xw_send(&w, op->res);
out:
    s3__copy_source_dispose(&src);
    obj_version_dispose(&sv);
    return err;
}

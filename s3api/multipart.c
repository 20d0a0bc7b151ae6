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
 * 5 MiB minimum, named part checksums equal to the stored ones, the
 * If-None-Match / If-Match conditions, all inside its commit); this file owns
 * the XML and the stored headers, which are taken at creation, as S3 takes
 * them.
 *
 * Checksums. CreateMultipartUpload may name an algorithm
 * (x-amz-checksum-algorithm) and a type (x-amz-checksum-type: COMPOSITE, the
 * default except for CRC64NVME, or FULL_OBJECT); the upload keeps both.
 * Parts then carry checksums of that algorithm (upload_part.c). At
 * completion of a COMPOSITE upload the object's checksum is S3's checksum of
 * the parts' checksums with a "-N" suffix, computed here from the checksums
 * the request names; the object layer verifies each of those against the
 * part it names inside the commit, so the stored value always describes the
 * committed parts. Not done: FULL_OBJECT object checksums (they need the
 * CRC of the concatenation, combined from part CRCs and lengths), and S3's
 * refusal of a COMPOSITE completion that omits a part's checksum: such a
 * completion succeeds here without an object checksum, because a part made
 * by UploadPartCopy has none to name (its bytes are never read).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* x-amz-checksum-algorithm and x-amz-checksum-type of CreateMultipartUpload,
 * with S3's combination rules; *algo S3_CK_NONE and *type NULL if absent. */
static int upload_checksum(s3_op *op, s3_ck_algo *algo, const char **type)
{
    const char *a = s3__hdr(op, "x-amz-checksum-algorithm");
    const char *t = s3__hdr(op, "x-amz-checksum-type");
    int full;

    *algo = S3_CK_NONE;
    *type = NULL;
    if (a == NULL) {
        if (t != NULL)
            return s3__fail(
                op, -CN_EINVALID_REQUEST,
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.");
        return 0;
    }
    *algo = s3__ck_from_name(a);
    if (*algo == S3_CK_NONE)
        return s3__fail(op, -CN_EINVALID_REQUEST,
                        "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "
                        "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
    if (t != NULL && strcasecmp(t, "COMPOSITE") != 0 && strcasecmp(t, "FULL_OBJECT") != 0)
        return s3__fail(op, -CN_EINVALID_REQUEST, "Value for x-amz-checksum-type header is invalid.");
    full = t != NULL ? strcasecmp(t, "FULL_OBJECT") == 0 : *algo == S3_CK_CRC64NVME;
    if (full && (*algo == S3_CK_SHA1 || *algo == S3_CK_SHA256))
        return s3__fail(op, -CN_EINVALID_REQUEST,
                        "The FULL_OBJECT checksum type cannot be used with the %s checksum algorithm.",
                        s3__ck_name(*algo));
    if (!full && *algo == S3_CK_CRC64NVME)
        return s3__fail(op, -CN_EINVALID_REQUEST,
                        "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.");
    *type = full ? "FULL_OBJECT" : "COMPOSITE";
    return 0;
}

int s3__create_upload(s3_op *op)
{
    s3_attrs at = {0};
    obj_tags tags = {0};
    obj_mpu_create_args a;
    char id[64];
    const char *h = s3__hdr(op, "x-amz-tagging"), *why = NULL, *ck_type = NULL;
    s3_ck_algo ck = S3_CK_NONE;
    s3_xw w;
    int err;

    memset(&a, 0, sizeof(a));
    err = s3__check_put_headers(op);
    if (err == 0)
        err = s3__acl_header(op, &a.acl);
    if (err == 0)
        err = upload_checksum(op, &ck, &ck_type);
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
    a.storage_class = s3__hdr(op, "x-amz-storage-class");
    a.checksum_algo = ck != S3_CK_NONE ? s3__ck_name(ck) : NULL;
    a.checksum_type = ck_type;
    err = obj_mpu_create(op->ctx->store, &a, id);
    if (err == 0 && ck != S3_CK_NONE)
        err = cn_res_add_header(op->res, "x-amz-checksum-algorithm", s3__ck_upper(ck));
    if (err == 0 && ck != S3_CK_NONE)
        err = cn_res_add_header(op->res, "x-amz-checksum-type", ck_type);
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

/* The completed object's checksum, when it has one: what the version stores
 * as x-amz-checksum-<algo> and x-amz-checksum-type. */
typedef struct s3_obj_ck {
    s3_ck_algo algo;
    char name[32];  /* "x-amz-checksum-crc32" */
    char value[80]; /* "<base64>-N" */
    obj_attr attrs[2];
} s3_obj_ck;

static int complete_result(s3_op *op, const obj_version *v, const s3_obj_ck *ck)
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
    if (ck->algo != S3_CK_NONE) {
        s3__xw_elem(&w, s3__ck_elem(ck->algo), ck->value);
        s3__xw_elem(&w, "ChecksumType", "COMPOSITE");
    }
    s3__xw_close(&w, "CompleteMultipartUploadResult");
    return s3__xw_send(&w, op->res);
}

/* For a COMPOSITE upload whose request names a checksum of the upload's
 * algorithm for every part, the checksum of those checksums. A part named
 * with another algorithm is InvalidPart (it was stored with the upload's);
 * a part named without one leaves the object without a checksum (see the
 * file comment). */
static int object_checksum(s3_op *op, const char *id, const s3_part_list *parts, s3_obj_ck *ck)
{
    obj_mpu u;
    size_t i;
    int err;

    memset(ck, 0, sizeof(*ck));
    memset(&u, 0, sizeof(u));
    err = obj_mpu_get(op->ctx->store, op->rt->bucket, op->rt->key, id, &u);
    if (err < 0)
        return err;
    ck->algo = s3__ck_from_name(u.checksum_algo);
    if (ck->algo == S3_CK_NONE || strcmp(u.checksum_type, "COMPOSITE") != 0)
        goto none;
    for (i = 0; i < parts->n; i++) {
        const char *a = parts->v[i].checksum.algo;
        if (a[0] == '\0')
            goto none;
        if (s3__ck_from_name(a) != ck->algo) {
            err = -CN_EINVALID_PART;
            goto none;
        }
    }
    err = s3__ck_composite(ck->algo, parts->v, parts->n, ck->value);
    if (err < 0)
        goto none; /* a malformed value: no stored part has it */
    snprintf(ck->name, sizeof(ck->name), "x-amz-checksum-%s", s3__ck_name(ck->algo));
    ck->attrs[0].name = ck->name;
    ck->attrs[0].value = ck->value;
    ck->attrs[1].name = "x-amz-checksum-type";
    ck->attrs[1].value = "COMPOSITE";
    obj_mpu_dispose(&u);
    return 0;
none:
    ck->algo = S3_CK_NONE;
    obj_mpu_dispose(&u);
    return err;
}

int s3__complete_upload(s3_op *op)
{
    cn_buf body;
    s3_part_list parts = {0};
    obj_mpu_complete_args a;
    s3_obj_ck ck;
    obj_version v;
    char id[64];
    int err;

    memset(&v, 0, sizeof(v));
    memset(&a, 0, sizeof(a));
    memset(&ck, 0, sizeof(ck));
    cn_buf_init(&body, S3_MAX_COMPLETE_BODY);
    err = s3__upload_id(op, id);
    if (err == 0)
        err = s3__write_cond(op, &a.if_none_match_star, &a.if_match_etag);
    if (err == 0)
        err = s3__body_read_all(op, S3_MAX_COMPLETE_BODY, &body);
    if (err == 0)
        err = s3__xml_complete(body.data, body.len, &parts);
    if (err == 0)
        err = object_checksum(op, id, &parts, &ck);
    if (err < 0)
        goto out;
    a.bucket = op->rt->bucket;
    a.key = op->rt->key;
    a.upload_id = id;
    a.parts = parts.v;
    a.n = parts.n;
    a.attrs = ck.algo != S3_CK_NONE ? ck.attrs : NULL;
    a.n_attrs = ck.algo != S3_CK_NONE ? 2 : 0;
    err = obj_mpu_complete(op->ctx->store, &a, &v);
    if (err == 0)
        err = complete_result(op, &v, &ck);
out:
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

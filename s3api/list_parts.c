/*
 * list_parts: ListParts (GET ?uploadId) and ListMultipartUploads (GET
 * ?uploads). Both page with markers the object layer returns; max-parts and
 * max-uploads are capped at 1000 as in S3. Owner and initiator are the same
 * principal here: only a bucket's owner may start uploads in it. An upload's
 * checksum algorithm and type, and each part's stored checksum, are listed
 * as S3 lists them (ChecksumAlgorithm, ChecksumType, Part/ChecksumCRC32...).
 */
#include <stdlib.h>
#include <string.h>

#include "s3int.h"

static void person(s3_xw *w, const char *elem, const char *who)
{
    s3__xw_open(w, elem);
    s3__xw_elem(w, "ID", who);
    s3__xw_elem(w, "DisplayName", who);
    s3__xw_close(w, elem);
}

static const char *storage_class(const char *sc)
{
    return sc[0] != '\0' ? sc : "STANDARD";
}

static void upload_checksum(s3_xw *w, const obj_mpu *u)
{
    s3_ck_algo a = s3__ck_from_name(u->checksum_algo);

    if (a == S3_CK_NONE)
        return;
    s3__xw_elem(w, "ChecksumAlgorithm", s3__ck_upper(a));
    if (u->checksum_type[0] != '\0')
        s3__xw_elem(w, "ChecksumType", u->checksum_type);
}

static void write_parts(s3_op *op, s3_xw *w, const obj_parts_result *r, long marker, long max)
{
    s3_ck_algo a;
    size_t i;

    s3__xw_begin(w, &op->res->body, "ListPartsResult");
    s3__xw_elem(w, "Bucket", op->rt->bucket);
    s3__xw_elem_n(w, "Key", op->rt->key, op->rt->key_len);
    s3__xw_elem(w, "UploadId", r->upload.upload_id);
    person(w, "Initiator", r->upload.owner);
    person(w, "Owner", r->upload.owner);
    s3__xw_elem(w, "StorageClass", storage_class(r->upload.storage_class));
    upload_checksum(w, &r->upload);
    s3__xw_elemf(w, "PartNumberMarker", "%ld", marker);
    s3__xw_elemf(w, "NextPartNumberMarker", "%d",
                 r->truncated ? r->next_marker : (r->n > 0 ? r->parts[r->n - 1].number : 0));
    s3__xw_elemf(w, "MaxParts", "%ld", max);
    s3__xw_elem_bool(w, "IsTruncated", r->truncated);
    for (i = 0; i < r->n; i++) {
        s3__xw_open(w, "Part");
        s3__xw_elemf(w, "PartNumber", "%d", r->parts[i].number);
        s3__xw_elem_time(w, "LastModified", r->parts[i].mtime_ms);
        s3__xw_elem(w, "ETag", r->parts[i].etag);
        s3__xw_elemf(w, "Size", "%llu", (unsigned long long)r->parts[i].size);
        a = s3__ck_from_name(r->parts[i].checksum.algo);
        if (a != S3_CK_NONE)
            s3__xw_elem(w, s3__ck_elem(a), r->parts[i].checksum.value);
        s3__xw_close(w, "Part");
    }
    s3__xw_close(w, "ListPartsResult");
}

int s3__list_parts(s3_op *op)
{
    obj_parts_result r;
    char id[64];
    long marker = 0, max = 1000;
    s3_xw w;
    int err;

    memset(&r, 0, sizeof(r));
    err = s3__upload_id(op, id);
    if (err == 0)
        err = s3__qint(op, "part-number-marker", 0, OBJ_MAX_PARTS, &marker);
    if (err == 0)
        err = s3__qint(op, "max-parts", 1000, 1000, &max);
    if (err == 0)
        err = obj_mpu_list_parts(op->ctx->store, op->rt->bucket, op->rt->key, id, (int)marker, (int)max, &r);
    if (err == 0) {
        write_parts(op, &w, &r, marker, max);
        err = s3__xw_send(&w, op->res);
    }
    obj_parts_dispose(&r);
    return err;
}

typedef struct uploads_q {
    char prefix[S3_QVAL_MAX], delim[S3_QVAL_MAX], key_marker[S3_QVAL_MAX], id_marker[128];
    int has_delim, url;
    long max;
} uploads_q;

static int uploads_query(s3_op *op, uploads_q *q)
{
    int n;

    if (s3__qget(op, "prefix", q->prefix, sizeof(q->prefix)) < -1 ||
        s3__qget(op, "key-marker", q->key_marker, sizeof(q->key_marker)) < -1 ||
        s3__qget(op, "upload-id-marker", q->id_marker, sizeof(q->id_marker)) < -1)
        return -CN_EINVALID_ARGUMENT;
    n = s3__qget(op, "delimiter", q->delim, sizeof(q->delim));
    if (n < -1)
        return -CN_EINVALID_ARGUMENT;
    q->has_delim = n >= 0;
    n = s3__q_encoding(op, &q->url);
    if (n < 0)
        return n;
    return s3__qint(op, "max-uploads", 1000, 1000, &q->max);
}

static void write_uploads(s3_op *op, s3_xw *w, const uploads_q *q, const obj_mpu_list_result *r)
{
    size_t i;

    s3__xw_begin(w, &op->res->body, "ListMultipartUploadsResult");
    s3__xw_elem(w, "Bucket", op->rt->bucket);
    s3__xw_elem_enc(w, "KeyMarker", q->key_marker, q->url);
    s3__xw_elem(w, "UploadIdMarker", q->id_marker);
    s3__xw_elem_enc(w, "NextKeyMarker", r->next_key_marker, q->url);
    s3__xw_elem(w, "NextUploadIdMarker", r->next_upload_id_marker);
    if (q->has_delim)
        s3__xw_elem_enc(w, "Delimiter", q->delim, q->url);
    s3__xw_elem_enc(w, "Prefix", q->prefix, q->url);
    s3__xw_elemf(w, "MaxUploads", "%ld", q->max);
    s3__xw_elem_bool(w, "IsTruncated", r->truncated);
    if (q->url)
        s3__xw_elem(w, "EncodingType", "url");
    for (i = 0; i < r->n; i++) {
        s3__xw_open(w, "Upload");
        s3__xw_elem_enc(w, "Key", r->uploads[i].key, q->url);
        s3__xw_elem(w, "UploadId", r->uploads[i].upload_id);
        person(w, "Initiator", r->uploads[i].owner);
        person(w, "Owner", r->uploads[i].owner);
        s3__xw_elem(w, "StorageClass", storage_class(r->uploads[i].storage_class));
        s3__xw_elem_time(w, "Initiated", r->uploads[i].initiated_ms);
        upload_checksum(w, &r->uploads[i]);
        s3__xw_close(w, "Upload");
    }
    s3__xw_prefixes(w, r->prefixes, r->n_prefixes, q->url);
    s3__xw_close(w, "ListMultipartUploadsResult");
}

static void uploads_args(const s3_op *op, const uploads_q *q, obj_mpu_list_args *a)
{
    memset(a, 0, sizeof(*a));
    a->bucket = op->rt->bucket;
    a->prefix = s3__qarg(q->prefix);
    a->delimiter = s3__qarg(q->delim);
    a->key_marker = s3__qarg(q->key_marker);
    a->upload_id_marker = s3__qarg(q->id_marker);
    a->max_uploads = (int)q->max;
}

int s3__list_uploads(s3_op *op)
{
    uploads_q *q = calloc(1, sizeof(*q));
    obj_mpu_list_args a;
    obj_mpu_list_result r;
    s3_xw w;
    int err;

    memset(&r, 0, sizeof(r));
    if (q == NULL)
        return -CN_ENOMEM;
    err = uploads_query(op, q);
    if (err == 0) {
        uploads_args(op, q, &a);
        err = obj_mpu_list(op->ctx->store, &a, &r);
    }
    if (err == 0) {
        write_uploads(op, &w, q, &r);
        err = s3__xw_send(&w, op->res);
    }
    obj_mpu_list_dispose(&r);
    free(q);
    return err;
}

/*
 * delete_object: DeleteObject and DeleteObjects.
 *
 * Deleting a key that does not exist succeeds, as in S3 (the object layer
 * guarantees it). DeleteObjects answers 200 with one <Deleted> or <Error> per
 * key, in request order; Quiet mode leaves out the <Deleted> ones. Its body
 * is capped at S3_MAX_DELETE_BODY: 1000 keys of 1024 bytes with their markup
 * fit. S3 demands Content-MD5 or a checksum here; we verify them when sent
 * (body.c) but do not insist, so that older clients keep working.
 * DeleteObjects authorizes every key on its own (handle.c, SCOPE_KEYS): one
 * that is denied gets an AccessDenied <Error> and the others proceed.
 */
#include <stdio.h>
#include <string.h>

#include "s3int.h"

#define S3_MAX_DELETE_BODY (2u << 20)

static int delete_headers(s3_op *op, const obj_delete_result *r)
{
    int err = 0;

    if (r->delete_marker)
        err = cn_res_add_header(op->res, "x-amz-delete-marker", "true");
    /* A marker's id is named even when it is "null" (suspended bucket). */
    if (err == 0 && r->version_id[0] != '\0' && (r->delete_marker || strcmp(r->version_id, "null") != 0))
        err = cn_res_add_header(op->res, "x-amz-version-id", r->version_id);
    return err;
}

int s3__delete_object(s3_op *op)
{
    char buf[128];
    const char *vid = NULL;
    obj_delete_result r;
    int err;

    memset(&r, 0, sizeof(r));
    err = s3__version_id(op, buf, sizeof(buf), &vid);
    if (err == 0)
        err = obj_delete(op->ctx->store, op->rt->bucket, op->rt->key, vid, &r);
    if (err < 0)
        return err;
    op->res->status = 204;
    return delete_headers(op, &r);
}

static void write_error(s3_xw *w, const s3_del_item *it, int err)
{
    const cn_err_info_t *info = cn_err_info(err);

    s3__xw_open(w, "Error");
    s3__xw_elem_n(w, "Key", it->key, it->key_len);
    if (it->version_id != NULL)
        s3__xw_elem(w, "VersionId", it->version_id);
    s3__xw_elem(w, "Code", info->code);
    s3__xw_elem(w, "Message", info->message);
    s3__xw_close(w, "Error");
}

static void write_deleted(s3_xw *w, const s3_del_item *it, const obj_delete_result *r)
{
    s3__xw_open(w, "Deleted");
    s3__xw_elem_n(w, "Key", it->key, it->key_len);
    if (it->version_id != NULL)
        s3__xw_elem(w, "VersionId", it->version_id);
    if (r->delete_marker) {
        s3__xw_elem_bool(w, "DeleteMarker", 1);
        if (r->version_id[0] != '\0')
            s3__xw_elem(w, "DeleteMarkerVersionId", r->version_id);
    }
    s3__xw_close(w, "Deleted");
}

/* Each key is authorized as its own DeleteObject (or DeleteObjectVersion):
 * a policy or capability scoped to part of the bucket governs it alike. */
static int authorize_key(s3_op *op, const s3_del_item *it)
{
    s3_az_req az = {.action = "s3:DeleteObject",
                    .perm = S3_PERM_DELETE,
                    .bucket = op->rt->bucket,
                    .key = it->key,
                    .version_id = it->version_id};
    obj_bucket b;

    return s3__authorize_on(op, &az, &b);
}

static void delete_one(s3_op *op, s3_xw *w, const s3_del_item *it, int quiet)
{
    obj_delete_result r;
    int err;

    memset(&r, 0, sizeof(r));
    err = obj_key_valid(it->key, it->key_len);
    if (err == 0)
        err = authorize_key(op, it);
    if (err == 0)
        err = obj_delete(op->ctx->store, op->rt->bucket, it->key, it->version_id, &r);
    if (err < 0)
        write_error(w, it, err);
    else if (!quiet)
        write_deleted(w, it, &r);
}

int s3__delete_objects(s3_op *op)
{
    cn_buf body;
    s3_del_list l = {0};
    s3_xw w;
    size_t i;
    int err;

    cn_buf_init(&body, S3_MAX_DELETE_BODY);
    err = s3__body_read_all(op, S3_MAX_DELETE_BODY, &body);
    if (err == 0)
        err = s3__xml_delete(body.data, body.len, &l);
    if (err < 0)
        goto out;
    s3__xw_begin(&w, &op->res->body, "DeleteResult");
    for (i = 0; i < l.n; i++)
        delete_one(op, &w, &l.v[i], l.quiet);
    s3__xw_close(&w, "DeleteResult");
    err = s3__xw_send(&w, op->res);
out:
    s3__del_list_dispose(&l);
    cn_buf_dispose(&body);
    return err;
}

/*
 * get_object: GetObject and HeadObject, which differ only in the body.
 *
 * Order of checks, as S3 does them: the version must exist (a delete marker
 * is 404 with x-amz-delete-marker), then the conditions (412 before 304, see
 * cond.c), then the Range (416 with "Content-Range: bytes * /size"). The body
 * is never buffered: obj_open() gives a stream over just the bytes asked for,
 * and the gateway drains it. A ranged answer carries no x-amz-checksum-*,
 * since the stored checksum covers the whole object.
 *
 * Head and open are two steps, and an overwrite may replace the version in
 * between: obj_open() then answers -CN_ENO_KEY. As obj.h advises, the whole
 * decision (head, conditions, range) is taken again against the new version,
 * up to OPEN_ATTEMPTS times; no header is written before the stream is open,
 * so a retry starts from a clean response. Only a key overwritten that often
 * in a row ends as NoSuchKey.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../common/util.h"
#include "s3int.h"

#define OPEN_ATTEMPTS 3

static int not_modified(s3_op *op, const obj_version *v)
{
    char date[40];
    int err;

    cn_time_rfc1123(date, (time_t)(v->mtime_ms / 1000));
    op->res->status = 304;
    op->res->no_body = 1;
    op->res->content_length = 0;
    err = cn_res_add_header(op->res, "etag", v->etag);
    if (err == 0)
        err = cn_res_add_header(op->res, "last-modified", date);
    return err;
}

static int check_conditions(s3_op *op, const obj_version *v)
{
    s3_cond c;

    c.if_match = s3__hdr(op, "if-match");
    c.if_none_match = s3__hdr(op, "if-none-match");
    c.if_modified_since = s3__hdr(op, "if-modified-since");
    c.if_unmodified_since = s3__hdr(op, "if-unmodified-since");
    return s3__cond_eval(&c, v->etag, v->mtime_ms);
}

static int head_version(s3_op *op, obj_version *v)
{
    char buf[128];
    const char *vid = NULL;
    int err = s3__version_id(op, buf, sizeof(buf), &vid);

    if (err < 0)
        return err;
    err = obj_head(op->ctx->store, op->rt->bucket, op->rt->key, vid, v);
    if (err < 0 && v->delete_marker)
        s3__marker_error_headers(op, v);
    return err;
}

/* Heads the version and decides the answer: 0 with *ranged and rg set (and
 * *st open for a GET), -CN_ENOT_MODIFIED, or an error. Writes no header. */
static int head_and_open(s3_op *op, int head, obj_version *v, s3_range *rg, int *ranged, cn_stream **st)
{
    int err = head_version(op, v);

    if (err < 0)
        return err;
    err = check_conditions(op, v);
    if (err < 0)
        return err;
    *ranged = s3__range_parse(s3__hdr(op, "range"), v->size, rg);
    if (*ranged < 0) {
        s3__err_header(op, "content-range", "bytes */%llu", (unsigned long long)v->size);
        return *ranged;
    }
    if (!*ranged) {
        rg->off = 0;
        rg->len = v->size;
    }
    return head ? 0 : obj_open(op->ctx->store, v, rg->off, rg->len, st);
}

int s3__get_object(s3_op *op)
{
    int head = op->rt->op == S3_OP_HEAD_OBJECT;
    const char *mode = s3__hdr(op, "x-amz-checksum-mode");
    obj_version v;
    s3_range rg = {0, 0};
    cn_stream *st = NULL;
    int err, ranged = 0, attempt;

    memset(&v, 0, sizeof(v));
    for (attempt = 1;; attempt++) {
        err = head_and_open(op, head, &v, &rg, &ranged, &st);
        /* -CN_ENO_KEY after a successful head can only come from obj_open. */
        if (err != -CN_ENO_KEY || v.vid == 0 || v.delete_marker || attempt == OPEN_ATTEMPTS)
            break;
        /* The version was there at head and gone at open: replaced meanwhile. */
        obj_version_dispose(&v);
    }
    if (err == -CN_ENOT_MODIFIED) {
        err = not_modified(op, &v);
        goto out;
    }
    if (err < 0)
        goto out;
    err = s3__version_headers(op, &v, !ranged && mode != NULL && strcasecmp(mode, "ENABLED") == 0);
    if (err == 0 && ranged)
        err = cn_res_add_headerf(op->res, "content-range", "bytes %llu-%llu/%llu", (unsigned long long)rg.off,
                                 (unsigned long long)(rg.off + rg.len - 1), (unsigned long long)v.size);
    if (err < 0)
        goto out;
    op->res->status = ranged ? 206 : 200;
    if (head) {
        op->res->no_body = 1;
        op->res->content_length = rg.len;
        goto out;
    }
    op->res->stream = st;
    op->res->stream_len = rg.len;
    st = NULL;
out:
    if (st != NULL)
        st->close(st);
    obj_version_dispose(&v);
    return err;
}

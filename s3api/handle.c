/*
 * handle: s3_handle(), the one entry point of s3api.
 *
 *   route (router.c) --> authorize (below) --> handler (one file per op)
 *        \________________ error? s3__error_doc (error.c) _______/
 *
 * Authorization is the chain of authz.c, fed from the table below: the
 * action and permission each operation needs.
 *
 * x-amz-request-id is stamped by the gateway on every response (job.c).
 *
 * Handlers return 0 with res filled, or a negative CN_E* (with op->err_msg
 * when S3 has a more specific message than the table's); they never write an
 * error document themselves.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

/* SCOPE_KEYS: DeleteObjects names its objects in the body; each one is
 * authorized as a DeleteObject of that key (delete_object.c), as AWS does,
 * so that a policy on a prefix of keys governs it like a single delete. */
enum { SCOPE_SERVICE, SCOPE_BUCKET, SCOPE_OBJECT, SCOPE_KEYS };
enum { V = 1 }; /* ?versionId names a version: the action has a ...Version form */

/* Each operation: its handler, what it addresses, the policy action it
 * needs (auth/policy.c), the capability permission it needs (authz.c), and
 * whether a versionId in the query is part of what is authorized. */
static const struct {
    s3_handler fn;
    int scope;
    const char *action;
    unsigned perm;
    int versioned;
} ops[S3_OP_COUNT] = {
    [S3_OP_LIST_BUCKETS] = {s3__list_buckets, SCOPE_SERVICE, "s3:ListAllMyBuckets", 0},
    [S3_OP_CREATE_BUCKET] = {s3__create_bucket, SCOPE_SERVICE, "s3:CreateBucket", 0},
    [S3_OP_HEAD_BUCKET] = {s3__head_bucket, SCOPE_BUCKET, "s3:ListBucket", S3_PERM_LIST},
    [S3_OP_DELETE_BUCKET] = {s3__delete_bucket, SCOPE_BUCKET, "s3:DeleteBucket", S3_PERM_OWNER},
    [S3_OP_GET_BUCKET_LOCATION] = {s3__get_bucket_location, SCOPE_BUCKET, "s3:GetBucketLocation", S3_PERM_LIST},
    [S3_OP_GET_BUCKET_VERSIONING] = {s3__get_bucket_versioning, SCOPE_BUCKET, "s3:GetBucketVersioning", S3_PERM_LIST},
    [S3_OP_PUT_BUCKET_VERSIONING] = {s3__put_bucket_versioning, SCOPE_BUCKET, "s3:PutBucketVersioning", S3_PERM_OWNER},
    [S3_OP_LIST_OBJECT_VERSIONS] = {s3__list_versions, SCOPE_BUCKET, "s3:ListBucketVersions", S3_PERM_LIST},
    [S3_OP_GET_BUCKET_ACL] = {s3__get_acl, SCOPE_BUCKET, "s3:GetBucketAcl", S3_PERM_OWNER},
    [S3_OP_PUT_BUCKET_ACL] = {s3__put_acl, SCOPE_BUCKET, "s3:PutBucketAcl", S3_PERM_OWNER},
    [S3_OP_GET_BUCKET_TAGGING] = {s3__get_tagging, SCOPE_BUCKET, "s3:GetBucketTagging", S3_PERM_OWNER},
    [S3_OP_PUT_BUCKET_TAGGING] = {s3__put_tagging, SCOPE_BUCKET, "s3:PutBucketTagging", S3_PERM_OWNER},
    [S3_OP_DELETE_BUCKET_TAGGING] = {s3__delete_tagging, SCOPE_BUCKET, "s3:PutBucketTagging", S3_PERM_OWNER},
    [S3_OP_GET_BUCKET_POLICY] = {s3__get_bucket_policy, SCOPE_BUCKET, "s3:GetBucketPolicy", S3_PERM_OWNER},
    [S3_OP_PUT_BUCKET_POLICY] = {s3__put_bucket_policy, SCOPE_BUCKET, "s3:PutBucketPolicy", S3_PERM_OWNER},
    [S3_OP_DELETE_BUCKET_POLICY] = {s3__delete_bucket_policy, SCOPE_BUCKET, "s3:DeleteBucketPolicy", S3_PERM_OWNER},
    [S3_OP_LIST_OBJECTS] = {s3__list_objects, SCOPE_BUCKET, "s3:ListBucket", S3_PERM_LIST},
    [S3_OP_LIST_OBJECTS_V2] = {s3__list_objects, SCOPE_BUCKET, "s3:ListBucket", S3_PERM_LIST},
    [S3_OP_LIST_MULTIPART_UPLOADS] = {s3__list_uploads, SCOPE_BUCKET, "s3:ListBucketMultipartUploads", S3_PERM_LIST},
    [S3_OP_DELETE_OBJECTS] = {s3__delete_objects, SCOPE_KEYS, "s3:DeleteObject", S3_PERM_DELETE},
    [S3_OP_PUT_OBJECT] = {s3__put_object, SCOPE_OBJECT, "s3:PutObject", S3_PERM_WRITE},
    [S3_OP_COPY_OBJECT] = {s3__copy_object, SCOPE_OBJECT, "s3:PutObject", S3_PERM_WRITE},
    [S3_OP_GET_OBJECT] = {s3__get_object, SCOPE_OBJECT, "s3:GetObject", S3_PERM_READ, V},
    [S3_OP_HEAD_OBJECT] = {s3__get_object, SCOPE_OBJECT, "s3:GetObject", S3_PERM_READ, V},
    [S3_OP_DELETE_OBJECT] = {s3__delete_object, SCOPE_OBJECT, "s3:DeleteObject", S3_PERM_DELETE, V},
    [S3_OP_GET_OBJECT_ACL] = {s3__get_acl, SCOPE_OBJECT, "s3:GetObjectAcl", S3_PERM_OWNER, V},
    [S3_OP_PUT_OBJECT_ACL] = {s3__put_acl, SCOPE_OBJECT, "s3:PutObjectAcl", S3_PERM_OWNER, V},
    [S3_OP_GET_OBJECT_TAGGING] = {s3__get_tagging, SCOPE_OBJECT, "s3:GetObjectTagging", S3_PERM_READ, V},
    [S3_OP_PUT_OBJECT_TAGGING] = {s3__put_tagging, SCOPE_OBJECT, "s3:PutObjectTagging", S3_PERM_WRITE, V},
    [S3_OP_DELETE_OBJECT_TAGGING] = {s3__delete_tagging, SCOPE_OBJECT, "s3:DeleteObjectTagging", S3_PERM_WRITE, V},
    [S3_OP_CREATE_MULTIPART_UPLOAD] = {s3__create_upload, SCOPE_OBJECT, "s3:PutObject", S3_PERM_WRITE},
    [S3_OP_UPLOAD_PART] = {s3__upload_part, SCOPE_OBJECT, "s3:PutObject", S3_PERM_WRITE},
    [S3_OP_UPLOAD_PART_COPY] = {s3__upload_part_copy, SCOPE_OBJECT, "s3:PutObject", S3_PERM_WRITE},
    [S3_OP_COMPLETE_MULTIPART_UPLOAD] = {s3__complete_upload, SCOPE_OBJECT, "s3:PutObject", S3_PERM_WRITE},
    [S3_OP_ABORT_MULTIPART_UPLOAD] = {s3__abort_upload, SCOPE_OBJECT, "s3:AbortMultipartUpload", S3_PERM_WRITE},
    [S3_OP_LIST_PARTS] = {s3__list_parts, SCOPE_OBJECT, "s3:ListMultipartUploadParts", S3_PERM_WRITE},
    [S3_OP_GET_OBJECT_LINEAGE] = {s3__get_lineage, SCOPE_OBJECT, "s3:GetObjectLineage", S3_PERM_HISTORY},
};

/* ---- helpers shared by the handlers ---- */

void s3__err_header(s3_op *op, const char *name, const char *fmt, ...)
{
    va_list ap;
    int i = op->n_err_hdrs;

    if (i >= (int)CN_ARRAY_SIZE(op->err_hdrs))
        return;
    va_start(ap, fmt);
    vsnprintf(op->err_hdrs[i].value, sizeof(op->err_hdrs[i].value), fmt, ap);
    va_end(ap);
    op->err_hdrs[i].name = name;
    op->n_err_hdrs++;
}

int s3__fail(s3_op *op, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(op->msg_buf, sizeof(op->msg_buf), fmt, ap);
    va_end(ap);
    op->err_msg = op->msg_buf;
    return err;
}

const char *s3__hdr(const s3_op *op, const char *name)
{
    return cn_req_header_str(op->req, name);
}

const char *s3__principal(const s3_op *op)
{
    if (op->ar == NULL || op->ar->kind == AUTH_ANONYMOUS)
        return "";
    return op->ar->principal;
}

/* Raw (still encoded) length of a query parameter's value, -1 if absent. */
static long raw_len(const char *q, const char *name)
{
    size_t nl = strlen(name);
    const char *p = q;

    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len >= nl && strncmp(p, name, nl) == 0 && (len == nl || p[nl] == '='))
            return len == nl ? 0 : (long)(len - nl - 1);
        p = end != NULL ? end + 1 : NULL;
    }
    return -1;
}

int s3__qget(const s3_op *op, const char *name, char *out, size_t cap)
{
    const char *q = op->req->query != NULL ? op->req->query : "";
    long raw = raw_len(q, name);
    int n;

    out[0] = '\0';
    if (raw < 0 && !cn_query_has(q, name))
        return -1;
    /* Decoding never lengthens, so a raw value that fits decodes into cap. */
    if (raw >= (long)cap)
        return -CN_EINVALID_ARGUMENT;
    n = cn_query_get(q, name, out, cap);
    if (n < 0 || memchr(out, '\0', (size_t)n) != NULL)
        return -CN_EINVALID_ARGUMENT;
    return n;
}

int s3__qint(const s3_op *op, const char *name, long def, long max, long *out)
{
    char buf[32], *end;
    long v;
    int n = s3__qget(op, name, buf, sizeof(buf));

    *out = def;
    if (n == -1)
        return 0;
    v = n > 0 ? strtol(buf, &end, 10) : -1;
    if (n < 0 || buf[0] < '0' || buf[0] > '9' || *end != '\0' || v < 0)
        return s3__fail((s3_op *)op, -CN_EINVALID_ARGUMENT, "Provided %s not an integer or within integer range", name);
    *out = v > max ? max : v;
    return 0;
}

/* ---- the request ---- */

static int authorize(s3_op *op)
{
    char vid[128];
    int scope = ops[op->rt->op].scope, err = 0;
    s3_az_req az = {.action = ops[op->rt->op].action,
                    .perm = ops[op->rt->op].perm,
                    .bucket = scope != SCOPE_SERVICE ? op->rt->bucket : NULL,
                    .key = scope == SCOPE_OBJECT ? op->rt->key : NULL};

    if (scope == SCOPE_KEYS) /* the handler authorizes each key */
        return obj_bucket_get(op->ctx->store, op->rt->bucket, &op->bucket);
    if (az.key != NULL) {
        /* The key travels on as a C string: an escaped NUL must stop here. */
        if (memchr(op->rt->key, '\0', op->rt->key_len) != NULL)
            return -CN_EINVALID_KEY;
        if (obj_key_valid(op->rt->key, op->rt->key_len) != 0)
            return obj_key_valid(op->rt->key, op->rt->key_len);
    }
    if (ops[op->rt->op].versioned)
        err = s3__version_id(op, vid, sizeof(vid), &az.version_id);
    return err < 0 ? err : s3__authorize(op, &az, az.bucket != NULL ? &op->bucket : NULL);
}

/* The extra element AWS puts in <Error> for this code, unless the handler named one. */
static void error_extra(s3_op *op, int err, const char **name, const char **value)
{
    *name = op->err_extra_name;
    *value = op->err_extra_value;
    if (*name != NULL)
        return;
    switch (-err) {
    case CN_ENO_BUCKET:
    case CN_EBUCKET_EXISTS:
    case CN_EBUCKET_TAKEN:
    case CN_EBUCKET_NOT_EMPTY:
    case CN_EINVALID_BUCKET_NAME:
    case CN_ENO_TAGSET:
    case CN_ENO_POLICY:
        *name = op->rt->bucket[0] != '\0' ? "BucketName" : NULL;
        *value = op->rt->bucket;
        break;
    case CN_ENO_KEY:
        *name = op->rt->key != NULL ? "Key" : NULL;
        *value = op->rt->key;
        break;
    case CN_ENO_UPLOAD:
        if (s3__qget(op, "uploadId", op->extra_buf, sizeof(op->extra_buf)) >= 0) {
            *name = "UploadId";
            *value = op->extra_buf;
        }
        break;
    default:
        break;
    }
}

/* Who and what, for the access log (a key may hold any byte but NUL, which
 * the log escapes). */
static void log_target(s3_op *op, const s3_route *rt)
{
    snprintf(op->res->principal, sizeof(op->res->principal), "%s", s3__principal(op));
    if (rt->bucket[0] != '\0')
        op->res->bucket = strdup(rt->bucket);
    if (rt->key != NULL)
        op->res->key = strndup(rt->key, rt->key_len);
}

void s3_handle(const s3_ctx *ctx, const cn_request *req, const auth_result *ar, cn_response *res)
{
    s3_route rt;
    s3_op op;
    const char *xname, *xvalue;
    int err, i;

    memset(&op, 0, sizeof(op));
    op.ctx = ctx;
    op.req = req;
    op.ar = ar;
    op.res = res;
    op.rt = &rt;
    err = s3__route(&ctx->cfg, req, &rt);
    res->op_name = s3__op_name(rt.op);
    log_target(&op, &rt);
    if (err == 0)
        err = authorize(&op);
    if (err == 0)
        err = ops[rt.op].fn(&op);
    if (err < 0) {
        error_extra(&op, err, &xname, &xvalue);
        s3__error_doc(res, req, err, op.err_msg, xname, xvalue);
        for (i = 0; i < op.n_err_hdrs; i++)
            cn_res_add_header(res, op.err_hdrs[i].name, op.err_hdrs[i].value);
    } else if (res->status == 0) {
        res->status = 200;
    }
    s3__route_dispose(&rt);
}

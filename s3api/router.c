/*
 * router: from method, Host, raw path and query to (bucket, key, operation).
 *
 * - Path style "/bucket/key..." always works; virtual-hosted style
 *   "bucket.<domain>[:port]" works when cfg->domain is set. A Host equal to
 *   the domain itself, or any other host (an IP address), is path style.
 * - The key is the rest of the RAW path, percent-decoded exactly once. It is
 *   never normalised: "..", "//" and "%2F" are legal key bytes, and the
 *   object layer, not the router, decides which keys are acceptable.
 * - Query sub-resources pick the operation. Sub-resources S3 defines but we do
 *   not serve answer NotImplemented, never a wrong success; unknown parameters
 *   (x-id=..., which newer SDKs add) are ignored, as S3 ignores them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../common/util.h"
#include "s3int.h"

static const char *const op_names[S3_OP_COUNT] = {
    [S3_OP_NONE] = "Unsupported",
    [S3_OP_LIST_BUCKETS] = "ListBuckets",
    [S3_OP_CREATE_BUCKET] = "CreateBucket",
    [S3_OP_HEAD_BUCKET] = "HeadBucket",
    [S3_OP_DELETE_BUCKET] = "DeleteBucket",
    [S3_OP_GET_BUCKET_LOCATION] = "GetBucketLocation",
    [S3_OP_GET_BUCKET_VERSIONING] = "GetBucketVersioning",
    [S3_OP_PUT_BUCKET_VERSIONING] = "PutBucketVersioning",
    [S3_OP_LIST_OBJECT_VERSIONS] = "ListObjectVersions",
    [S3_OP_GET_BUCKET_ACL] = "GetBucketAcl",
    [S3_OP_PUT_BUCKET_ACL] = "PutBucketAcl",
    [S3_OP_GET_BUCKET_TAGGING] = "GetBucketTagging",
    [S3_OP_PUT_BUCKET_TAGGING] = "PutBucketTagging",
    [S3_OP_DELETE_BUCKET_TAGGING] = "DeleteBucketTagging",
    [S3_OP_LIST_OBJECTS] = "ListObjects",
    [S3_OP_LIST_OBJECTS_V2] = "ListObjectsV2",
    [S3_OP_LIST_MULTIPART_UPLOADS] = "ListMultipartUploads",
    [S3_OP_DELETE_OBJECTS] = "DeleteObjects",
    [S3_OP_PUT_OBJECT] = "PutObject",
    [S3_OP_COPY_OBJECT] = "CopyObject",
    [S3_OP_GET_OBJECT] = "GetObject",
    [S3_OP_HEAD_OBJECT] = "HeadObject",
    [S3_OP_DELETE_OBJECT] = "DeleteObject",
    [S3_OP_GET_OBJECT_ACL] = "GetObjectAcl",
    [S3_OP_PUT_OBJECT_ACL] = "PutObjectAcl",
    [S3_OP_GET_OBJECT_TAGGING] = "GetObjectTagging",
    [S3_OP_PUT_OBJECT_TAGGING] = "PutObjectTagging",
    [S3_OP_DELETE_OBJECT_TAGGING] = "DeleteObjectTagging",
    [S3_OP_CREATE_MULTIPART_UPLOAD] = "CreateMultipartUpload",
    [S3_OP_UPLOAD_PART] = "UploadPart",
    [S3_OP_UPLOAD_PART_COPY] = "UploadPartCopy",
    [S3_OP_COMPLETE_MULTIPART_UPLOAD] = "CompleteMultipartUpload",
    [S3_OP_ABORT_MULTIPART_UPLOAD] = "AbortMultipartUpload",
    [S3_OP_LIST_PARTS] = "ListParts",
    [S3_OP_GET_OBJECT_LINEAGE] = "GetObjectLineage",
    [S3_OP_GET_BUCKET_POLICY] = "GetBucketPolicy",
    [S3_OP_PUT_BUCKET_POLICY] = "PutBucketPolicy",
    [S3_OP_DELETE_BUCKET_POLICY] = "DeleteBucketPolicy",
};

/* Sub-resources S3 defines that we do not serve (yet). */
static const char *const unsupported[] = {
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "inventory",
    "intelligent-tiering",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "uploads",
    "versioning",
    "versions",
    "website",
    "uploadId",
    "partNumber",
    "delete",
    "location",
    "renameObject",
    "metadataConfiguration",
};

const char *s3__op_name(s3_op_id op)
{
    if (op < 0 || op >= S3_OP_COUNT || op_names[op] == NULL)
        return "Unsupported";
    return op_names[op];
}

static const char *find_unsupported(const char *query)
{
    size_t i;

    for (i = 0; i < CN_ARRAY_SIZE(unsupported); i++) {
        if (cn_query_has(query, unsupported[i]))
            return unsupported[i];
    }
    return NULL;
}

/* Length of host without ":port" (IPv6 literals keep their brackets). */
static size_t host_len(const char *h)
{
    const char *colon;

    if (h[0] == '[') {
        const char *end = strchr(h, ']');
        return end != NULL ? (size_t)(end - h + 1) : strlen(h);
    }
    colon = strchr(h, ':');
    return colon != NULL ? (size_t)(colon - h) : strlen(h);
}

/* Bucket from "bucket.<domain>"; 1 if virtual-hosted, 0 if path style. */
static int vhost_bucket(const s3_config *cfg, const char *host, s3_route *rt)
{
    size_t hl, dl, bl, i;

    if (cfg == NULL || cfg->domain == NULL || cfg->domain[0] == '\0' || host == NULL)
        return 0;
    hl = host_len(host);
    dl = strlen(cfg->domain);
    if (hl <= dl + 1 || host[hl - dl - 1] != '.' || strncasecmp(host + hl - dl, cfg->domain, dl) != 0)
        return 0;
    bl = hl - dl - 1;
    if (bl >= sizeof(rt->bucket))
        bl = sizeof(rt->bucket) - 1; /* too long for any bucket: NoSuchBucket later */
    /* Host names are case-insensitive; bucket names are lower case. */
    for (i = 0; i < bl; i++)
        rt->bucket[i] = (char)tolower((unsigned char)host[i]);
    rt->bucket[bl] = '\0';
    return 1;
}

int s3_vhost_bucket(const s3_config *cfg, const char *host, char *out, size_t cap)
{
    s3_route rt;

    memset(&rt, 0, sizeof(rt));
    if (!vhost_bucket(cfg, host, &rt))
        return 0;
    snprintf(out, cap, "%s", rt.bucket);
    return 1;
}

static int decode_key(const char *s, size_t n, s3_route *rt)
{
    int len;

    rt->key = malloc(n + 1);
    if (rt->key == NULL)
        return -CN_ENOMEM;
    len = cn_uri_decode(rt->key, n + 1, s, n, 0);
    if (len < 0) {
        rt->key[0] = '\0';
        rt->key_len = 0;
        return -CN_EINVALID_URI;
    }
    rt->key[len] = '\0';
    rt->key_len = (size_t)len;
    return 0;
}

/* Splits the raw path into bucket (path style) and key. */
static int split_path(const char *path, s3_route *rt)
{
    const char *p = path + 1, *slash;
    size_t n;
    int len;

    if (!rt->virtual_host) {
        slash = strchr(p, '/');
        n = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (n >= sizeof(rt->bucket))
            n = sizeof(rt->bucket) - 1; /* longer than any bucket: NoSuchBucket later */
        len = cn_uri_decode(rt->bucket, sizeof(rt->bucket), p, n, 0);
        if (len < 0 || memchr(rt->bucket, '\0', (size_t)len) != NULL) {
            rt->bucket[0] = '\0';
            return -CN_EINVALID_URI;
        }
        rt->bucket[len] = '\0';
        if (slash == NULL)
            return 0;
        p = slash + 1;
    }
    if (*p == '\0')
        return 0;
    return decode_key(p, strlen(p), rt);
}

static s3_op_id route_service(const char *m)
{
    return strcmp(m, "GET") == 0 ? S3_OP_LIST_BUCKETS : S3_OP_NONE;
}

static int route_bucket(const char *m, const char *q, s3_route *rt)
{
    char lt[8];

    if (strcmp(m, "GET") == 0) {
        if (cn_query_has(q, "location"))
            rt->op = S3_OP_GET_BUCKET_LOCATION;
        else if (cn_query_has(q, "versioning"))
            rt->op = S3_OP_GET_BUCKET_VERSIONING;
        else if (cn_query_has(q, "acl"))
            rt->op = S3_OP_GET_BUCKET_ACL;
        else if (cn_query_has(q, "tagging"))
            rt->op = S3_OP_GET_BUCKET_TAGGING;
        else if (cn_query_has(q, "uploads"))
            rt->op = S3_OP_LIST_MULTIPART_UPLOADS;
        else if (cn_query_has(q, "versions"))
            rt->op = S3_OP_LIST_OBJECT_VERSIONS;
        else if (cn_query_has(q, "policy"))
            rt->op = S3_OP_GET_BUCKET_POLICY;
        else if ((rt->unsupported = find_unsupported(q)) != NULL)
            return -CN_ENOTIMPL;
        else if (cn_query_get(q, "list-type", lt, sizeof(lt)) >= 0 && strcmp(lt, "2") == 0)
            rt->op = S3_OP_LIST_OBJECTS_V2;
        else
            rt->op = S3_OP_LIST_OBJECTS;
    } else if (strcmp(m, "PUT") == 0) {
        if (cn_query_has(q, "acl"))
            rt->op = S3_OP_PUT_BUCKET_ACL;
        else if (cn_query_has(q, "tagging"))
            rt->op = S3_OP_PUT_BUCKET_TAGGING;
        else if (cn_query_has(q, "versioning"))
            rt->op = S3_OP_PUT_BUCKET_VERSIONING;
        else if (cn_query_has(q, "policy"))
            rt->op = S3_OP_PUT_BUCKET_POLICY;
        else if ((rt->unsupported = find_unsupported(q)) != NULL)
            return -CN_ENOTIMPL;
        else
            rt->op = S3_OP_CREATE_BUCKET;
    } else if (strcmp(m, "DELETE") == 0) {
        if (cn_query_has(q, "tagging"))
            rt->op = S3_OP_DELETE_BUCKET_TAGGING;
        else if (cn_query_has(q, "policy"))
            rt->op = S3_OP_DELETE_BUCKET_POLICY;
        else if ((rt->unsupported = find_unsupported(q)) != NULL)
            return -CN_ENOTIMPL;
        else
            rt->op = S3_OP_DELETE_BUCKET;
    } else if (strcmp(m, "HEAD") == 0) {
        rt->op = S3_OP_HEAD_BUCKET;
    } else if (strcmp(m, "POST") == 0 && cn_query_has(q, "delete")) {
        rt->op = S3_OP_DELETE_OBJECTS;
    }
    return rt->op == S3_OP_NONE ? -CN_ENOTIMPL : 0;
}

static int route_object_put(const cn_request *req, const char *q, s3_route *rt)
{
    int copy = cn_req_header(req, "x-amz-copy-source") != NULL;

    if (cn_query_has(q, "uploadId")) {
        if (!cn_query_has(q, "partNumber"))
            return -CN_EINVALID_ARGUMENT;
        rt->op = copy ? S3_OP_UPLOAD_PART_COPY : S3_OP_UPLOAD_PART;
    } else if (cn_query_has(q, "tagging")) {
        rt->op = S3_OP_PUT_OBJECT_TAGGING;
    } else if (cn_query_has(q, "acl")) {
        rt->op = S3_OP_PUT_OBJECT_ACL;
    } else if ((rt->unsupported = find_unsupported(q)) != NULL) {
        return -CN_ENOTIMPL;
    } else {
        rt->op = copy ? S3_OP_COPY_OBJECT : S3_OP_PUT_OBJECT;
    }
    return 0;
}

static int route_object(const cn_request *req, const char *m, const char *q, s3_route *rt)
{
    if (strcmp(m, "PUT") == 0)
        return route_object_put(req, q, rt);
    if (strcmp(m, "GET") == 0) {
        if (cn_query_has(q, "uploadId"))
            rt->op = S3_OP_LIST_PARTS;
        else if (cn_query_has(q, "tagging"))
            rt->op = S3_OP_GET_OBJECT_TAGGING;
        else if (cn_query_has(q, "acl"))
            rt->op = S3_OP_GET_OBJECT_ACL;
        else if (cn_query_has(q, "lineage"))
            rt->op = S3_OP_GET_OBJECT_LINEAGE; /* cairn extension (docs/LINEAGE.md) */
        else if ((rt->unsupported = find_unsupported(q)) != NULL)
            return -CN_ENOTIMPL;
        else
            rt->op = S3_OP_GET_OBJECT;
    } else if (strcmp(m, "HEAD") == 0) {
        if ((rt->unsupported = find_unsupported(q)) != NULL)
            return -CN_ENOTIMPL;
        rt->op = S3_OP_HEAD_OBJECT;
    } else if (strcmp(m, "DELETE") == 0) {
        if (cn_query_has(q, "uploadId"))
            rt->op = S3_OP_ABORT_MULTIPART_UPLOAD;
        else if (cn_query_has(q, "tagging"))
            rt->op = S3_OP_DELETE_OBJECT_TAGGING;
        else if ((rt->unsupported = find_unsupported(q)) != NULL)
            return -CN_ENOTIMPL;
        else
            rt->op = S3_OP_DELETE_OBJECT;
    } else if (strcmp(m, "POST") == 0) {
        if (cn_query_has(q, "uploads"))
            rt->op = S3_OP_CREATE_MULTIPART_UPLOAD;
        else if (cn_query_has(q, "uploadId"))
            rt->op = S3_OP_COMPLETE_MULTIPART_UPLOAD;
    }
    return rt->op == S3_OP_NONE ? -CN_ENOTIMPL : 0;
}

int s3__route(const s3_config *cfg, const cn_request *req, s3_route *rt)
{
    const char *q = req->query != NULL ? req->query : "";
    int err;

    memset(rt, 0, sizeof(*rt));
    if (req->path == NULL || req->path[0] != '/' || req->method == NULL)
        return -CN_EINVALID_URI;
    rt->virtual_host = vhost_bucket(cfg, req->host, rt);
    err = split_path(req->path, rt);
    if (err < 0)
        return err;
    if (rt->bucket[0] == '\0') {
        if (rt->key != NULL)
            return -CN_EINVALID_URI; /* "//key": no bucket named */
        rt->op = route_service(req->method);
        return rt->op == S3_OP_NONE ? -CN_EMETHOD_NOT_ALLOWED : 0;
    }
    if (rt->key == NULL)
        return route_bucket(req->method, q, rt);
    return route_object(req, req->method, q, rt);
}

void s3__route_dispose(s3_route *rt)
{
    if (rt == NULL)
        return;
    free(rt->key);
    rt->key = NULL;
    rt->key_len = 0;
}

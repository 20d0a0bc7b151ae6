/*
 * test_s3_router: s3api/router.c. Path and virtual-hosted style, the choice
 * of operation by method and sub-resource, and keys that a normalising
 * router would get wrong.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../s3api/s3int.h"

static s3_config path_cfg = {"us-east-1", NULL};
static s3_config vh_cfg = {"us-east-1", "s3.example.com"};

static cn_header copy_hdr = {"x-amz-copy-source", "/src/key", 17, 8};

static int route(const s3_config *cfg, const char *method, const char *host, const char *path, const char *query,
                 int copy, s3_route *rt)
{
    cn_request req;

    memset(&req, 0, sizeof(req));
    req.method = (char *)method;
    req.host = (char *)host;
    req.path = (char *)path;
    req.query = (char *)query;
    if (copy) {
        req.headers = &copy_hdr;
        req.n_headers = 1;
    }
    return s3__route(cfg, &req, rt);
}

static s3_op_id op_of(const char *method, const char *path, const char *query, int copy)
{
    s3_route rt;
    int rc = route(&path_cfg, method, "localhost:9000", path, query, copy, &rt);
    s3_op_id op = rc == 0 ? rt.op : S3_OP_NONE;

    s3__route_dispose(&rt);
    return op;
}

Test(router, service_and_bucket_ops)
{
    cr_expect_eq(op_of("GET", "/", "", 0), S3_OP_LIST_BUCKETS);
    cr_expect_eq(op_of("PUT", "/b", "", 0), S3_OP_CREATE_BUCKET);
    cr_expect_eq(op_of("PUT", "/b/", "", 0), S3_OP_CREATE_BUCKET);
    cr_expect_eq(op_of("HEAD", "/b", "", 0), S3_OP_HEAD_BUCKET);
    cr_expect_eq(op_of("DELETE", "/b", "", 0), S3_OP_DELETE_BUCKET);
    cr_expect_eq(op_of("GET", "/b", "", 0), S3_OP_LIST_OBJECTS);
    cr_expect_eq(op_of("GET", "/b/", "prefix=a&delimiter=%2F", 0), S3_OP_LIST_OBJECTS);
    cr_expect_eq(op_of("GET", "/b", "list-type=2&prefix=", 0), S3_OP_LIST_OBJECTS_V2);
    cr_expect_eq(op_of("GET", "/b", "list-type=1", 0), S3_OP_LIST_OBJECTS);
    cr_expect_eq(op_of("GET", "/b", "location", 0), S3_OP_GET_BUCKET_LOCATION);
    cr_expect_eq(op_of("GET", "/b", "location=", 0), S3_OP_GET_BUCKET_LOCATION);
    cr_expect_eq(op_of("GET", "/b", "versioning", 0), S3_OP_GET_BUCKET_VERSIONING);
    cr_expect_eq(op_of("PUT", "/b", "versioning", 0), S3_OP_PUT_BUCKET_VERSIONING);
    cr_expect_eq(op_of("GET", "/b", "versions&prefix=a", 0), S3_OP_LIST_OBJECT_VERSIONS);
    cr_expect_eq(op_of("GET", "/b", "acl", 0), S3_OP_GET_BUCKET_ACL);
    cr_expect_eq(op_of("PUT", "/b", "acl", 0), S3_OP_PUT_BUCKET_ACL);
    cr_expect_eq(op_of("GET", "/b", "tagging", 0), S3_OP_GET_BUCKET_TAGGING);
    cr_expect_eq(op_of("PUT", "/b", "tagging", 0), S3_OP_PUT_BUCKET_TAGGING);
    cr_expect_eq(op_of("DELETE", "/b", "tagging", 0), S3_OP_DELETE_BUCKET_TAGGING);
    cr_expect_eq(op_of("GET", "/b", "uploads&prefix=x", 0), S3_OP_LIST_MULTIPART_UPLOADS);
    cr_expect_eq(op_of("POST", "/b", "delete", 0), S3_OP_DELETE_OBJECTS);
    cr_expect_eq(op_of("GET", "/b", "policy", 0), S3_OP_GET_BUCKET_POLICY);
    cr_expect_eq(op_of("PUT", "/b", "policy", 0), S3_OP_PUT_BUCKET_POLICY);
    cr_expect_eq(op_of("DELETE", "/b", "policy", 0), S3_OP_DELETE_BUCKET_POLICY);
    /* newer SDKs add x-id; S3 ignores it */
    cr_expect_eq(op_of("GET", "/b", "list-type=2&x-id=ListObjectsV2", 0), S3_OP_LIST_OBJECTS_V2);
}

Test(router, object_ops)
{
    cr_expect_eq(op_of("PUT", "/b/k", "", 0), S3_OP_PUT_OBJECT);
    cr_expect_eq(op_of("PUT", "/b/k", "x-id=PutObject", 0), S3_OP_PUT_OBJECT);
    cr_expect_eq(op_of("PUT", "/b/k", "", 1), S3_OP_COPY_OBJECT);
    cr_expect_eq(op_of("GET", "/b/k", "", 0), S3_OP_GET_OBJECT);
    cr_expect_eq(op_of("GET", "/b/k", "versionId=null&response-content-type=a", 0), S3_OP_GET_OBJECT);
    cr_expect_eq(op_of("HEAD", "/b/k", "", 0), S3_OP_HEAD_OBJECT);
    cr_expect_eq(op_of("DELETE", "/b/k", "", 0), S3_OP_DELETE_OBJECT);
    cr_expect_eq(op_of("POST", "/b/k", "uploads", 0), S3_OP_CREATE_MULTIPART_UPLOAD);
    cr_expect_eq(op_of("PUT", "/b/k", "partNumber=1&uploadId=abc", 0), S3_OP_UPLOAD_PART);
    cr_expect_eq(op_of("PUT", "/b/k", "uploadId=abc&partNumber=2", 1), S3_OP_UPLOAD_PART_COPY);
    cr_expect_eq(op_of("POST", "/b/k", "uploadId=abc", 0), S3_OP_COMPLETE_MULTIPART_UPLOAD);
    cr_expect_eq(op_of("DELETE", "/b/k", "uploadId=abc", 0), S3_OP_ABORT_MULTIPART_UPLOAD);
    cr_expect_eq(op_of("GET", "/b/k", "uploadId=abc&max-parts=2", 0), S3_OP_LIST_PARTS);
    cr_expect_eq(op_of("GET", "/b/k", "tagging", 0), S3_OP_GET_OBJECT_TAGGING);
    cr_expect_eq(op_of("PUT", "/b/k", "tagging", 0), S3_OP_PUT_OBJECT_TAGGING);
    cr_expect_eq(op_of("DELETE", "/b/k", "tagging", 0), S3_OP_DELETE_OBJECT_TAGGING);
    cr_expect_eq(op_of("GET", "/b/k", "acl", 0), S3_OP_GET_OBJECT_ACL);
    cr_expect_eq(op_of("PUT", "/b/k", "acl", 0), S3_OP_PUT_OBJECT_ACL);
}

static int err_of(const s3_config *cfg, const char *method, const char *path, const char *query, s3_route *rt)
{
    int rc = route(cfg, method, "localhost", path, query, 0, rt);

    s3__route_dispose(rt);
    return rc;
}

Test(router, unsupported_is_not_implemented)
{
    s3_route rt;

    cr_expect_eq(err_of(&path_cfg, "GET", "/b", "policyStatus", &rt), -CN_ENOTIMPL);
    cr_expect_str_eq(rt.unsupported, "policyStatus");
    /* a policy is a bucket's, never an object's */
    cr_expect_eq(err_of(&path_cfg, "GET", "/b/k", "policy", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "DELETE", "/b", "versioning", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "PUT", "/b", "lifecycle", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "DELETE", "/b", "cors", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "GET", "/b/k", "versions", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "GET", "/b", "website", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "POST", "/b", "", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "GET", "/b/k", "partNumber=1", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "HEAD", "/b/k", "partNumber=1", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "POST", "/b/k", "restore", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "POST", "/b/k", "select&select-type=2", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "PUT", "/b/k", "retention", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "GET", "/b/k", "attributes", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "PATCH", "/b/k", "", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "OPTIONS", "/b", "", &rt), -CN_ENOTIMPL);
    cr_expect_eq(err_of(&path_cfg, "PUT", "/", "", &rt), -CN_EMETHOD_NOT_ALLOWED);
    cr_expect_eq(err_of(&path_cfg, "PUT", "/b/k", "uploadId=x", &rt), -CN_EINVALID_ARGUMENT);
}

static void expect_key(const char *path, const char *key, size_t len)
{
    s3_route rt;

    cr_assert_eq(route(&path_cfg, "GET", "localhost", path, "", 0, &rt), 0, "%s", path);
    cr_expect_str_eq(rt.bucket, "b", "%s", path);
    cr_assert_not_null(rt.key, "%s", path);
    cr_expect_eq(rt.key_len, len, "%s", path);
    cr_expect(memcmp(rt.key, key, len) == 0, "%s -> %.*s", path, (int)rt.key_len, rt.key);
    s3__route_dispose(&rt);
}

Test(router, hostile_keys_are_decoded_once_never_normalised)
{
    expect_key("/b/../../etc/passwd", "../../etc/passwd", 16);
    expect_key("/b/a/./b/../c", "a/./b/../c", 10);
    expect_key("/b/a//b", "a//b", 4);
    expect_key("/b//leading", "/leading", 8);
    expect_key("/b/a%2Fb", "a/b", 3);
    expect_key("/b/%2e%2e/x", "../x", 4);
    expect_key("/b/a+b", "a+b", 3);     /* '+' is literal in a path */
    expect_key("/b/100%25", "100%", 4); /* decoded once: not "100%" then again */
    expect_key("/b/%2525", "%25", 3);
    expect_key("/b/ke%20y%3F%23", "ke y?#", 6);
    expect_key("/b/%E6%97%A5", "\xE6\x97\xA5", 3);
    expect_key("/b/nul%00byte", "nul\0byte", 8); /* kept, for obj_key_valid to refuse */
    expect_key("/b/trailing/", "trailing/", 9);
}

Test(router, malformed_paths)
{
    s3_route rt;

    cr_expect_eq(err_of(&path_cfg, "GET", "/b/a%zz", "", &rt), -CN_EINVALID_URI);
    cr_expect_eq(err_of(&path_cfg, "GET", "/b/a%2", "", &rt), -CN_EINVALID_URI);
    cr_expect_eq(err_of(&path_cfg, "GET", "//key", "", &rt), -CN_EINVALID_URI);
    cr_expect_eq(err_of(&path_cfg, "GET", "b/key", "", &rt), -CN_EINVALID_URI);
    cr_expect_eq(err_of(&path_cfg, "GET", "/b%00x/key", "", &rt), -CN_EINVALID_URI);
}

static void expect_vhost(const s3_config *cfg, const char *host, const char *path, const char *bucket, const char *key,
                         int vh)
{
    s3_route rt;

    cr_assert_eq(route(cfg, "GET", host, path, "", 0, &rt), 0, "%s %s", host, path);
    cr_expect_str_eq(rt.bucket, bucket, "%s %s", host, path);
    cr_expect_eq(rt.virtual_host, vh, "%s %s", host, path);
    if (key == NULL)
        cr_expect_null(rt.key, "%s %s", host, path);
    else
        cr_expect_str_eq(rt.key, key, "%s %s", host, path);
    s3__route_dispose(&rt);
}

Test(router, virtual_hosted_style)
{
    expect_vhost(&vh_cfg, "mybucket.s3.example.com", "/photo.jpg", "mybucket", "photo.jpg", 1);
    expect_vhost(&vh_cfg, "mybucket.s3.example.com:9000", "/a/b/c", "mybucket", "a/b/c", 1);
    expect_vhost(&vh_cfg, "MyBucket.S3.Example.COM", "/k", "mybucket", "k", 1);
    expect_vhost(&vh_cfg, "my.dotted.bucket.s3.example.com", "/k", "my.dotted.bucket", "k", 1);
    expect_vhost(&vh_cfg, "mybucket.s3.example.com", "/", "mybucket", NULL, 1);
    expect_vhost(&vh_cfg, "mybucket.s3.example.com", "//k", "mybucket", "/k", 1);
    /* the domain itself, an IP, another name, or no domain configured: path style */
    expect_vhost(&vh_cfg, "s3.example.com", "/b/k", "b", "k", 0);
    expect_vhost(&vh_cfg, "s3.example.com:443", "/b", "b", NULL, 0);
    expect_vhost(&vh_cfg, "127.0.0.1:9000", "/b/k", "b", "k", 0);
    expect_vhost(&vh_cfg, "[::1]:9000", "/b/k", "b", "k", 0);
    expect_vhost(&vh_cfg, "evil-s3.example.com", "/b/k", "b", "k", 0);
    expect_vhost(&path_cfg, "mybucket.s3.example.com", "/b/k", "b", "k", 0);
}

Test(router, virtual_host_service_and_ops)
{
    s3_route rt;

    cr_assert_eq(route(&vh_cfg, "GET", "s3.example.com", "/", "", 0, &rt), 0);
    cr_expect_eq(rt.op, S3_OP_LIST_BUCKETS);
    s3__route_dispose(&rt);
    cr_assert_eq(route(&vh_cfg, "PUT", "b1.s3.example.com", "/", "", 0, &rt), 0);
    cr_expect_eq(rt.op, S3_OP_CREATE_BUCKET);
    s3__route_dispose(&rt);
    cr_assert_eq(route(&vh_cfg, "PUT", "b1.s3.example.com", "/k", "uploadId=1&partNumber=3", 0, &rt), 0);
    cr_expect_eq(rt.op, S3_OP_UPLOAD_PART);
    s3__route_dispose(&rt);
}

Test(router, op_names)
{
    cr_expect_str_eq(s3__op_name(S3_OP_PUT_OBJECT), "PutObject");
    cr_expect_str_eq(s3__op_name(S3_OP_LIST_OBJECTS_V2), "ListObjectsV2");
    cr_expect_str_eq(s3__op_name(S3_OP_NONE), "Unsupported");
}

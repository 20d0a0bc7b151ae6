/*
 * s3int.h: what the files of s3api share among themselves, and what the unit
 * tests reach into. Nothing outside s3api/ and tests/unit/test_s3_*.c may
 * include it. Module-internal functions use the libuv-style double underscore
 * (s3__name) so that they are visibly not part of s3api.h.
 *
 * The pure parts (router, range, conditions, XML in and out, checksums, tag
 * parsing) depend only on common/ and libxml2/OpenSSL/ISA-L/zlib, so their
 * tests link without the object layer or auth.
 */
#ifndef CN_S3INT_H
#define CN_S3INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../auth/policy.h"
#include "../common/buf.h"
#include "../common/err.h"
#include "../common/http.h"
#include "s3api.h"

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_MAX_XML_BODY (1u << 20)       /* Delete, Complete, Tagging, CreateBucket */
#define S3_MAX_RESPONSE_BODY (32u << 20) /* a 1000-key listing of hostile keys fits */
#define S3_MAX_META_BYTES 2048           /* user metadata, as AWS counts it */
#define S3_MAX_DELETE_OBJECTS 1000
#define S3_MAX_TAGS_OBJECT 10
#define S3_MAX_TAGS_BUCKET 50
#define S3_MAX_TAG_KEY 128   /* characters (code points), not bytes */
#define S3_MAX_TAG_VALUE 256 /* characters */
#define S3_QVAL_MAX 4096     /* cap on one decoded query parameter */

/* ---------------------------------------------------------------- routing */

typedef enum s3_op_id {
    S3_OP_NONE = 0,
    S3_OP_LIST_BUCKETS,
    S3_OP_CREATE_BUCKET,
    S3_OP_HEAD_BUCKET,
    S3_OP_DELETE_BUCKET,
    S3_OP_GET_BUCKET_LOCATION,
    S3_OP_GET_BUCKET_VERSIONING,
    S3_OP_PUT_BUCKET_VERSIONING,
    S3_OP_LIST_OBJECT_VERSIONS,
    S3_OP_GET_BUCKET_ACL,
    S3_OP_PUT_BUCKET_ACL,
    S3_OP_GET_BUCKET_TAGGING,
    S3_OP_PUT_BUCKET_TAGGING,
    S3_OP_DELETE_BUCKET_TAGGING,
    S3_OP_LIST_OBJECTS,
    S3_OP_LIST_OBJECTS_V2,
    S3_OP_LIST_MULTIPART_UPLOADS,
    S3_OP_DELETE_OBJECTS,
    S3_OP_PUT_OBJECT,
    S3_OP_COPY_OBJECT,
    S3_OP_GET_OBJECT,
    S3_OP_HEAD_OBJECT,
    S3_OP_DELETE_OBJECT,
    S3_OP_GET_OBJECT_ACL,
    S3_OP_PUT_OBJECT_ACL,
    S3_OP_GET_OBJECT_TAGGING,
    S3_OP_PUT_OBJECT_TAGGING,
    S3_OP_DELETE_OBJECT_TAGGING,
    S3_OP_CREATE_MULTIPART_UPLOAD,
    S3_OP_UPLOAD_PART,
    S3_OP_UPLOAD_PART_COPY,
    S3_OP_COMPLETE_MULTIPART_UPLOAD,
    S3_OP_ABORT_MULTIPART_UPLOAD,
    S3_OP_LIST_PARTS,
    S3_OP_GET_OBJECT_LINEAGE, /* cairn extension: GET ?lineage */
    S3_OP_GET_BUCKET_POLICY,
    S3_OP_PUT_BUCKET_POLICY,
    S3_OP_DELETE_BUCKET_POLICY,
    S3_OP_COUNT
} s3_op_id;

typedef struct s3_route {
    s3_op_id op;
    int virtual_host;        /* bucket came from the Host header */
    char bucket[256];        /* "" for the service (ListBuckets) */
    char *key;               /* malloc'd, percent-decoded once, NUL-terminated; NULL if none */
    size_t key_len;          /* the key may hold a NUL byte: obj_key_valid() rejects it */
    const char *unsupported; /* sub-resource that made the route NotImplemented */
} s3_route;

/* Resolves bucket, key and operation. Returns 0, or a negative CN_E* with the
 * route filled as far as it got (bucket and key are still usable to name the
 * resource in the error): -CN_ENOTIMPL for sub-resources and methods we do not
 * serve, -CN_EINVALID_URI for a malformed escape, -CN_EMETHOD_NOT_ALLOWED. */
int s3__route(const s3_config *cfg, const cn_request *req, s3_route *rt);
void s3__route_dispose(s3_route *rt);
const char *s3__op_name(s3_op_id op);

/* ------------------------------------------------------------ operations */

typedef struct s3_op {
    const s3_ctx *ctx;
    const cn_request *req;
    const auth_result *ar;
    cn_response *res;
    const s3_route *rt;
    obj_bucket bucket;   /* filled by the access check for bucket-scoped ops */
    const char *err_msg; /* replaces the table's message for the error returned */
    char msg_buf[256];
    const char *err_extra_name, *err_extra_value; /* one more element in <Error> */
    char extra_buf[OBJ_MAX_KEY + 16];
    /* Headers that must survive onto the error response: Content-Range of
     * a 416; x-amz-delete-marker, x-amz-version-id and Last-Modified of a
     * 404 or 405 about a delete marker. Added with s3__err_header(). */
    struct {
        const char *name;
        char value[64];
    } err_hdrs[4];
    int n_err_hdrs;
} s3_op;

typedef int (*s3_handler)(s3_op *op);

/* One handler per S3 operation, each in its own file. */
int s3__list_buckets(s3_op *op);
int s3__create_bucket(s3_op *op);
int s3__head_bucket(s3_op *op);
int s3__delete_bucket(s3_op *op);
int s3__get_bucket_location(s3_op *op);
int s3__get_bucket_versioning(s3_op *op);
int s3__put_bucket_versioning(s3_op *op);
int s3__list_versions(s3_op *op);
int s3__get_acl(s3_op *op);
int s3__put_acl(s3_op *op);
int s3__get_tagging(s3_op *op);
int s3__put_tagging(s3_op *op);
int s3__delete_tagging(s3_op *op);
int s3__list_objects(s3_op *op);
int s3__list_uploads(s3_op *op);
int s3__delete_objects(s3_op *op);
int s3__put_object(s3_op *op);
int s3__copy_object(s3_op *op);
int s3__get_object(s3_op *op); /* GET and HEAD */
int s3__delete_object(s3_op *op);
int s3__create_upload(s3_op *op);
int s3__upload_part(s3_op *op);
int s3__upload_part_copy(s3_op *op);
int s3__complete_upload(s3_op *op);
int s3__abort_upload(s3_op *op);
int s3__list_parts(s3_op *op);
int s3__get_lineage(s3_op *op);
int s3__get_bucket_policy(s3_op *op); /* bucket_policy.c */
int s3__put_bucket_policy(s3_op *op);
int s3__delete_bucket_policy(s3_op *op);

/* Keeps a header for the error response (at most 4; more are dropped). */
void s3__err_header(s3_op *op, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets an error message with printf formatting; returns err for chaining. */
int s3__fail(s3_op *op, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Query parameter into a static-size buffer: length, -1 if absent,
 * -CN_EINVALID_ARGUMENT if longer than the buffer or malformed. */
int s3__qget(const s3_op *op, const char *name, char *out, size_t cap);
/* Parses a non-negative decimal query parameter; def if absent. */
int s3__qint(const s3_op *op, const char *name, long def, long max, long *out);
const char *s3__hdr(const s3_op *op, const char *name);
/* The principal that acts: "" for anonymous. */
const char *s3__principal(const s3_op *op);
/* Owner check on another bucket (copy sources). */
/* ---- authorization (authz.c) ---- */

/* What a capability must grant for an operation (authz_cap.c). */
enum {
    S3_PERM_READ = 1 << 0,    /* GET/HEAD the version a capability names (or the latest) */
    S3_PERM_LIST = 1 << 1,    /* list keys (and versions) under its scope */
    S3_PERM_WRITE = 1 << 2,   /* PUT, copy into, multipart */
    S3_PERM_DELETE = 1 << 3,  /* DELETE */
    S3_PERM_HISTORY = 1 << 4, /* a key's versions and lineage: read on a history capability */
    S3_PERM_OWNER = 1 << 5,   /* bucket configuration: never through a capability */
};

/* Step results; a step denies by returning -CN_EACCESS with a reason. */
enum { S3_AZ_DECLINED = 0, S3_AZ_ALLOW = 1 };

typedef struct s3_az_req {
    const char *action; /* "s3:GetObject" */
    unsigned perm;      /* S3_PERM_* */
    const char *bucket; /* NULL: service scope */
    const char *key;    /* NULL: bucket scope */
    const char *version_id;
} s3_az_req;

/* Runs the chain for az; fills *b with the bucket (bucket scope). 0,
 * -CN_EACCESS (reason in op->res->deny_reason), -CN_ENO_BUCKET, ... */
int s3__authorize(s3_op *op, const s3_az_req *az, obj_bucket *b);
/* The same for another object of the request (a copy's source). */
int s3__authorize_on(s3_op *op, const s3_az_req *az, obj_bucket *b);
/* The steps (authz_cap.c, authz_policy.c, authz_acl.c): S3_AZ_DECLINED,
 * S3_AZ_ALLOW, or a negative error (-CN_EACCESS: denied, why filled). */
int s3__az_capability(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap);
int s3__az_policy(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap);
int s3__az_acl(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap);
/* 1 if the request is signed with a capability's key. */
int s3__is_capability(const s3_op *op);
/* The action az asks for as policies and ACLs name it: the ...Version form
 * (s3:GetObjectVersion, s3:DeleteObjectVersion, s3:PutObjectVersionAcl, ...)
 * when az names a version, else az->action (authz_policy.c). */
const char *s3__az_action(const s3_az_req *az);

/* ---- bucket policies (policy_cache.c, authz_policy.c) ---- */

/* The parsed policy of bucket b, which has one (b->policy_gen != 0), with a
 * reference the caller drops (auth_policy_unref): from ctx->policies when
 * it holds generation b->policy_gen, else read, parsed and cached (parsed
 * anew each time when ctx->policies is NULL). *out NULL when the policy
 * is gone meanwhile. -CN_EMALFORMED_POLICY with the reason in why when the
 * stored document no longer parses; -CN_ENOMEM, -CN_EIO. */
int s3__policy_get(const s3_ctx *ctx, const obj_bucket *b, auth_policy **out, char *why, size_t whycap);

/* ---- canned ACLs (acl.c) ---- */

/* What a canned ACL grants besides the owner's FULL_CONTROL. */
enum {
    S3_ACL_ALL_READ = 1 << 0,  /* AllUsers READ: anyone, anonymous included */
    S3_ACL_ALL_WRITE = 1 << 1, /* AllUsers WRITE (buckets: put and delete objects) */
    S3_ACL_AUTH_READ = 1 << 2, /* AuthenticatedUsers READ */
};
/* The grants of a stored ACL name ("" or unknown: none). */
unsigned s3__acl_grants(const char *acl);
/* The canned ACL a write asks for in x-amz-acl, as stored: *acl NULL when
 * absent (the default, private), "" for private and its equivalents
 * (bucket-owner-read, bucket-owner-full-control, whose grantee is the owner
 * here). -CN_ENOTIMPL for any other ACL and for x-amz-grant-* headers. */
int s3__acl_header(s3_op *op, const char **acl);

/* ---------------------------------------------------------------- errors */

/* The error document with an optional extra element (BucketName, Key, ...). */
void s3__error_doc(cn_response *res, const cn_request *req, int err, const char *message, const char *extra_name,
                   const char *extra_value);

/* ------------------------------------------------------------ XML output */

typedef struct s3_xw {
    cn_buf *b;
    int err; /* first failure; later calls do nothing */
} s3_xw;

/* Declaration and root element with the S3 namespace. */
void s3__xw_begin(s3_xw *w, cn_buf *b, const char *root);
void s3__xw_open(s3_xw *w, const char *name);
void s3__xw_close(s3_xw *w, const char *name);
void s3__xw_elem(s3_xw *w, const char *name, const char *text);
void s3__xw_elem_n(s3_xw *w, const char *name, const char *text, size_t n);
void s3__xw_elemf(s3_xw *w, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Element whose text is URL-encoded when url is set (encoding-type=url). */
void s3__xw_elem_enc(s3_xw *w, const char *name, const char *text, int url);
void s3__xw_elem_time(s3_xw *w, const char *name, int64_t ms);
void s3__xw_elem_bool(s3_xw *w, const char *name, int v);
/* Escapes for XML 1.0 text: the five specials, and control bytes as &#xN;. */
int s3__xml_text(cn_buf *b, const char *s, size_t n);
/* Finishes the document into res (status 200 unless set, content-type). */
int s3__xw_send(s3_xw *w, cn_response *res);
/* ISO 8601 with milliseconds: 2006-02-03T16:45:09.123Z; out holds 32. */
void s3__time_iso_ms(char *out, int64_t ms);

/* -------------------------------------------------------------- listings */

/* Shared by ListObjects(V2) and ListMultipartUploads (list_objects.c). */

/* encoding-type: *url 1 if it is "url", 0 if absent; any other value fails
 * InvalidArgument. */
int s3__q_encoding(s3_op *op, int *url);
/* A listing's query value as the object layer takes it: NULL when empty. */
const char *s3__qarg(const char *v);
/* One CommonPrefixes element per prefix (URL-encoded when url is set). */
void s3__xw_prefixes(s3_xw *w, char *const *prefixes, size_t n, int url);

/* ------------------------------------------------------------- XML input */

typedef struct s3_part_list {
    obj_part_ref *v;
    size_t n;
} s3_part_list;

typedef struct s3_del_item {
    char *key;
    size_t key_len;
    char *version_id; /* NULL if absent */
} s3_del_item;

typedef struct s3_del_list {
    s3_del_item *v;
    size_t n;
    int quiet;
} s3_del_list;

/* Parsers for the request bodies S3 defines. Each returns 0 or
 * -CN_EMALFORMED_XML (or -CN_ENOMEM); the output is freed by its dispose. */
int s3__xml_complete(const char *xml, size_t n, s3_part_list *out);
void s3__part_list_dispose(s3_part_list *l);
int s3__xml_delete(const char *xml, size_t n, s3_del_list *out);
void s3__del_list_dispose(s3_del_list *l);
int s3__xml_tagging(const char *xml, size_t n, obj_tags *out);
/* VersioningConfiguration: Status and MfaDelete as given ("" if absent);
 * -CN_EMALFORMED_XML also for a value longer than 15 bytes. */
int s3__xml_versioning(const char *xml, size_t n, char status[16], char mfa[16]);
/* CreateBucketConfiguration: LocationConstraint into out ("" if absent). */
int s3__xml_location(const char *xml, size_t n, char *out, size_t cap);

#define S3_MAX_GRANTS 100 /* AWS's cap on the grants of one ACL */

/* One Grant of an AccessControlPolicy body, its texts trimmed. */
typedef struct s3_grant {
    char type[32];       /* xsi:type, or implied: "CanonicalUser", "Group", "AmazonCustomerByEmail" */
    char who[256];       /* its ID, URI or EmailAddress */
    char permission[16]; /* "FULL_CONTROL", "READ", ... as given */
} s3_grant;

typedef struct s3_grant_list {
    s3_grant *v;
    size_t n;
} s3_grant_list;

/* AccessControlPolicy: the grants of its AccessControlList, in order (the
 * Owner element is not read). -CN_EMALFORMED_XML also for a text too long
 * for its field or more than S3_MAX_GRANTS grants. */
int s3__xml_acl(const char *xml, size_t n, s3_grant_list *out);
void s3__grant_list_dispose(s3_grant_list *l);

/* --------------------------------------------------------------- tagging */

/* x-amz-tagging header (URL query form). Validated like a Tagging body. */
int s3__tags_from_query(const char *s, obj_tags *out, const char **why);
/* Limits: count, key and value length in characters, no duplicates, keys
 * non-empty. -CN_EINVALID_TAG with *why set to AWS's message. */
int s3__tags_validate(const obj_tags *t, size_t max_tags, const char **why);
/* Frees tags built by s3api: obj_tags_dispose(), which frees the object
 * layer's too. */
void s3__tags_dispose(obj_tags *t);

/* ---------------------------------------------------------------- ranges */

typedef struct s3_range {
    uint64_t off, len;
} s3_range;

/* Range header for an object of size. Returns 1 with r filled for a partial
 * response, 0 to serve the whole object (no header, syntax S3 ignores,
 * several ranges), -CN_ERANGE when unsatisfiable. */
int s3__range_parse(const char *hdr, uint64_t size, s3_range *r);
/* x-amz-copy-source-range "bytes=first-last": 0, -CN_EINVALID_ARGUMENT on
 * syntax, -CN_ERANGE when past the end of size. */
int s3__copy_range_parse(const char *hdr, uint64_t size, s3_range *r);

/* ------------------------------------------------------------ conditions */

typedef struct s3_cond {
    const char *if_match, *if_none_match, *if_modified_since, *if_unmodified_since;
} s3_cond;

/* AWS precedence (RFC 7232 §6). Returns 0, -CN_EPRECONDITION or
 * -CN_ENOT_MODIFIED (the caller turns the latter into 412 for copies). */
int s3__cond_eval(const s3_cond *c, const char *etag, int64_t mtime_ms);
/* Is etag (quoted or not) in the comma list (or "*")? */
int s3__etag_match(const char *list, const char *etag);

/* ------------------------------------------------------------- checksums */

typedef enum s3_ck_algo {
    S3_CK_NONE = 0,
    S3_CK_CRC32,
    S3_CK_CRC32C,
    S3_CK_CRC64NVME,
    S3_CK_SHA1,
    S3_CK_SHA256,
} s3_ck_algo;

typedef struct s3_ck {
    s3_ck_algo algo;
    uint64_t crc;
    void *md; /* EVP_MD_CTX for the SHA algorithms */
} s3_ck;

const char *s3__ck_name(s3_ck_algo a);      /* "crc32", ... */
const char *s3__ck_upper(s3_ck_algo a);     /* "CRC32", ... for messages */
s3_ck_algo s3__ck_from_name(const char *s); /* "crc32" or "CRC32" */
size_t s3__ck_size(s3_ck_algo a);           /* digest bytes */
int s3__ck_init(s3_ck *c, s3_ck_algo a);
void s3__ck_update(s3_ck *c, const void *p, size_t n);
/* Writes the digest (big-endian for CRCs, as S3 does) and frees state. */
void s3__ck_final(s3_ck *c, uint8_t *out);
void s3__ck_dispose(s3_ck *c);
/* One-shot helpers for the check values. */
uint32_t s3__crc32c(uint32_t crc, const void *p, size_t n);
uint64_t s3__crc64nvme(uint64_t crc, const void *p, size_t n);

/* A stream over the decoded payload that verifies one x-amz-checksum-* given
 * as a header or as a trailer; the final read fails with -CN_EBAD_DIGEST on a
 * mismatch, so the object layer aborts and stores nothing. It also stops
 * early, with -CN_EIO, once the client has gone (*aborted set by the
 * gateway), so that a worker never keeps reading a body nobody will answer
 * for. */
typedef struct s3_body {
    cn_stream *stream; /* what to read: the verifier over the auth stream */
    cn_stream *auth;   /* owned by stream's close */
    uint64_t length;   /* decoded payload length */
    uint8_t md5[16];
    int has_md5;
    s3_ck_algo algo;    /* checksum requested, S3_CK_NONE if none */
    char attr_name[32]; /* "x-amz-checksum-crc32" */
    char value[96];     /* base64 digest: the header's, or computed at EOF */
    int mismatch;       /* set when the checksum failed */
    int from_trailer;   /* value known only after the payload's end */
    /* Filled by the stream when it returns its final 0 with the checksum
     * verified (algo "" before, or when none was asked): what obj_put's
     * attribute slot and obj_mpu_put_part's checksum point at, since the
     * object layer reads them only after that final 0. */
    obj_checksum ck;
    volatile int *aborted; /* the request's flag, NULL if none */
} s3_body;

/* Reads headers (Content-MD5, x-amz-checksum-*, x-amz-trailer) and builds the
 * body streams. 0, -CN_EINVALID_DIGEST, -CN_EINVALID_REQUEST, -CN_ENOMEM. */
int s3__body_open(s3_op *op, s3_body *b);
void s3__body_close(s3_body *b);
/* Reads the whole (small) body into out, verifying Content-MD5 too. */
int s3__body_read_all(s3_op *op, size_t cap, cn_buf *out);
/* Message for a failed body: the checksum's or NULL for the default. */
int s3__body_error(s3_op *op, const s3_body *b, int err);
/* Decodes a header checksum value for algo; 0 or -1. */
int s3__ck_decode(s3_ck_algo a, const char *b64, uint8_t *out);
/* Wraps inner so that it verifies b->algo (nothing when S3_CK_NONE) and
 * stops once *b->aborted is set (used by s3__body_open; exposed for tests).
 * trailer_name non-NULL: expected value comes from the trailer. */
cn_stream *s3__ck_stream(cn_stream *inner, s3_body *b, const char *trailer_name,
                         const char *(*trailer)(cn_stream *, const char *));
/* "ChecksumCRC32", ... : the XML element for algorithm a. */
const char *s3__ck_elem(s3_ck_algo a);
/* S3's COMPOSITE checksum of a multipart object: the checksum, with the
 * same algorithm, of the concatenated binary part checksums, in base64 with
 * "-N" appended. Every part must carry a well-formed checksum of algorithm
 * a, else -CN_EINVALID_PART (no stored part can have it). out holds 80 bytes. */
int s3__ck_composite(s3_ck_algo a, const obj_part_ref *parts, size_t n, char out[80]);

/* -------------------------------------------------------- attributes, meta */

typedef struct s3_attrs {
    obj_attr *v;
    size_t n, cap;
} s3_attrs;

/* Stored headers from the request: content-*, cache-control, expires,
 * x-amz-meta-*, x-amz-website-redirect-location. -CN_EMETADATA_TOO_LARGE. */
int s3__attrs_from_request(const cn_request *req, s3_attrs *out);
int s3__attrs_add(s3_attrs *a, const char *name, const char *value);
void s3__attrs_dispose(s3_attrs *a);
/* ?versionId as given into buf (*out NULL when absent); InvalidArgument
 * when empty or too long (versioning.c). */
int s3__version_id(s3_op *op, char *buf, size_t cap, const char **out);
/* The headers S3 puts on a 404 or 405 about a delete marker (versioning.c):
 * x-amz-delete-marker, x-amz-version-id, Last-Modified. */
void s3__marker_error_headers(s3_op *op, const obj_version *v);
/* Response headers for a version (GET, HEAD, 304). */
int s3__version_headers(s3_op *op, const obj_version *v, int with_checksum);
/* Checks x-amz-storage-class and x-amz-server-side-encryption. */
int s3__check_put_headers(s3_op *op);
/* If-None-Match: * and If-Match on writes, handed to the object layer, which
 * checks them inside its commit. -CN_ENOTIMPL for If-None-Match other than "*". */
int s3__write_cond(s3_op *op, int *none_match_star, const char **if_match);
/* Common response bits for a freshly written version. */
int s3__put_headers(s3_op *op, const obj_version *v);

/* ?uploadId= as given; -CN_ENO_UPLOAD when absent, empty or too long. */
int s3__upload_id(s3_op *op, char out[64]);

/* ------------------------------------------------------------ copy source */

typedef struct s3_copy_src {
    char bucket[256];
    char *key;
    size_t key_len;
    char version_id[128]; /* "" for the latest */
} s3_copy_src;

/* x-amz-copy-source: "[/]bucket/key[?versionId=v]", percent-encoded. */
int s3__copy_source_parse(const char *hdr, s3_copy_src *out);
void s3__copy_source_dispose(s3_copy_src *s);
/* Parses, checks access, heads the source and evaluates the
 * x-amz-copy-source-if-* conditions (304 becomes 412). */
int s3__copy_source_open(s3_op *op, s3_copy_src *src, obj_version *v);

#endif

/*
 * s3api: the S3 protocol and nothing else. It turns an authenticated request
 * into calls of the object layer and the results into S3 responses (status,
 * headers, XML). No storage logic lives here; no h2o type is seen here.
 *
 * Threading: s3_handle() runs on a worker thread and may block. A GET's body
 * is returned as a cn_stream that the gateway drains chunk by chunk, also on
 * workers.
 */
#ifndef CN_S3API_H
#define CN_S3API_H

#include "../auth/auth.h"
#include "../common/http.h"
#include "../obj/obj.h"

typedef struct s3_config {
    const char *region; /* answered by GetBucketLocation, default LocationConstraint */
    const char *domain; /* virtual-hosted style base: "<bucket>.<domain>"; NULL disables */
} s3_config;

/* Parsed bucket policies, kept between requests so that a request does not
 * parse JSON (policy_cache.c). Thread-safe; owned by whoever created it. */
typedef struct s3_policy_cache s3_policy_cache;

/* 0 or -CN_ENOMEM. */
int s3_policy_cache_create(s3_policy_cache **out);
/* Drops every cached policy; NULL is a no-op. No request may still run. */
void s3_policy_cache_destroy(s3_policy_cache *c);

typedef struct s3_ctx {
    obj_store *store;
    s3_config cfg;
    s3_policy_cache *policies; /* NULL: every request parses its bucket's policy */
} s3_ctx;

/* Serves one request: routing (path- and virtual-hosted style), access check
 * (the chain of s3api/authz.c), the operation, and the response. Authentication
 * has already happened (ar); an anonymous ar is denied where S3 would deny it.
 * Always fills res, with an S3 error document on failure. */
void s3_handle(const s3_ctx *ctx, const cn_request *req, const auth_result *ar, cn_response *res);

/* If host addresses a bucket virtual-hosted style ("<bucket>.<domain>"),
 * copies the bucket into out and returns 1; else returns 0. */
int s3_vhost_bucket(const s3_config *cfg, const char *host, char *out, size_t cap);

/* Fills res with the S3 error document for err (negative CN_E*), naming the
 * resource (path) and the request id; message NULL uses the table's text. */
void s3_error(cn_response *res, const cn_request *req, int err, const char *message);

#endif

/*
 * sigv4_sign: AWS Signature Version 4 for the requests cairn itself sends:
 * to S3-compatible providers (backends/s3.c) and to its own admin API
 * (`cairn admin`, gateway/admin_cmd.c). The signing half only; verifying
 * what clients send is auth/'s job.
 */
#ifndef CN_SIGV4_SIGN_H
#define CN_SIGV4_SIGN_H

#include <stddef.h>

/* SHA-256 of the empty string: the payload hash of a request without a body. */
#define CN_SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CN_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* Room for a whole Authorization header value. */
#define CN_SIGV4_AUTH_MAX 1024
/* Headers one request may sign. */
#define CN_SIGV4_MAX_HEADERS 16

/* A header to sign: name lower-case, value as sent, already trimmed. */
typedef struct cn_sigv4_header {
    const char *name;
    const char *value;
} cn_sigv4_header;

typedef struct cn_sigv4_req {
    const char *method;
    const char *path;         /* canonical URI: already URI-encoded, starts with '/' */
    const char *query;        /* canonical query: encoded, sorted by name; "" if none */
    const char *payload_hash; /* hex SHA-256 of the body, or CN_UNSIGNED_PAYLOAD */
    const char *amz_date;     /* YYYYMMDDTHHMMSSZ, the x-amz-date sent */
    /* Headers to sign (at most CN_SIGV4_MAX_HEADERS, names unique): must
     * include host, x-amz-content-sha256 and x-amz-date. Any order; they
     * are sorted here. */
    const cn_sigv4_header *headers;
    size_t n_headers;
} cn_sigv4_req;

/* Signs r for service "s3" in region. Writes the Authorization header value
 * ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...") into
 * out. 0, -CN_EINVALID_ARGUMENT for a malformed request or -CN_ETOOLARGE
 * when out (or the canonical request) does not fit. Pure: no clock, no I/O. */
int cn_sigv4_authorization(char *out, size_t cap, const char *access_key, const char *secret_key, const char *region,
                           const cn_sigv4_req *r);

/* Hex SHA-256 of len bytes at p into out (65 bytes). */
void cn_sha256_hex(char out[65], const void *p, size_t len);

#endif

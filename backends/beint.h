/*
 * beint: helpers shared by the provider drivers inside backends/ only (in the
 * manner of SQLite's btreeInt.h). Nothing outside backends/ includes this
 * file; the layer above sees be.h alone.
 */
#ifndef CN_BEINT_H
#define CN_BEINT_H

#include <stddef.h>

#include "../common/buf.h"

/* SHA-256 of the empty string: the payload hash of a request without a body. */
#define BE__SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define BE__UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* Room for a whole Authorization header value. */
#define BE__SIGV4_AUTH_MAX 1024

typedef struct be__sigv4_header {
    const char *name;  /* lower-case */
    const char *value; /* as sent, already trimmed */
} be__sigv4_header;

typedef struct be__sigv4_req {
    const char *method;
    const char *path;         /* canonical URI: already URI-encoded, starts with '/' */
    const char *query;        /* canonical query: encoded, sorted by name; "" if none */
    const char *payload_hash; /* hex SHA-256 of the body, or BE__UNSIGNED_PAYLOAD */
    const char *amz_date;     /* YYYYMMDDTHHMMSSZ, the x-amz-date sent */
    /* Headers to sign (at most 16, names unique): must include host,
     * x-amz-content-sha256 and x-amz-date. Any order; they are sorted here. */
    const be__sigv4_header *headers;
    size_t n_headers;
} be__sigv4_req;

/* AWS Signature Version 4 for a request that cairn sends to a provider
 * (service "s3"). Writes the Authorization header value ("AWS4-HMAC-SHA256
 * Credential=..., SignedHeaders=..., Signature=...") into out. 0,
 * -CN_EINVALID_ARGUMENT for a malformed request or -CN_ETOOLARGE when out
 * (or the canonical request) does not fit. Pure: no clock, no I/O. */
int be__sigv4_authorization(char *out, size_t cap, const char *access_key, const char *secret_key, const char *region,
                            const be__sigv4_req *r);

#endif

/*
 * auth: "who is this, and is the request really theirs?"
 *
 * auth_authenticate() recognises every signature form real clients send:
 *  - SigV4 in the Authorization header (signed payload, UNSIGNED-PAYLOAD,
 *    STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER,
 *    STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER);
 *  - SigV4 presigned query strings (X-Amz-Algorithm=..., X-Amz-Expires <= 7 days);
 *  - SigV2 in the header ("AWS AKID:sig") and in the query (AWSAccessKeyId,
 *    Signature, Expires);
 *  - no credentials at all: anonymous (the caller decides what anonymous may do).
 * Clock skew beyond 15 minutes is -CN_ESKEW. It checks the signature over the
 * headers; the payload is checked while it is read, through auth_body_stream().
 *
 * Secrets come from a lookup callback so that auth does not depend on the
 * object layer's storage of keys.
 */
#ifndef CN_AUTH_H
#define CN_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../common/http.h"

#define AUTH_MAX_SKEW_SECONDS (15 * 60)
#define AUTH_MAX_PRESIGN_SECONDS (7 * 24 * 3600)
/* A decoded_length that auth_body_stream() does not check. auth_authenticate()
 * never produces it: streaming requests must send x-amz-decoded-content-length. */
#define AUTH_LENGTH_UNKNOWN UINT64_MAX

/* Fills secret (NUL-terminated) and principal for access_key; returns 0,
 * -CN_ENOKEY_ID if unknown or disabled, other negatives on failure. */
typedef int (*auth_secret_fn)(void *arg, const char *access_key, char *secret, size_t secret_cap, char *principal,
                              size_t principal_cap);

typedef enum auth_payload {
    AUTH_PAYLOAD_NONE = 0,          /* anonymous or SigV2: body taken as is */
    AUTH_PAYLOAD_SIGNED,            /* x-amz-content-sha256 is the hex SHA-256 of the body */
    AUTH_PAYLOAD_UNSIGNED,          /* UNSIGNED-PAYLOAD */
    AUTH_PAYLOAD_STREAMING,         /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    AUTH_PAYLOAD_STREAMING_TRAILER, /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
    AUTH_PAYLOAD_UNSIGNED_TRAILER,  /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
} auth_payload;

typedef enum auth_kind {
    AUTH_ANONYMOUS = 0,
    AUTH_V4_HEADER,
    AUTH_V4_QUERY,
    AUTH_V2_HEADER,
    AUTH_V2_QUERY,
} auth_kind;

typedef struct auth_result {
    auth_kind kind;
    char access_key[128];
    char principal[128]; /* user name behind the key; "" when anonymous */
    auth_payload payload;
    char payload_sha256[65]; /* for AUTH_PAYLOAD_SIGNED */
    /* what a streaming body needs to verify chunk signatures */
    uint8_t signing_key[32];
    char seed_signature[65];
    char amz_date[17];       /* 20130524T000000Z */
    char scope[128];         /* 20130524/us-east-1/s3/aws4_request */
    uint64_t decoded_length; /* x-amz-decoded-content-length, streaming only */
    time_t expires;          /* presigned: absolute expiry; 0 otherwise */
} auth_result;

/* Verifies the request's signature (not its body). now is the server clock.
 * Returns 0 (result filled; anonymous when no credentials were present) or a
 * negative CN_E* code: -CN_ESIGNATURE, -CN_ENOKEY_ID, -CN_ESKEW, -CN_EEXPIRED,
 * -CN_EAUTHHDR, -CN_EAUTHQUERY, -CN_EINVALID_ARGUMENT (also: two auth
 * mechanisms at once, an unsupported Authorization type), -CN_EACCESS (no
 * usable Date / x-amz-date), -CN_EINVALID_REQUEST (SigV4 header without
 * x-amz-content-sha256), -CN_EMISSING_LENGTH (streaming payload without
 * x-amz-decoded-content-length), -CN_ENOMEM, or what lookup returned. */
int auth_authenticate(const cn_request *req, time_t now, auth_secret_fn lookup, void *lookup_arg, auth_result *out);

/* Same, for a request the gateway recognised as virtual-hosted style
 * (bucket.example.com): SigV2 signs "/bucket" + path, and only the gateway
 * knows its own domain. vhost_bucket NULL means path style; SigV4 ignores it. */
int auth_authenticate_ex(const cn_request *req, time_t now, auth_secret_fn lookup, void *lookup_arg,
                         const char *vhost_bucket, auth_result *out);

/* Wraps the request body in a stream that yields the decoded payload and
 * verifies it as it goes:
 *  - SIGNED: SHA-256 of the whole body compared at EOF (-CN_ESHA256_MISMATCH);
 *  - STREAMING*: aws-chunked framing decoded, each chunk signature checked
 *    (-CN_ESIGNATURE), decoded length checked (-CN_EINCOMPLETE_BODY);
 *  - *_TRAILER: trailing headers (x-amz-checksum-*) parsed and made available
 *    through auth_body_trailer() after EOF.
 * A stream never returns its final 0 before every check has passed. The
 * stream reads from body/len in place and copies nothing but one chunk
 * header at a time. Returns NULL on allocation failure. */
cn_stream *auth_body_stream(const auth_result *ar, const uint8_t *body, uint64_t len);

/* After EOF: value of a trailer (lower-case name) or NULL. */
const char *auth_body_trailer(cn_stream *s, const char *name);

/* Size of the decoded payload as announced by the request: for streaming
 * payloads x-amz-decoded-content-length, else the body length. */
uint64_t auth_payload_length(const auth_result *ar, uint64_t body_len);

/* --- primitives, exported for unit tests against AWS's published vectors --- */

/* Appends the SigV4 canonical request for req to out (a capped buffer) with
 * the given signed header names (semicolon list) and payload hash. The URI is
 * req->path as sent (S3 neither normalises nor double-encodes it); a signed
 * "host" is req->host. presigned drops X-Amz-Signature from the query.
 * 0, -CN_ETOOLARGE, -CN_ENOMEM or -CN_EINVALID_ARGUMENT (bad escape). */
int auth_v4_canonical_request(const cn_request *req, const char *signed_headers, const char *payload_hash,
                              int presigned, cn_buf *out);
/* kSigning = HMAC chain over date, region, service, "aws4_request". */
void auth_v4_signing_key(uint8_t out[32], const char *secret, const char *date, const char *region,
                         const char *service);
/* Hex signature of string_to_sign under key. out holds 65 bytes. */
void auth_v4_sign(char out[65], const uint8_t key[32], const char *string_to_sign);

#endif

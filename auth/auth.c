/*
 * auth: tells which signature form a request carries and hands it to the file
 * that knows that form (sigv4.c, sigv2.c); a request with no credentials at
 * all is anonymous, and the caller decides what anonymous may do.
 *
 *   Authorization "AWS4-HMAC-SHA256 ..."   -> auth__v4_header
 *   Authorization "AWS AKID:sig"           -> auth__v2_header
 *   query X-Amz-Algorithm/Credential/Signature -> auth__v4_query
 *   query AWSAccessKeyId/Signature         -> auth__v2_query
 *   none of these                          -> anonymous
 *
 * Invariants: a request carrying two mechanisms is refused rather than
 * resolved by a preference order (AWS does the same); on failure the result is
 * wiped, so no signing key outlives a rejected request.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "../common/err.h"
#include "../common/util.h"
#include "auth_int.h"

static int has_param(const char *query, const char *name)
{
    const char *cur = query;
    size_t n = strlen(name);
    auth__param p;

    while (auth__query_next(&cur, &p))
        if (p.name_len == n && memcmp(p.name, name, n) == 0)
            return 1;
    return 0;
}

static int starts_with(const char *s, size_t n, const char *prefix)
{
    size_t pl = strlen(prefix);

    return n >= pl && memcmp(s, prefix, pl) == 0;
}

/* Anonymous and SigV2 requests sign no body, but a client may still frame it
 * as aws-chunked (unsigned trailer) or state its hash: honour what it says. */
static int unsigned_payload(const cn_request *req, auth_result *out)
{
    size_t n, en;
    const char *s = auth__header(req, "x-amz-content-sha256", &n);
    const char *enc = auth__header(req, "content-encoding", &en);
    int rc;

    out->payload = AUTH_PAYLOAD_NONE;
    if (s == NULL) {
        if (enc == NULL || !memmem(enc, en, "aws-chunked", 11) || auth__header(req, "x-amz-trailer", &n) == NULL)
            return 0;
        out->payload = AUTH_PAYLOAD_UNSIGNED_TRAILER;
        return auth__decoded_length(req, out);
    }
    rc = auth__payload_mode(s, n, 0, out);
    if (rc == 0 && (out->payload == AUTH_PAYLOAD_STREAMING || out->payload == AUTH_PAYLOAD_STREAMING_TRAILER))
        rc = -CN_EINVALID_REQUEST; /* chunk signatures without a request signature */
    if (rc == 0 && out->payload == AUTH_PAYLOAD_UNSIGNED_TRAILER)
        rc = auth__decoded_length(req, out);
    return rc;
}

int auth_authenticate_ex(const cn_request *req, time_t now, auth_secret_fn lookup, void *lookup_arg,
                         const char *vhost_bucket, auth_result *out)
{
    size_t n;
    const char *h = auth__header(req, "authorization", &n);
    const char *q = req->query;
    int v4q = has_param(q, "X-Amz-Algorithm") || has_param(q, "X-Amz-Credential") || has_param(q, "X-Amz-Signature");
    int v2q = has_param(q, "AWSAccessKeyId") || has_param(q, "Signature");
    int rc;

    memset(out, 0, sizeof(*out));
    if (h != NULL && (v4q || v2q))
        rc = -CN_EINVALID_ARGUMENT; /* "Only one auth mechanism allowed" */
    else if (h != NULL && starts_with(h, n, "AWS4-HMAC-SHA256"))
        rc = auth__v4_header(req, now, lookup, lookup_arg, out);
    else if (h != NULL && starts_with(h, n, "AWS "))
        rc = auth__v2_header(req, now, lookup, lookup_arg, vhost_bucket, out);
    else if (h != NULL)
        rc = -CN_EINVALID_ARGUMENT; /* "Unsupported Authorization Type" (SigV4a, Bearer, ...) */
    else if (v4q)
        rc = auth__v4_query(req, now, lookup, lookup_arg, out);
    else if (v2q)
        rc = auth__v2_query(req, now, lookup, lookup_arg, vhost_bucket, out);
    else
        rc = 0; /* anonymous: kind and principal are already zero */
    if (rc == 0 && (out->kind == AUTH_ANONYMOUS || out->kind == AUTH_V2_HEADER || out->kind == AUTH_V2_QUERY))
        rc = unsigned_payload(req, out);
    if (rc != 0)
        OPENSSL_cleanse(out, sizeof(*out));
    return rc;
}

int auth_authenticate(const cn_request *req, time_t now, auth_secret_fn lookup, void *lookup_arg, auth_result *out)
{
    return auth_authenticate_ex(req, now, lookup, lookup_arg, NULL, out);
}

/*
 * sigv4: AWS Signature Version 4 as S3 speaks it, in the Authorization header
 * and in presigned query strings.
 *
 *   canonical request --sha256--> string to sign --HMAC(kSigning)--> signature
 *   kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 *                   "aws4_request")
 *
 * Invariants:
 *  1. The canonical URI is req->path exactly as the client sent it: S3 does
 *     not normalise dot segments or slashes and does not double-encode.
 *  2. The query is percent-decoded, re-encoded by AWS rules and sorted by name
 *     then value, so every spelling of the same parameters canonicalises alike.
 *  3. A signed "host" is req->host, because the gateway moved Host out of the
 *     header list; "host" must be signed, so a signature cannot be replayed
 *     against another virtual-hosted bucket.
 *  4. The received signature is compared in constant time.
 * Any region is accepted (clients sign with whatever region they were set up
 * with); the service must be "s3" - but only here: the primitives take any
 * service so that AWS's generic test suite can drive them.
 * Not done here: the body. chunked.c verifies it while it is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "../common/err.h"
#include "../common/util.h"
#include "auth_int.h"

#define V4_ALGORITHM "AWS4-HMAC-SHA256"
/* Whole canonical request; real ones are a few hundred bytes. */
#define V4_CREQ_LIMIT (256 * 1024)
#define V4_NAME_CAP 128

typedef struct v4_req {
    char access_key[128];
    char date[9]; /* credential scope date, YYYYMMDD */
    char region[64];
    char service[32];
    char signed_headers[4096];
    char signature[65];
    char amz_date[17]; /* request time, 20130524T000000Z */
    time_t t;
} v4_req;

/* ---- canonical request ---- */

typedef struct v4_param {
    char *name, *value;
} v4_param;

static int param_cmp(const void *a, const void *b)
{
    const v4_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

/* Decodes s (form rules: '+' is a space, as SDKs that form-encode mean it)
 * and re-encodes it the AWS way into the arena. NULL on a malformed escape. */
static char *recode(char **arena, const char *s, size_t n, char *tmp, size_t tmpcap)
{
    int len = cn_uri_decode(tmp, tmpcap, s, n, 1);
    char *start = *arena;

    if (len < 0)
        return NULL;
    *arena += cn_uri_encode(start, tmp, (size_t)len, 0) + 1;
    return start;
}

static int fill_params(const char *query, int presigned, v4_param *ps, size_t *n, char *arena, char *tmp, size_t tmpcap)
{
    const char *cur = query;
    auth__param p;
    size_t i = 0;

    while (auth__query_next(&cur, &p)) {
        ps[i].name = recode(&arena, p.name, p.name_len, tmp, tmpcap);
        ps[i].value = recode(&arena, p.value, p.value_len, tmp, tmpcap);
        if (ps[i].name == NULL || ps[i].value == NULL)
            return -CN_EINVALID_ARGUMENT;
        if (presigned && strcmp(ps[i].name, "X-Amz-Signature") == 0)
            continue;
        i++;
    }
    *n = i;
    return 0;
}

static int v4_canonical_query(const char *query, int presigned, cn_buf *out)
{
    size_t qlen = query != NULL ? strlen(query) : 0, n = 0;
    const char *cur = query;
    auth__param p;
    v4_param *ps = NULL;
    char *arena = NULL, *tmp = NULL;
    int rc = 0;

    while (auth__query_next(&cur, &p))
        n++;
    if (n == 0)
        return 0;
    /* Each component re-encodes to at most three bytes per raw byte. */
    ps = calloc(n, sizeof(*ps));
    arena = malloc(3 * qlen + 2 * n + 1);
    tmp = malloc(qlen + 1);
    if (ps == NULL || arena == NULL || tmp == NULL) {
        rc = -CN_ENOMEM;
        goto out;
    }
    rc = fill_params(query, presigned, ps, &n, arena, tmp, qlen + 1);
    if (rc != 0)
        goto out;
    qsort(ps, n, sizeof(*ps), param_cmp);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cn_buf_printf(out, "%s%s=%s", i > 0 ? "&" : "", ps[i].name, ps[i].value);
out:
    free(ps);
    free(arena);
    free(tmp);
    return rc;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Trimmed, with inner runs of whitespace collapsed to one space. */
static int append_value(cn_buf *out, const char *v, size_t n)
{
    size_t i = 0;
    int rc = 0;

    while (n > 0 && is_ws(v[n - 1]))
        n--;
    while (i < n && is_ws(v[i]))
        i++;
    while (i < n && rc == 0) {
        size_t j = i;
        while (j < n && !is_ws(v[j]))
            j++;
        rc = cn_buf_append(out, v + i, j - i);
        while (j < n && is_ws(v[j]))
            j++;
        if (rc == 0 && j < n)
            rc = cn_buf_append(out, " ", 1);
        i = j;
    }
    return rc;
}

static int header_line(const cn_request *req, const char *name, size_t nlen, cn_buf *out)
{
    char lname[V4_NAME_CAP];
    int rc, first = 1;

    if (nlen >= sizeof(lname))
        return -CN_EINVALID_ARGUMENT;
    for (size_t i = 0; i < nlen; i++)
        lname[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    lname[nlen] = '\0';
    rc = cn_buf_printf(out, "%s:", lname);
    if (rc == 0 && strcmp(lname, "host") == 0)
        rc = append_value(out, req->host != NULL ? req->host : "", req->host != NULL ? strlen(req->host) : 0);
    else
        for (size_t i = 0; i < req->n_headers && rc == 0; i++) {
            const cn_header *h = &req->headers[i];
            if (h->name_len != nlen || memcmp(h->name, lname, nlen) != 0)
                continue;
            /* Repeated headers are one value, comma-joined in arrival order. */
            if (!first)
                rc = cn_buf_append(out, ",", 1);
            if (rc == 0)
                rc = append_value(out, h->value, h->value_len);
            first = 0;
        }
    return rc == 0 ? cn_buf_append(out, "\n", 1) : rc;
}

static int v4_canonical_headers(const cn_request *req, const char *signed_headers, cn_buf *out)
{
    const char *p = signed_headers;
    int rc = 0;

    while (*p != '\0' && rc == 0) {
        size_t n = strcspn(p, ";");
        if (n > 0)
            rc = header_line(req, p, n, out);
        p += n;
        if (*p == ';')
            p++;
    }
    return rc;
}

int auth_v4_canonical_request(const cn_request *req, const char *signed_headers, const char *payload_hash,
                              int presigned, cn_buf *out)
{
    const char *path = req->path != NULL && req->path[0] != '\0' ? req->path : "/";
    int rc = cn_buf_printf(out, "%s\n%s\n", req->method, path);

    if (rc == 0)
        rc = v4_canonical_query(req->query, presigned, out);
    if (rc == 0)
        rc = cn_buf_append(out, "\n", 1);
    if (rc == 0)
        rc = v4_canonical_headers(req, signed_headers, out);
    if (rc == 0)
        rc = cn_buf_printf(out, "\n%s\n%s", signed_headers, payload_hash);
    return rc;
}

/* ---- keys and signatures ---- */

void auth_v4_signing_key(uint8_t out[32], const char *secret, const char *date, const char *region, const char *service)
{
    uint8_t k0[64], k1[32], k2[32], k3[32];
    size_t sl = strlen(secret), klen = 4 + sl;

    if (klen <= sizeof(k0)) {
        memcpy(k0, "AWS4", 4);
        memcpy(k0 + 4, secret, sl);
    } else {
        /* HMAC replaces a key longer than its block by the key's hash;
         * hashing in two pieces spares a copy of unbounded size. */
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned int len = 32;
        memset(k0, 0, sizeof(k0));
        if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, "AWS4", 4) &&
            EVP_DigestUpdate(md, secret, sl))
            EVP_DigestFinal_ex(md, k0, &len);
        EVP_MD_CTX_free(md);
        klen = 32;
    }
    auth__hmac_sha256(k1, k0, klen, date, strlen(date));
    auth__hmac_sha256(k2, k1, 32, region, strlen(region));
    auth__hmac_sha256(k3, k2, 32, service, strlen(service));
    auth__hmac_sha256(out, k3, 32, "aws4_request", 12);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    OPENSSL_cleanse(k3, sizeof(k3));
}

void auth_v4_sign(char out[65], const uint8_t key[32], const char *string_to_sign)
{
    uint8_t mac[32];

    auth__hmac_sha256(mac, key, 32, string_to_sign, strlen(string_to_sign));
    cn_hex(out, mac, sizeof(mac));
}

/* ---- parsing what the client sent ---- */

static int span_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* "AKID/20130524/us-east-1/s3/aws4_request", split from the right so that the
 * access key is whatever precedes the last four fields. */
static int parse_credential(const char *s, size_t n, v4_req *v)
{
    const char *cut[4];
    size_t k = 0;

    for (size_t i = n; i > 0 && k < 4; i--)
        if (s[i - 1] == '/')
            cut[k++] = s + i - 1;
    if (k < 4 || cut[3] == s)
        return -1;
    if (!span_is(cut[0] + 1, (size_t)(s + n - cut[0] - 1), "aws4_request"))
        return -1;
    if (cut[2] - cut[3] - 1 != 8 || cut[1] - cut[2] - 1 == 0 || cut[0] - cut[1] - 1 == 0)
        return -1;
    for (int i = 1; i <= 8; i++)
        if (cut[3][i] < '0' || cut[3][i] > '9')
            return -1;
    if (auth__copy(v->access_key, sizeof(v->access_key), s, (size_t)(cut[3] - s)) ||
        auth__copy(v->date, sizeof(v->date), cut[3] + 1, 8) ||
        auth__copy(v->region, sizeof(v->region), cut[2] + 1, (size_t)(cut[1] - cut[2] - 1)) ||
        auth__copy(v->service, sizeof(v->service), cut[1] + 1, (size_t)(cut[0] - cut[1] - 1)))
        return -1;
    return 0;
}

static int authz_field(const char *k, size_t kn, const char *val, size_t vn, v4_req *v, int *seen)
{
    if (span_is(k, kn, "Credential") && !(*seen & 1)) {
        *seen |= 1;
        return parse_credential(val, vn, v);
    }
    if (span_is(k, kn, "SignedHeaders") && !(*seen & 2)) {
        *seen |= 2;
        return vn == 0 ? -1 : auth__copy(v->signed_headers, sizeof(v->signed_headers), val, vn);
    }
    if (span_is(k, kn, "Signature") && !(*seen & 4)) {
        *seen |= 4;
        return auth__hex64(v->signature, val, vn);
    }
    return -1;
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...", with
 * any amount of space (or none) around the commas. */
static int parse_authz(const char *h, size_t n, v4_req *v)
{
    const char *p = h + strlen(V4_ALGORITHM), *end = h + n;
    int seen = 0;

    if (p >= end || !is_ws(*p))
        return -CN_EAUTHHDR;
    while (p < end) {
        while (p < end && (is_ws(*p) || *p == ','))
            p++;
        if (p == end)
            break;
        const char *e = memchr(p, ',', (size_t)(end - p));
        e = e != NULL ? e : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq == NULL)
            return -CN_EAUTHHDR;
        const char *ke = eq, *vs = eq + 1, *ve = e;
        while (ke > p && is_ws(ke[-1]))
            ke--;
        while (vs < ve && is_ws(*vs))
            vs++;
        while (ve > vs && is_ws(ve[-1]))
            ve--;
        if (authz_field(p, (size_t)(ke - p), vs, (size_t)(ve - vs), v, &seen) != 0)
            return -CN_EAUTHHDR;
        p = e;
    }
    return seen == 7 ? 0 : -CN_EAUTHHDR;
}

static int signs_host(const char *signed_headers)
{
    const char *p = signed_headers;

    while (*p != '\0') {
        size_t n = strcspn(p, ";");
        if (n == 4 && memcmp(p, "host", 4) == 0)
            return 1;
        p += n;
        if (*p == ';')
            p++;
    }
    return 0;
}

/* The request time: x-amz-date (which must be in the basic ISO form that the
 * string to sign carries), else Date in any HTTP form. */
static int request_date(const cn_request *req, v4_req *v)
{
    size_t n;
    const char *s = auth__header(req, "x-amz-date", &n);

    if (s != NULL) {
        if (auth__parse_amz_date(s, n, &v->t) != 0)
            return -CN_EACCESS;
        memcpy(v->amz_date, s, 16);
        v->amz_date[16] = '\0';
        return 0;
    }
    s = auth__header(req, "date", &n);
    if (s == NULL || (auth__parse_amz_date(s, n, &v->t) != 0 && cn_time_parse(s, n, &v->t) != 0))
        return -CN_EACCESS;
    char tmp[32];
    cn_time_amz(tmp, v->t);
    return auth__copy(v->amz_date, sizeof(v->amz_date), tmp, strlen(tmp)) == 0 ? 0 : -CN_EACCESS;
}

/* ---- verification, common to header and query ---- */

static int check_signature(const cn_request *req, const v4_req *v, const char *payload_hash, int presigned,
                           const char *secret, auth_result *out)
{
    char hash[65], sts[256], want[65], scope[sizeof(out->scope)];
    uint8_t key[32] = {0};
    cn_buf creq;
    int rc;

    cn_buf_init(&creq, V4_CREQ_LIMIT);
    if (snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", v->date, v->region, v->service) >= (int)sizeof(scope)) {
        rc = -CN_EINVALID_ARGUMENT;
        goto out;
    }
    rc = auth_v4_canonical_request(req, v->signed_headers, payload_hash, presigned, &creq);
    if (rc != 0) {
        rc = rc == -CN_ENOMEM ? rc : -CN_EINVALID_ARGUMENT;
        goto out;
    }
    auth__sha256_hex(hash, creq.data, creq.len);
    snprintf(sts, sizeof(sts), V4_ALGORITHM "\n%s\n%s\n%s", v->amz_date, scope, hash);
    auth_v4_signing_key(key, secret, v->date, v->region, v->service);
    auth_v4_sign(want, key, sts);
    if (!cn_ct_equal(want, 64, v->signature, 64)) {
        rc = -CN_ESIGNATURE;
        goto out;
    }
    memcpy(out->signing_key, key, sizeof(key));
    memcpy(out->seed_signature, v->signature, sizeof(out->seed_signature));
    memcpy(out->amz_date, v->amz_date, sizeof(out->amz_date));
    memcpy(out->scope, scope, sizeof(out->scope));
    auth__copy(out->access_key, sizeof(out->access_key), v->access_key, strlen(v->access_key));
out:
    OPENSSL_cleanse(key, sizeof(key));
    cn_buf_dispose(&creq);
    return rc;
}

static int verify(const cn_request *req, const v4_req *v, const char *payload_hash, int presigned,
                  auth_secret_fn lookup, void *arg, auth_result *out)
{
    char secret[AUTH__SECRET_CAP] = "", principal[sizeof(out->principal)] = "";
    int rc = lookup(arg, v->access_key, secret, sizeof(secret), principal, sizeof(principal));

    if (rc == 0)
        rc = check_signature(req, v, payload_hash, presigned, secret, out);
    if (rc == 0)
        memcpy(out->principal, principal, sizeof(out->principal));
    OPENSSL_cleanse(secret, sizeof(secret));
    return rc;
}

/* Scope checks shared by both forms; err is the form's "malformed" code. */
static int check_scope(const v4_req *v, int err)
{
    if (strcmp(v->service, "s3") != 0 || !signs_host(v->signed_headers))
        return -err;
    if (memcmp(v->amz_date, v->date, 8) != 0)
        return -err;
    return 0;
}

int auth__v4_header(const cn_request *req, time_t now, auth_secret_fn lookup, void *arg, auth_result *out)
{
    v4_req v;
    size_t n, pn;
    const char *h = auth__header(req, "authorization", &n);
    const char *ph;
    char payload_hash[65];
    int rc;

    memset(&v, 0, sizeof(v));
    rc = parse_authz(h, n, &v);
    if (rc == 0)
        rc = request_date(req, &v);
    if (rc == 0)
        rc = check_scope(&v, CN_EAUTHHDR);
    if (rc != 0)
        return rc;
    if ((now > v.t ? now - v.t : v.t - now) > AUTH_MAX_SKEW_SECONDS)
        return -CN_ESKEW;
    ph = auth__header(req, "x-amz-content-sha256", &pn);
    if (ph == NULL)
        return -CN_EINVALID_REQUEST;
    rc = auth__payload_mode(ph, pn, 0, out);
    if (rc == 0 && out->payload >= AUTH_PAYLOAD_STREAMING)
        rc = auth__decoded_length(req, out);
    if (rc == 0 && auth__copy(payload_hash, sizeof(payload_hash), ph, pn) != 0)
        rc = -CN_EINVALID_ARGUMENT;
    if (rc == 0)
        rc = verify(req, &v, payload_hash, 0, lookup, arg, out);
    if (rc == 0)
        out->kind = AUTH_V4_HEADER;
    return rc;
}

/* Fetches a presign parameter; -CN_EAUTHQUERY when absent or malformed. */
static int qparam(const cn_request *req, const char *name, char *buf, size_t cap, size_t *len)
{
    int n = auth__query_get(req->query, name, buf, cap, 1);

    if (n < 0)
        return -CN_EAUTHQUERY;
    *len = (size_t)n;
    return 0;
}

static int parse_expires(const char *s, size_t n, long *out)
{
    long v = 0;

    if (n == 0 || n > 7)
        return -CN_EAUTHQUERY;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -CN_EAUTHQUERY;
        v = v * 10 + (s[i] - '0');
    }
    if (v > AUTH_MAX_PRESIGN_SECONDS)
        return -CN_EAUTHQUERY;
    *out = v;
    return 0;
}

static int parse_query(const cn_request *req, v4_req *v, long *expires)
{
    char buf[AUTH__PARAM_CAP];
    size_t n;

    if (qparam(req, "X-Amz-Algorithm", buf, sizeof(buf), &n) || strcmp(buf, V4_ALGORITHM) != 0)
        return -CN_EAUTHQUERY;
    if (qparam(req, "X-Amz-Credential", buf, sizeof(buf), &n) || parse_credential(buf, n, v))
        return -CN_EAUTHQUERY;
    if (qparam(req, "X-Amz-Date", buf, sizeof(buf), &n) || auth__parse_amz_date(buf, n, &v->t))
        return -CN_EAUTHQUERY;
    memcpy(v->amz_date, buf, sizeof(v->amz_date));
    if (qparam(req, "X-Amz-Expires", buf, sizeof(buf), &n) || parse_expires(buf, n, expires))
        return -CN_EAUTHQUERY;
    if (qparam(req, "X-Amz-SignedHeaders", v->signed_headers, sizeof(v->signed_headers), &n) || n == 0)
        return -CN_EAUTHQUERY;
    if (qparam(req, "X-Amz-Signature", buf, sizeof(buf), &n) || auth__hex64(v->signature, buf, n))
        return -CN_EAUTHQUERY;
    return check_scope(v, CN_EAUTHQUERY);
}

int auth__v4_query(const cn_request *req, time_t now, auth_secret_fn lookup, void *arg, auth_result *out)
{
    v4_req v;
    long expires = 0;
    char payload_hash[AUTH__PARAM_CAP];
    int rc, n;

    memset(&v, 0, sizeof(v));
    rc = parse_query(req, &v, &expires);
    if (rc != 0)
        return rc;
    /* Dated in the future beyond the allowed skew: not valid yet. */
    if (v.t > now + AUTH_MAX_SKEW_SECONDS || now > v.t + expires)
        return -CN_EEXPIRED;
    n = auth__query_get(req->query, "X-Amz-Content-Sha256", payload_hash, sizeof(payload_hash), 1);
    if (n == -2)
        return -CN_EAUTHQUERY;
    if (n == -1) /* presigned URLs carry no body hash unless they say so */
        strcpy(payload_hash, "UNSIGNED-PAYLOAD");
    rc = auth__payload_mode(payload_hash, strlen(payload_hash), 1, out);
    if (rc == 0)
        rc = verify(req, &v, payload_hash, 1, lookup, arg, out);
    if (rc == 0) {
        out->kind = AUTH_V4_QUERY;
        out->expires = v.t + expires;
    }
    return rc;
}

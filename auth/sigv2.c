/*
 * sigv2: AWS Signature Version 2 (HMAC-SHA1), still sent by s3cmd with
 * signature_v2 = True and by older tools, in the Authorization header
 * ("AWS AKID:base64sig") and in query strings (AWSAccessKeyId, Signature,
 * Expires).
 *
 *   StringToSign = Method "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
 *                  CanonicalizedAmzHeaders CanonicalizedResource
 *
 * Invariants:
 *  1. Date is "" when x-amz-date is present (x-amz-date then appears among the
 *     amz headers, as botocore and s3cmd sign it); for query auth it is the
 *     Expires value.
 *  2. The resource is the raw path, prefixed with "/bucket" for a request the
 *     gateway recognised as virtual-hosted, then the S3 sub-resources found in
 *     the query, sorted by name, values decoded ("?acl", "?partNumber=2&uploadId=x").
 *  3. The signature is compared in constant time.
 * Not done here: SigV2 signs no body; Content-MD5 is checked by s3api.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../common/err.h"
#include "../common/util.h"
#include "auth_int.h"

#define V2_STS_LIMIT (64 * 1024)
#define V2_MAX_AMZ_HEADERS 128
#define V2_MAX_SUBRESOURCES 32

/* Query parameters that are part of the signed resource; sorted for bsearch. */
static const char *const subresources[] = {
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "partNumber",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "select",
    "select-type",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_subresource(const char *name, size_t n)
{
    char key[32];
    const char *kp = key;

    if (n >= sizeof(key))
        return 0;
    memcpy(key, name, n);
    key[n] = '\0';
    return bsearch(&kp, subresources, CN_ARRAY_SIZE(subresources), sizeof(subresources[0]), str_cmp) != NULL;
}

static int param_cmp(const void *a, const void *b)
{
    const auth__param *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);

    return c != 0 ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int append_subresources(const char *query, cn_buf *sts)
{
    auth__param ps[V2_MAX_SUBRESOURCES] = {0}, p;
    const char *cur = query;
    size_t n = 0;
    int rc = 0;

    while (auth__query_next(&cur, &p))
        if (is_subresource(p.name, p.name_len)) {
            if (n == CN_ARRAY_SIZE(ps))
                return -CN_EINVALID_ARGUMENT;
            ps[n++] = p;
        }
    qsort(ps, n, sizeof(ps[0]), param_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = cn_buf_append(sts, i == 0 ? "?" : "&", 1);
        if (rc == 0)
            rc = cn_buf_append(sts, ps[i].name, ps[i].name_len);
        if (rc != 0 || !ps[i].has_eq)
            continue;
        /* Values are signed decoded. */
        char *tmp = malloc(ps[i].value_len + 1);
        int len = tmp != NULL ? cn_uri_decode(tmp, ps[i].value_len + 1, ps[i].value, ps[i].value_len, 1) : -1;
        rc = tmp == NULL ? -CN_ENOMEM : len < 0 ? -CN_EINVALID_ARGUMENT : cn_buf_append(sts, "=", 1);
        if (rc == 0)
            rc = cn_buf_append(sts, tmp, (size_t)len);
        free(tmp);
    }
    return rc;
}

/* Orders x-amz-* headers by name, then by arrival (duplicates keep order). */
static int amz_cmp(const void *a, const void *b)
{
    const cn_header *x = *(const cn_header *const *)a, *y = *(const cn_header *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);

    if (c != 0)
        return c;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int append_trimmed(cn_buf *b, const char *v, size_t n)
{
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    return cn_buf_append(b, v, n);
}

static int append_amz_headers(const cn_request *req, cn_buf *sts)
{
    const cn_header *hs[V2_MAX_AMZ_HEADERS] = {0};
    size_t n = 0;
    int rc = 0;

    for (size_t i = 0; i < req->n_headers; i++)
        if (cn_strncase_prefix(req->headers[i].name, req->headers[i].name_len, "x-amz-")) {
            if (n == CN_ARRAY_SIZE(hs))
                return -CN_EINVALID_ARGUMENT;
            hs[n++] = &req->headers[i];
        }
    qsort(hs, n, sizeof(hs[0]), amz_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        int same = i > 0 && hs[i - 1]->name_len == hs[i]->name_len &&
                   memcmp(hs[i - 1]->name, hs[i]->name, hs[i]->name_len) == 0;
        if (same) {
            rc = cn_buf_append(sts, ",", 1);
        } else {
            if (i > 0)
                rc = cn_buf_append(sts, "\n", 1);
            if (rc == 0)
                rc = cn_buf_append(sts, hs[i]->name, hs[i]->name_len);
            if (rc == 0)
                rc = cn_buf_append(sts, ":", 1);
        }
        if (rc == 0)
            rc = append_trimmed(sts, hs[i]->value, hs[i]->value_len);
    }
    return rc == 0 && n > 0 ? cn_buf_append(sts, "\n", 1) : rc;
}

static int append_header_line(const cn_request *req, const char *name, cn_buf *sts)
{
    size_t n;
    const char *v = auth__header(req, name, &n);
    int rc = v != NULL ? append_trimmed(sts, v, n) : 0;

    return rc == 0 ? cn_buf_append(sts, "\n", 1) : rc;
}

/* date_line is the Date header, "" or the Expires value. slash appends a
 * '/' to the path (see bucket_only). */
static int string_to_sign(const cn_request *req, const char *date_line, const char *vhost_bucket, int slash,
                          cn_buf *sts)
{
    int rc = cn_buf_printf(sts, "%s\n", req->method);

    if (rc == 0)
        rc = append_header_line(req, "content-md5", sts);
    if (rc == 0)
        rc = append_header_line(req, "content-type", sts);
    if (rc == 0)
        rc = cn_buf_printf(sts, "%s\n", date_line);
    if (rc == 0)
        rc = append_amz_headers(req, sts);
    if (rc == 0 && vhost_bucket != NULL && vhost_bucket[0] != '\0')
        rc = cn_buf_printf(sts, "/%s", vhost_bucket);
    if (rc == 0)
        rc = cn_buf_puts(sts, req->path != NULL && req->path[0] != '\0' ? req->path : "/");
    if (rc == 0 && slash)
        rc = cn_buf_puts(sts, "/");
    if (rc == 0)
        rc = append_subresources(req->query, sts);
    return rc == -CN_ETOOLARGE ? -CN_EINVALID_ARGUMENT : rc;
}

/* A path-style request on a bucket ("/bucket", no key): botocore signs the
 * resource as "/bucket/" while sending "/bucket", so both forms are tried. */
static int bucket_only(const cn_request *req, const char *vhost_bucket)
{
    return (vhost_bucket == NULL || vhost_bucket[0] == '\0') && req->path != NULL && req->path[0] == '/' &&
           req->path[1] != '\0' && strchr(req->path + 1, '/') == NULL;
}

/* Looks the key up, signs sts and compares with the client's base64 signature. */
static int check(const char *access_key, const char *sig, size_t sig_len, const cn_buf *sts, auth_secret_fn lookup,
                 void *arg, auth_result *out)
{
    char secret[AUTH__SECRET_CAP] = "", principal[sizeof(out->principal)] = "", want[32];
    uint8_t mac[20];
    unsigned int mlen = sizeof(mac);
    int rc = lookup(arg, access_key, secret, sizeof(secret), principal, sizeof(principal));

    if (rc != 0)
        goto out;
    HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)sts->data, sts->len, mac, &mlen);
    cn_base64(want, mac, sizeof(mac));
    if (!cn_ct_equal(want, strlen(want), sig, sig_len)) {
        rc = -CN_ESIGNATURE;
        goto out;
    }
    auth__copy(out->access_key, sizeof(out->access_key), access_key, strlen(access_key));
    memcpy(out->principal, principal, sizeof(out->principal));
    out->payload = AUTH_PAYLOAD_NONE;
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(mac, sizeof(mac));
    return rc;
}

static int sign_and_check(const cn_request *req, const char *date_line, const char *vhost_bucket,
                          const char *access_key, const char *sig, size_t sig_len, auth_secret_fn lookup, void *arg,
                          auth_result *out)
{
    int rc = -CN_ESIGNATURE;

    for (int slash = 0; slash <= bucket_only(req, vhost_bucket) && rc == -CN_ESIGNATURE; slash++) {
        cn_buf sts;
        cn_buf_init(&sts, V2_STS_LIMIT);
        rc = string_to_sign(req, date_line, vhost_bucket, slash, &sts);
        if (rc == 0)
            rc = check(access_key, sig, sig_len, &sts, lookup, arg, out);
        cn_buf_dispose(&sts);
    }
    return rc;
}

/* RFC 1123 with "GMT" or a numeric zone ("+0000", as AWS's own examples
 * write it), or any other form cn_time_parse knows. */
static int parse_http_date(const char *s, size_t n, time_t *out)
{
    char tmp[64];
    struct tm tm;
    const char *end;
    int sign, hh, mm;

    if (cn_time_parse(s, n, out) == 0)
        return 0;
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    memset(&tm, 0, sizeof(tm));
    end = strptime(tmp, "%a, %d %b %Y %H:%M:%S ", &tm);
    if (end == NULL || (*end != '+' && *end != '-') || strlen(end) != 5 || sscanf(end + 1, "%2d%2d", &hh, &mm) != 2)
        return -1;
    sign = *end == '-' ? -1 : 1;
    *out = timegm(&tm) - sign * (hh * 3600 + mm * 60);
    return 0;
}

int auth__v2_header(const cn_request *req, time_t now, auth_secret_fn lookup, void *arg, const char *vhost_bucket,
                    auth_result *out)
{
    size_t n, dn;
    const char *h = auth__header(req, "authorization", &n);
    const char *amz = auth__header(req, "x-amz-date", &dn), *date = amz;
    const char *cred, *colon;
    char access_key[sizeof(out->access_key)], date_line[64] = "";
    time_t t;
    int rc;

    cred = h + 4; /* after "AWS " */
    while (cred < h + n && *cred == ' ')
        cred++;
    colon = memchr(cred, ':', (size_t)(h + n - cred));
    if (colon == NULL || colon == cred || auth__copy(access_key, sizeof(access_key), cred, (size_t)(colon - cred)))
        return -CN_EAUTHHDR;
    if (date == NULL)
        date = auth__header(req, "date", &dn);
    if (date == NULL || parse_http_date(date, dn, &t) != 0)
        return -CN_EACCESS;
    if ((now > t ? now - t : t - now) > AUTH_MAX_SKEW_SECONDS)
        return -CN_ESKEW;
    if (amz == NULL && auth__copy(date_line, sizeof(date_line), date, dn) != 0)
        return -CN_EACCESS;
    rc = sign_and_check(req, date_line, vhost_bucket, access_key, colon + 1, (size_t)(h + n - colon - 1), lookup, arg,
                        out);
    if (rc == 0)
        out->kind = AUTH_V2_HEADER;
    return rc;
}

static int parse_epoch(const char *s, size_t n, time_t *out)
{
    long long v = 0;

    if (n == 0 || n > 12)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = (time_t)v;
    return 0;
}

int auth__v2_query(const cn_request *req, time_t now, auth_secret_fn lookup, void *arg, const char *vhost_bucket,
                   auth_result *out)
{
    char access_key[sizeof(out->access_key)], sig[128], expires[32];
    int kn, sn, en;
    time_t t;
    int rc;

    kn = auth__query_get(req->query, "AWSAccessKeyId", access_key, sizeof(access_key), 1);
    /* A base64 signature holds '+': decode it without form rules. */
    sn = auth__query_get(req->query, "Signature", sig, sizeof(sig), 0);
    en = auth__query_get(req->query, "Expires", expires, sizeof(expires), 1);
    if (kn <= 0 || sn <= 0 || en <= 0 || parse_epoch(expires, (size_t)en, &t) != 0)
        return -CN_EAUTHQUERY;
    if (now > t)
        return -CN_EEXPIRED;
    rc = sign_and_check(req, expires, vhost_bucket, access_key, sig, (size_t)sn, lookup, arg, out);
    if (rc == 0) {
        out->kind = AUTH_V2_QUERY;
        out->expires = t;
    }
    return rc;
}

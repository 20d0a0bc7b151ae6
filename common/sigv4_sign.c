/*
 * sigv4_sign: AWS Signature Version 4 for the requests cairn itself sends:
 * to S3-compatible providers (backends/s3.c) and to its own admin API
 * (gateway/admin_cmd.c). It lives in common/ because both need it and
 * neither may call the other.
 *
 * This is the signing half only; verifying what clients send is auth/'s job,
 * and backends/ may not call up into auth/ (DESIGN.md, layers). The two share
 * the algorithm, not the code:
 *
 *   canonical request = method \n path \n query \n (name:value\n)* \n
 *                       signed-names \n payload-hash
 *   string to sign    = "AWS4-HMAC-SHA256" \n amz-date \n scope \n hex(SHA256(creq))
 *   signing key       = HMAC chain "AWS4"+secret → day → region → "s3" → "aws4_request"
 *
 * The caller builds the canonical URI and query (it knows which parts need
 * encoding); this file sorts and lower-cases nothing it was not given to sort.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "buf.h"
#include "err.h"
#include "sigv4_sign.h"
#include "util.h"

#define SIGV4_CREQ_MAX (64u << 10)

static int hmac256(uint8_t out[32], const void *key, size_t klen, const char *msg)
{
    unsigned int len = 32;

    if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len) == NULL || len != 32)
        return -CN_EINTERNAL;
    return 0;
}

static int valid_date(const char *d)
{
    size_t i = 0;

    if (d == NULL || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

int cn_sigv4_authorization(char *out, size_t cap, const char *access_key, const char *secret_key, const char *region,
                           const cn_sigv4_req *r)
{
    const cn_sigv4_header *sorted[CN_SIGV4_MAX_HEADERS];
    char day[9], hash[65], sig[65], secret[256];
    uint8_t md[32], key[32];
    cn_buf creq, sts, names;
    size_t i = 0, j = 0;
    int rc = 0, n = 0;

    cn_buf_init(&creq, SIGV4_CREQ_MAX);
    cn_buf_init(&sts, 1024);
    cn_buf_init(&names, 1024);
    if (r == NULL || r->method == NULL || r->path == NULL || r->path[0] != '/' || r->query == NULL ||
        r->payload_hash == NULL || !valid_date(r->amz_date) || r->n_headers == 0 ||
        r->n_headers > CN_SIGV4_MAX_HEADERS || access_key == NULL || secret_key == NULL || region == NULL ||
        strlen(secret_key) + 5 > sizeof(secret)) {
        rc = -CN_EINVALID_ARGUMENT;
        goto out;
    }
    /* Insertion sort by name: a handful of headers. */
    for (i = 0; i < r->n_headers; i++) {
        const cn_sigv4_header *h = &r->headers[i];
        for (j = i; j > 0 && strcmp(sorted[j - 1]->name, h->name) > 0; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = h;
    }
    rc = cn_buf_printf(&creq, "%s\n%s\n%s\n", r->method, r->path, r->query);
    for (i = 0; rc == 0 && i < r->n_headers; i++) {
        if (i > 0 && strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            rc = -CN_EINVALID_ARGUMENT;
            goto out;
        }
        rc = cn_buf_printf(&creq, "%s:%s\n", sorted[i]->name, sorted[i]->value);
        if (rc == 0)
            rc = cn_buf_printf(&names, "%s%s", i > 0 ? ";" : "", sorted[i]->name);
    }
    if (rc == 0)
        rc = cn_buf_printf(&creq, "\n%s\n%s", names.data, r->payload_hash);
    if (rc != 0)
        goto out;

    SHA256((const unsigned char *)creq.data, creq.len, md);
    cn_hex(hash, md, sizeof(md));
    memcpy(day, r->amz_date, 8);
    day[8] = '\0';
    rc = cn_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", r->amz_date, day, region, hash);
    if (rc != 0)
        goto out;

    snprintf(secret, sizeof(secret), "AWS4%s", secret_key);
    rc = hmac256(key, secret, strlen(secret), day);
    if (rc == 0)
        rc = hmac256(key, key, sizeof(key), region);
    if (rc == 0)
        rc = hmac256(key, key, sizeof(key), "s3");
    if (rc == 0)
        rc = hmac256(key, key, sizeof(key), "aws4_request");
    if (rc == 0)
        rc = hmac256(md, key, sizeof(key), sts.data);
    if (rc != 0)
        goto out;
    cn_hex(sig, md, sizeof(md));

    n = snprintf(out, cap, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, SignedHeaders=%s, Signature=%s",
                 access_key, day, region, names.data, sig);
    if (n < 0 || (size_t)n >= cap)
        rc = -CN_ETOOLARGE;
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(key, sizeof(key));
    cn_buf_dispose(&creq);
    cn_buf_dispose(&sts);
    cn_buf_dispose(&names);
    return rc;
}

void cn_sha256_hex(char out[65], const void *p, size_t len)
{
    uint8_t md[32];

    SHA256(p, len, md);
    cn_hex(out, md, sizeof(md));
}

/*
 * test_sigv4: auth/sigv4.c against AWS's published vectors, then the ways a
 * request can fail.
 *
 * tests/vectors/sigv4/<case>/ holds one case per folder, as AWS's Signature
 * Version 4 test suite lays it out: <case>.req (the HTTP request), <case>.creq
 * (canonical request), <case>.sts (string to sign) and <case>.authz (the
 * Authorization header; absent for presigned URLs, whose signature is in the
 * query). Cases named get-* and post-* come from the generic suite (service
 * "service", key AKIDEXAMPLE); cases named s3-* are the S3 API reference's
 * worked examples (key AKIAIOSFODNN7EXAMPLE) and also go through
 * auth_authenticate() end to end. Run from the repository root.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "test_auth_helpers.h"

#define VEC_DIR "tests/vectors/sigv4"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define T_20130524 1369353600 /* 2013-05-24T00:00:00Z */

static void sha256_hex(char out[65], const void *p, size_t n)
{
    uint8_t md[32];
    unsigned int len = 32;

    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    cn_hex(out, md, 32);
}

static time_t amz_time(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    cr_assert(strptime(s, "%Y%m%dT%H%M%SZ", &tm) != NULL, "bad date %s", s);
    return timegm(&tm);
}

/* Copies the text after key up to the next comma (or end) into out. */
static void field(const char *s, const char *key, char *out, size_t cap)
{
    const char *p = strstr(s, key);
    size_t n;

    cr_assert(p != NULL, "no %s in %s", key, s);
    p += strlen(key);
    n = strcspn(p, ",");
    cr_assert_lt(n, cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

/* ---- the vector runner ---- */

typedef struct vcase {
    char ak[64], date[16], region[32], service[32], signed_headers[512], signature[80], amz_date[32];
    int presigned;
} vcase;

static void case_auth(const treq *t, const char *authz, vcase *v)
{
    char cred[256], tmp[256];

    if (authz != NULL) {
        field(authz, "Credential=", cred, sizeof(cred));
        field(authz, "SignedHeaders=", v->signed_headers, sizeof(v->signed_headers));
        field(authz, "Signature=", v->signature, sizeof(v->signature));
        FMT(v->amz_date, "%s", cn_req_header_str(&t->r, "x-amz-date"));
    } else {
        v->presigned = 1;
        cr_assert(cn_query_get(t->r.query, "X-Amz-Credential", cred, sizeof(cred)) > 0);
        cr_assert(cn_query_get(t->r.query, "X-Amz-SignedHeaders", v->signed_headers, sizeof(v->signed_headers)) > 0);
        cr_assert(cn_query_get(t->r.query, "X-Amz-Signature", v->signature, sizeof(v->signature)) > 0);
        cr_assert(cn_query_get(t->r.query, "X-Amz-Date", v->amz_date, sizeof(v->amz_date)) > 0);
    }
    FMT(tmp, "%s", cred);
    for (char *p = tmp; *p != '\0'; p++)
        if (*p == '/')
            *p = ' ';
    cr_assert_eq(sscanf(tmp, "%63s %15s %31s %31s", v->ak, v->date, v->region, v->service), 4);
}

static void expect_file(const char *dir, const char *name, const char *ext, const char *got)
{
    char path[512];
    char *want;

    FMT(path, "%s/%s.%s", dir, name, ext);
    want = slurp(path, NULL);
    if (want == NULL)
        return;
    cr_expect_str_eq(got, want, "%s: %s differs", name, ext);
    free(want);
}

static void run_case(const char *dir, const char *name)
{
    char path[512], ph[65], hash[65], sts[512], sig[65];
    const char *ph_hdr;
    char *authz;
    uint8_t key[32];
    treq t;
    vcase v;
    cn_buf creq;

    memset(&v, 0, sizeof(v));
    FMT(path, "%s/%s.req", dir, name);
    cr_assert_eq(treq_load(&t, path), 0, "cannot read %s", path);
    FMT(path, "%s/%s.authz", dir, name);
    authz = slurp(path, NULL);
    case_auth(&t, authz, &v);

    ph_hdr = cn_req_header_str(&t.r, "x-amz-content-sha256");
    if (ph_hdr != NULL)
        FMT(ph, "%s", ph_hdr);
    else if (v.presigned)
        FMT(ph, "UNSIGNED-PAYLOAD");
    else
        sha256_hex(ph, t.r.body != NULL ? (const void *)t.r.body : "", t.r.body_len);

    cn_buf_init(&creq, 1 << 20);
    cr_assert_eq(auth_v4_canonical_request(&t.r, v.signed_headers, ph, v.presigned, &creq), 0, "%s", name);
    expect_file(dir, name, "creq", creq.data);
    sha256_hex(hash, creq.data, creq.len);
    FMT(sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", v.amz_date, v.date, v.region, v.service, hash);
    expect_file(dir, name, "sts", sts);
    auth_v4_signing_key(key, strcmp(v.ak, "AKIDEXAMPLE") == 0 ? SUITE_SECRET : S3_SECRET, v.date, v.region, v.service);
    auth_v4_sign(sig, key, sts);
    cr_expect_str_eq(sig, v.signature, "%s: signature", name);

    if (strcmp(v.service, "s3") == 0) {
        auth_result ar;
        if (authz != NULL)
            treq_add(&t, "authorization", authz);
        cr_expect_eq(auth_authenticate(&t.r, amz_time(v.amz_date) + 30, lookup, NULL, &ar), 0, "%s", name);
        cr_expect_eq(ar.kind, v.presigned ? AUTH_V4_QUERY : AUTH_V4_HEADER, "%s", name);
        cr_expect_str_eq(ar.principal, "alice");
        cr_expect_str_eq(ar.access_key, "AKIAIOSFODNN7EXAMPLE");
    }
    cn_buf_dispose(&creq);
    free(authz);
    free(t.buf);
}

Test(sigv4, published_vectors)
{
    DIR *d = opendir(VEC_DIR);
    struct dirent *e;
    int n = 0, s3 = 0;

    cr_assert(d != NULL, "run from the repository root: no " VEC_DIR);
    while ((e = readdir(d)) != NULL) {
        char dir[512];
        if (e->d_name[0] == '.')
            continue;
        FMT(dir, "%s/%s", VEC_DIR, e->d_name);
        run_case(dir, e->d_name);
        n++;
        s3 += strncmp(e->d_name, "s3-", 3) == 0;
    }
    closedir(d);
    cr_expect_geq(n, 20, "only %d cases found", n);
    cr_expect_geq(s3, 5);
}

/* ---- failure modes, around the S3 "GET Object" example ---- */

#define GET_OBJECT                                                                                                     \
    "GET /test.txt HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\nRange: bytes=0-9\n"                                 \
    "x-amz-content-sha256: " EMPTY_SHA "\nx-amz-date: 20130524T000000Z\n"                                              \
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"              \
    "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"                                                        \
    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41\n\n"

static int auth_text(const char *text, time_t now, auth_result *ar)
{
    treq t;
    int rc;

    treq_from(&t, text);
    rc = auth_authenticate(&t.r, now, lookup, NULL, ar);
    free(t.buf);
    return rc;
}

/* GET_OBJECT with one substring replaced. */
static int auth_variant(const char *from, const char *to, time_t now)
{
    char text[2048];
    auth_result ar;

    substitute(text, sizeof(text), GET_OBJECT, from, to);
    return auth_text(text, now, &ar);
}

Test(sigv4, header_result)
{
    auth_result ar;

    cr_assert_eq(auth_text(GET_OBJECT, T_20130524, &ar), 0);
    cr_expect_eq(ar.kind, AUTH_V4_HEADER);
    cr_expect_eq(ar.payload, AUTH_PAYLOAD_SIGNED);
    cr_expect_str_eq(ar.payload_sha256, EMPTY_SHA);
    cr_expect_str_eq(ar.scope, "20130524/us-east-1/s3/aws4_request");
    cr_expect_str_eq(ar.amz_date, "20130524T000000Z");
    cr_expect_str_eq(ar.seed_signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    cr_expect_eq(ar.expires, 0);
    cr_expect_eq(auth_payload_length(&ar, 7), 7);
}

Test(sigv4, clock_skew)
{
    cr_expect_eq(auth_variant("Range", "Range", T_20130524 + 15 * 60), 0);
    cr_expect_eq(auth_variant("Range", "Range", T_20130524 - 15 * 60), 0);
    cr_expect_eq(auth_variant("Range", "Range", T_20130524 + 15 * 60 + 1), -CN_ESKEW);
    cr_expect_eq(auth_variant("Range", "Range", T_20130524 - 15 * 60 - 1), -CN_ESKEW);
}

Test(sigv4, tampering)
{
    cr_expect_eq(auth_variant("bytes=0-9", "bytes=0-99", T_20130524), -CN_ESIGNATURE);
    cr_expect_eq(auth_variant("/test.txt", "/test.TXT", T_20130524), -CN_ESIGNATURE);
    cr_expect_eq(auth_variant("GET /test.txt", "GET /test.txt?acl", T_20130524), -CN_ESIGNATURE);
    cr_expect_eq(auth_variant("Host: examplebucket", "Host: otherbucket", T_20130524), -CN_ESIGNATURE);
    cr_expect_eq(auth_variant("Signature=f0e8", "Signature=f0e9", T_20130524), -CN_ESIGNATURE);
    /* a signature in capitals is the same signature */
    cr_expect_eq(auth_variant("Signature=f0e8bdb87c", "Signature=F0E8BDB87C", T_20130524), 0);
}

Test(sigv4, malformed_header)
{
    cr_expect_eq(auth_variant("x-amz-content-sha256: " EMPTY_SHA "\n", "", T_20130524), -CN_EINVALID_REQUEST);
    cr_expect_eq(auth_variant("x-amz-content-sha256: e3b0", "x-amz-content-sha256: zzzz", T_20130524),
                 -CN_EINVALID_ARGUMENT);
    cr_expect_eq(auth_variant("AKIAIOSFODNN7EXAMPLE", "AKIDUNKNOWN", T_20130524), -CN_ENOKEY_ID);
    cr_expect_eq(auth_variant("/s3/aws4_request", "/ec2/aws4_request", T_20130524), -CN_EAUTHHDR);
    cr_expect_eq(auth_variant("/aws4_request", "/aws5_request", T_20130524), -CN_EAUTHHDR);
    cr_expect_eq(auth_variant("/20130524/", "/20130525/", T_20130524), -CN_EAUTHHDR);
    cr_expect_eq(auth_variant("SignedHeaders=host;", "SignedHeaders=", T_20130524), -CN_EAUTHHDR);
    cr_expect_eq(
        auth_variant("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", "", T_20130524),
        -CN_EAUTHHDR);
    cr_expect_eq(auth_variant("Signature=f0e8", "Signature=f0e", T_20130524), -CN_EAUTHHDR);
    cr_expect_eq(auth_variant("x-amz-date: 20130524T000000Z\n", "", T_20130524), -CN_EACCESS);
    cr_expect_eq(auth_variant("AWS4-HMAC-SHA256 ", "AWS4-ECDSA-P256-SHA256 ", T_20130524), -CN_EINVALID_ARGUMENT);
}

Test(sigv4, lenient_spacing)
{
    cr_expect_eq(auth_variant("aws4_request,", "aws4_request ,  ", T_20130524), 0);
    cr_expect_eq(auth_variant("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256   ", T_20130524), 0);
    cr_expect_eq(auth_variant("x-amz-date,", "x-amz-date, ", T_20130524), 0);
}

/* Signs t with the primitives (as a client would) and authenticates it. */
static int sign_and_auth(treq *t, const char *signed_headers, const char *payload, const char *region, auth_result *ar)
{
    cn_buf creq;
    char hash[65], sts[512], sig[65], authz[1024];
    uint8_t key[32];

    cn_buf_init(&creq, 1 << 16);
    cr_assert_eq(auth_v4_canonical_request(&t->r, signed_headers, payload, 0, &creq), 0);
    sha256_hex(hash, creq.data, creq.len);
    FMT(sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/%s/s3/aws4_request\n%s", region, hash);
    auth_v4_signing_key(key, S3_SECRET, "20130524", region, "s3");
    auth_v4_sign(sig, key, sts);
    snprintf(authz, sizeof(authz),
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/%s/s3/aws4_request, "
             "SignedHeaders=%s, Signature=%s",
             region, signed_headers, sig);
    treq_add(t, "authorization", authz);
    cn_buf_dispose(&creq);
    return auth_authenticate(&t->r, T_20130524, lookup, NULL, ar);
}

Test(sigv4, date_header_instead_of_x_amz_date)
{
    treq t;
    auth_result ar;

    /* No x-amz-date: the HTTP Date gives the time, the string to sign still
     * carries it in the ISO basic form. */
    treq_from(&t, "GET /k HTTP/1.1\nHost: gw\nDate: Fri, 24 May 2013 00:00:00 GMT\n"
                  "x-amz-content-sha256: UNSIGNED-PAYLOAD\n\n");
    cr_expect_eq(sign_and_auth(&t, "date;host;x-amz-content-sha256", "UNSIGNED-PAYLOAD", "us-east-1", &ar), 0);
    cr_expect_str_eq(ar.amz_date, "20130524T000000Z");
    free(t.buf);
}

Test(sigv4, any_region)
{
    treq t;
    cn_buf creq;
    auth_result ar;

    treq_from(&t, "PUT /bucket/a%20b/c~d HTTP/1.1\nHost: gw.local:9000\nx-amz-date: 20130524T000000Z\n"
                  "x-amz-content-sha256: UNSIGNED-PAYLOAD\nx-amz-meta-note:  two   spaces \n\n");
    cn_buf_init(&creq, 1 << 16);
    cr_assert_eq(auth_v4_canonical_request(&t.r, "host;x-amz-meta-note", "UNSIGNED-PAYLOAD", 0, &creq), 0);
    cr_expect_str_eq(creq.data, "PUT\n/bucket/a%20b/c~d\n\nhost:gw.local:9000\nx-amz-meta-note:two spaces\n\n"
                                "host;x-amz-meta-note\nUNSIGNED-PAYLOAD");
    cn_buf_dispose(&creq);
    cr_expect_eq(sign_and_auth(&t, "host;x-amz-content-sha256;x-amz-date;x-amz-meta-note", "UNSIGNED-PAYLOAD",
                               "moon-base-1", &ar),
                 0);
    cr_expect_eq(ar.payload, AUTH_PAYLOAD_UNSIGNED);
    cr_expect_str_eq(ar.scope, "20130524/moon-base-1/s3/aws4_request");
    free(t.buf);
}

Test(sigv4, canonical_query)
{
    treq t;
    cn_buf creq;

    /* decoded then re-encoded the AWS way, sorted by name then value, '+' is
     * a space, bare names get "=", X-Amz-Signature dropped only when presigned */
    treq_from(&t, "GET /b HTTP/1.1\nHost: h\n\n");
    t.r.query = "z=1&a=b+c&a=%41&list-type=2&prefix=a%2fb&delimiter=/&acl&&X-Amz-Signature=00&e=%7e%21";
    cn_buf_init(&creq, 1 << 16);
    cr_assert_eq(auth_v4_canonical_request(&t.r, "host", "UNSIGNED-PAYLOAD", 1, &creq), 0);
    cr_expect_str_eq(creq.data, "GET\n/b\na=A&a=b%20c&acl=&delimiter=%2F&e=~%21&list-type=2&prefix=a%2Fb&z=1\n"
                                "host:h\n\nhost\nUNSIGNED-PAYLOAD");
    cn_buf_reset(&creq);
    t.r.query = "bad=%zz";
    cr_expect_eq(auth_v4_canonical_request(&t.r, "host", "UNSIGNED-PAYLOAD", 0, &creq), -CN_EINVALID_ARGUMENT);
    cn_buf_dispose(&creq);
    free(t.buf);
}

/* ---- presigned URLs, around the S3 "GET /test.txt" example ---- */

#define PRESIGN_Q                                                                                                      \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"       \
    "request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="                \
    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

static int presign(const char *query, time_t now, auth_result *ar)
{
    char text[2048];

    FMT(text, "GET /test.txt?%s HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\n\n", query);
    return auth_text(text, now, ar);
}

static int presign_variant(const char *from, const char *to, time_t now)
{
    char q[2048];
    auth_result ar;

    substitute(q, sizeof(q), PRESIGN_Q, from, to);
    return presign(q, now, &ar);
}

Test(sigv4, presigned)
{
    auth_result ar;

    cr_assert_eq(presign(PRESIGN_Q, T_20130524 + 3600, &ar), 0);
    cr_expect_eq(ar.kind, AUTH_V4_QUERY);
    cr_expect_eq(ar.payload, AUTH_PAYLOAD_UNSIGNED);
    cr_expect_eq(ar.expires, T_20130524 + 86400);
    cr_expect_str_eq(ar.principal, "alice");
    /* parameter order does not matter */
    cr_expect_eq(presign("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404&"
                         "X-Amz-SignedHeaders=host&X-Amz-Expires=86400&X-Amz-Date=20130524T000000Z&X-Amz-Credential="
                         "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Algorithm=AWS4-HMAC-"
                         "SHA256",
                         T_20130524, &ar),
                 0);
}

Test(sigv4, presigned_expiry)
{
    cr_expect_eq(presign_variant("&", "&", T_20130524 + 86400), 0);
    cr_expect_eq(presign_variant("&", "&", T_20130524 + 86401), -CN_EEXPIRED);
    /* dated in the future: allowed within the skew, refused beyond it */
    cr_expect_eq(presign_variant("&", "&", T_20130524 - 15 * 60), 0);
    cr_expect_eq(presign_variant("&", "&", T_20130524 - 15 * 60 - 1), -CN_EEXPIRED);
    cr_expect_eq(presign_variant("X-Amz-Expires=86400", "X-Amz-Expires=604801", T_20130524), -CN_EAUTHQUERY);
    cr_expect_eq(presign_variant("X-Amz-Expires=86400", "X-Amz-Expires=-1", T_20130524), -CN_EAUTHQUERY);
    cr_expect_eq(presign_variant("X-Amz-Expires=86400&", "", T_20130524), -CN_EAUTHQUERY);
}

Test(sigv4, presigned_tampering)
{
    cr_expect_eq(presign_variant("Signature=aeee", "Signature=aeef", T_20130524), -CN_ESIGNATURE);
    /* the expiry is signed: extending it breaks the signature */
    cr_expect_eq(presign_variant("X-Amz-Expires=86400", "X-Amz-Expires=86401", T_20130524), -CN_ESIGNATURE);
    cr_expect_eq(presign_variant("&X-Amz-Signature", "&versionId=1&X-Amz-Signature", T_20130524), -CN_ESIGNATURE);
    cr_expect_eq(presign_variant("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1", T_20130524),
                 -CN_EAUTHQUERY);
    cr_expect_eq(presign_variant("%2Fs3%2F", "%2Fsqs%2F", T_20130524), -CN_EAUTHQUERY);
    cr_expect_eq(presign_variant("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=range", T_20130524), -CN_EAUTHQUERY);
    cr_expect_eq(presign_variant("AKIAIOSFODNN7EXAMPLE", "AKIDUNKNOWN", T_20130524), -CN_ENOKEY_ID);
}

Test(sigv4, anonymous_and_mixed)
{
    auth_result ar;

    cr_expect_eq(auth_text("GET /bucket/key?versionId=3 HTTP/1.1\nHost: gw\n\n", T_20130524, &ar), 0);
    cr_expect_eq(ar.kind, AUTH_ANONYMOUS);
    cr_expect_eq(ar.payload, AUTH_PAYLOAD_NONE);
    cr_expect_str_eq(ar.principal, "");
    /* header and query credentials together are refused */
    cr_expect_eq(auth_variant("GET /test.txt", "GET /test.txt?X-Amz-Signature=1", T_20130524), -CN_EINVALID_ARGUMENT);
    cr_expect_eq(auth_variant("GET /test.txt", "GET /test.txt?Signature=1", T_20130524), -CN_EINVALID_ARGUMENT);
}

Test(sigv4, signing_key_long_secret)
{
    /* Secrets longer than the HMAC block are hashed first; the result must be
     * the same as HMAC over the concatenated key. */
    char secret[200];
    uint8_t a[32], b[32], k1[32], k2[32], k3[32];
    char key[210];
    unsigned int len = 32;

    memset(secret, 'x', sizeof(secret) - 1);
    secret[sizeof(secret) - 1] = '\0';
    auth_v4_signing_key(a, secret, "20130524", "us-east-1", "s3");
    FMT(key, "AWS4%s", secret);
    HMAC(EVP_sha256(), key, (int)strlen(key), (const uint8_t *)"20130524", 8, k1, &len);
    HMAC(EVP_sha256(), k1, 32, (const uint8_t *)"us-east-1", 9, k2, &len);
    HMAC(EVP_sha256(), k2, 32, (const uint8_t *)"s3", 2, k3, &len);
    HMAC(EVP_sha256(), k3, 32, (const uint8_t *)"aws4_request", 12, b, &len);
    cr_expect_arr_eq(a, b, 32);
}

Test(sigv4, streaming_needs_decoded_length)
{
    treq t;
    auth_result ar;

    treq_from(&t, "PUT /b/k HTTP/1.1\nHost: gw\nx-amz-date: 20130524T000000Z\n"
                  "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\n\n");
    cr_expect_eq(sign_and_auth(&t, "host;x-amz-content-sha256;x-amz-date", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                               "us-east-1", &ar),
                 -CN_EMISSING_LENGTH);
    free(t.buf);
    treq_from(&t, "PUT /b/k HTTP/1.1\nHost: gw\nx-amz-date: 20130524T000000Z\nx-amz-decoded-content-length: 12\n"
                  "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER\n\n");
    cr_expect_eq(sign_and_auth(&t, "host;x-amz-content-sha256;x-amz-date", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                               "us-east-1", &ar),
                 0);
    cr_expect_eq(ar.payload, AUTH_PAYLOAD_STREAMING_TRAILER);
    cr_expect_eq(ar.decoded_length, 12);
    cr_expect_eq(auth_payload_length(&ar, 999), 12);
    cr_expect_eq(strlen(ar.seed_signature), 64);
    free(t.buf);
}

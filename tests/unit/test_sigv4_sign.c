/*
 * Unit tests of common/sigv4_sign.c, the signer of the requests cairn sends
 * (to S3 providers, and `cairn admin` to the gateway): the "GET Object"
 * example of the AWS SigV4 documentation for S3, then a round trip through
 * auth/sigv4.c, the verifier the gateway runs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../auth/auth.h"
#include "../../common/err.h"
#include "../../common/sigv4_sign.h"
#include "../../common/util.h"

Test(sigv4_sign, aws_example)
{
    cn_sigv4_header h[] = {
        {"x-amz-date", "20130524T000000Z"},
        {"range", "bytes=0-9"},
        {"host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-content-sha256", CN_SHA256_EMPTY},
    };
    cn_sigv4_req r = {.method = "GET",
                      .path = "/test.txt",
                      .query = "",
                      .payload_hash = CN_SHA256_EMPTY,
                      .amz_date = "20130524T000000Z",
                      .headers = h,
                      .n_headers = CN_ARRAY_SIZE(h)};
    char out[CN_SIGV4_AUTH_MAX];

    cr_assert_eq(cn_sigv4_authorization(out, sizeof(out), "AKIAIOSFODNN7EXAMPLE",
                                        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", &r),
                 0);
    cr_assert_str_eq(out, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                          "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                          "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    cr_assert_eq(cn_sigv4_authorization(out, 10, "AKIAIOSFODNN7EXAMPLE", "s", "us-east-1", &r), -CN_ETOOLARGE);
    r.amz_date = "2013-05-24";
    cr_assert_eq(cn_sigv4_authorization(out, sizeof(out), "a", "s", "us-east-1", &r), -CN_EINVALID_ARGUMENT);
}

Test(sigv4_sign, sha256_hex)
{
    char hex[65];

    cn_sha256_hex(hex, "", 0);
    cr_assert_str_eq(hex, CN_SHA256_EMPTY);
}

static int lookup(void *arg, const char *ak, char *secret, size_t cap, char *principal, size_t pcap)
{
    (void)arg;
    if (strcmp(ak, "AKIDADMIN") != 0)
        return -CN_ENOKEY_ID;
    snprintf(secret, cap, "%s", "admin-secret");
    snprintf(principal, pcap, "%s", "root");
    return 0;
}

/* What `cairn admin` sends (a POST with a JSON body, signed payload) is what
 * the gateway's verifier accepts; a changed body is caught by the payload hash. */
Test(sigv4_sign, verified_by_auth)
{
    const char *body = "{\"name\":\"alice\"}";
    char date[32], hash[65], auth[CN_SIGV4_AUTH_MAX];
    time_t now = cn_now();
    cn_sigv4_header sh[3];
    cn_sigv4_req sr;
    cn_header hdrs[4];
    cn_request req = {.method = "POST", .path = "/_cairn/admin/users", .query = "", .host = "127.0.0.1:9000"};
    auth_result ar;

    cn_time_amz(date, now);
    cn_sha256_hex(hash, body, strlen(body));
    sh[0] = (cn_sigv4_header){"host", "127.0.0.1:9000"};
    sh[1] = (cn_sigv4_header){"x-amz-content-sha256", hash};
    sh[2] = (cn_sigv4_header){"x-amz-date", date};
    sr = (cn_sigv4_req){.method = "POST",
                        .path = req.path,
                        .query = "",
                        .payload_hash = hash,
                        .amz_date = date,
                        .headers = sh,
                        .n_headers = 3};
    cr_assert_eq(cn_sigv4_authorization(auth, sizeof(auth), "AKIDADMIN", "admin-secret", "us-east-1", &sr), 0);
    hdrs[0] = (cn_header){"host", "127.0.0.1:9000", 4, 14};
    hdrs[1] = (cn_header){"x-amz-content-sha256", hash, 20, 64};
    hdrs[2] = (cn_header){"x-amz-date", date, 10, strlen(date)};
    hdrs[3] = (cn_header){"authorization", auth, 13, strlen(auth)};
    req.headers = hdrs;
    req.n_headers = 4;
    req.body = (const uint8_t *)body;
    req.body_len = strlen(body);
    cr_assert_eq(auth_authenticate(&req, now, lookup, NULL, &ar), 0);
    cr_assert_str_eq(ar.principal, "root");
    cr_assert_eq(ar.payload, AUTH_PAYLOAD_SIGNED);
    cr_assert_str_eq(ar.payload_sha256, hash);
    /* another secret: the signature no longer matches */
    cr_assert_eq(cn_sigv4_authorization(auth, sizeof(auth), "AKIDADMIN", "other", "us-east-1", &sr), 0);
    hdrs[3].value_len = strlen(auth);
    cr_assert_eq(auth_authenticate(&req, now, lookup, NULL, &ar), -CN_ESIGNATURE);
}

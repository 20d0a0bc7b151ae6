/*
 * test_s3_put_object: s3api/put_object.c (with body.c, checksum.c and
 * get_object.c) through s3_handle() against a real store: checksums sent as
 * aws-chunked trailers are stored and returned as S3 returns them,
 * conditional writes are left to the object layer's commit, and a body stops
 * being read once the client has gone.
 */
#include "test_s3_helpers.h"

static s3t t;

static void setup(void)
{
    s3t_open(&t);
}

static void teardown(void)
{
    s3t_close(&t);
}

TestSuite(s3_put, .init = setup, .fini = teardown);

static const char check[] = "123456789"; /* CRC32 cbf43926 = "y/Q5Jg==" */

static const char *const trailer_hdrs[] = {"x-amz-content-sha256",
                                           "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                           "content-encoding",
                                           "aws-chunked",
                                           "x-amz-trailer",
                                           "x-amz-checksum-crc32",
                                           "x-amz-decoded-content-length",
                                           "9",
                                           NULL};

/* PUT /bkt/<key> with check as an aws-chunked body and trailer line tr. */
static void put_trailer(const char *path, const char *tr, cn_response *res)
{
    size_t len = 0;
    char *body = s3t_chunked(check, 9, tr, &len);

    s3t_do(&t, "PUT", path, "", trailer_hdrs, body, len, AUTH_PAYLOAD_UNSIGNED_TRAILER, 9, res);
    free(body);
}

static void get(const char *method, const char *path, int mode, cn_response *res)
{
    static const char *const with_mode[] = {"x-amz-checksum-mode", "ENABLED", NULL};

    s3t_do(&t, method, path, "", mode ? with_mode : NULL, NULL, 0, AUTH_PAYLOAD_UNSIGNED, 0, res);
}

Test(s3_put, trailer_checksum_is_stored_and_returned)
{
    cn_response res;
    uint8_t *data = NULL;
    size_t len = 0;

    put_trailer("/bkt/k", "x-amz-checksum-crc32:y/Q5Jg==", &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cr_assert_str_eq(s3t_header(&res, "etag"), "\"25f9e794323b453885f5181f1b624d0b\"");
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-crc32"), "y/Q5Jg==");
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-type"), "FULL_OBJECT");
    cn_res_dispose(&res);

    get("GET", "/bkt/k", 1, &res);
    cr_assert_eq(res.status, 200);
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-crc32"), "y/Q5Jg==");
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-type"), "FULL_OBJECT");
    data = s3t_drain(&res, &len);
    cr_assert_eq(len, 9);
    cr_assert_eq(memcmp(data, check, 9), 0);
    free(data);
    cn_res_dispose(&res);

    get("HEAD", "/bkt/k", 1, &res);
    cr_assert_eq(res.status, 200);
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-crc32"), "y/Q5Jg==");
    cn_res_dispose(&res);

    /* only when asked for */
    get("HEAD", "/bkt/k", 0, &res);
    cr_assert_eq(res.status, 200);
    cr_assert_null(s3t_header(&res, "x-amz-checksum-crc32"));
    cr_assert_null(s3t_header(&res, "x-amz-checksum-type"));
    cn_res_dispose(&res);
}

Test(s3_put, header_checksum_is_stored_too)
{
    static const char *const hdrs[] = {"x-amz-checksum-crc32c", "4waSgw==", NULL};
    cn_response res;

    s3t_do(&t, "PUT", "/bkt/h", "", hdrs, check, 9, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-crc32c"), "4waSgw==");
    cn_res_dispose(&res);
    get("HEAD", "/bkt/h", 1, &res);
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-crc32c"), "4waSgw==");
    cn_res_dispose(&res);
}

Test(s3_put, trailer_mismatch_stores_nothing)
{
    cn_response res;

    put_trailer("/bkt/k", "x-amz-checksum-crc32:AAAAAA==", &res);
    cr_assert_eq(res.status, 400);
    cr_assert(strstr(s3t_body(&res), "<Code>BadDigest</Code>") != NULL, "%s", s3t_body(&res));
    cn_res_dispose(&res);
    /* announced, never sent */
    put_trailer("/bkt/k", NULL, &res);
    cr_assert_eq(res.status, 400);
    cn_res_dispose(&res);
    get("HEAD", "/bkt/k", 1, &res);
    cr_assert_eq(res.status, 404);
    cn_res_dispose(&res);
}

Test(s3_put, no_checksum_no_checksum_headers)
{
    cn_response res;

    s3t_do(&t, "PUT", "/bkt/p", "", NULL, check, 9, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cr_assert_eq(res.status, 200);
    cr_assert_null(s3t_header(&res, "x-amz-checksum-type"));
    cn_res_dispose(&res);
    get("HEAD", "/bkt/p", 1, &res);
    cr_assert_null(s3t_header(&res, "x-amz-checksum-type"));
    cn_res_dispose(&res);
}

/* ---- conditional writes ---- */

static void put_cond(const char *name, const char *value, const char *data, cn_response *res)
{
    const char *const hdrs[] = {name, value, NULL};

    s3t_do(&t, "PUT", "/bkt/c", "", hdrs, data, strlen(data), AUTH_PAYLOAD_UNSIGNED, 0, res);
}

Test(s3_put, if_match)
{
    char etag[64];
    cn_response res;
    uint8_t *data = NULL;
    size_t len = 0;

    put_cond("if-match", "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"", "x", &res);
    cr_assert_eq(res.status, 404, "If-Match on a missing key");
    cr_assert(strstr(s3t_body(&res), "<Code>NoSuchKey</Code>") != NULL);
    cn_res_dispose(&res);

    put_cond("x-amz-meta-a", "b", "one", &res);
    cr_assert_eq(res.status, 200);
    snprintf(etag, sizeof(etag), "%s", s3t_header(&res, "etag"));
    cn_res_dispose(&res);

    put_cond("if-match", "\"00000000000000000000000000000000\"", "two", &res);
    cr_assert_eq(res.status, 412);
    cr_assert(strstr(s3t_body(&res), "<Code>PreconditionFailed</Code>") != NULL);
    cn_res_dispose(&res);

    put_cond("if-match", etag, "two", &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cn_res_dispose(&res);
    get("GET", "/bkt/c", 0, &res);
    data = s3t_drain(&res, &len);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(data, "two", 3), 0);
    free(data);
    cn_res_dispose(&res);

    /* the ETag just replaced no longer matches */
    put_cond("if-match", etag, "three", &res);
    cr_assert_eq(res.status, 412);
    cn_res_dispose(&res);
}

Test(s3_put, if_none_match)
{
    cn_response res;

    put_cond("if-none-match", "*", "one", &res);
    cr_assert_eq(res.status, 200);
    cn_res_dispose(&res);
    put_cond("if-none-match", "*", "two", &res);
    cr_assert_eq(res.status, 412);
    cn_res_dispose(&res);
    put_cond("if-none-match", "\"abc\"", "two", &res);
    cr_assert_eq(res.status, 501);
    cn_res_dispose(&res);
}

/* ---- a departed client ---- */

Test(s3_put, aborted_client_stops_the_body)
{
    uint8_t *data = pattern(1 << 20, 5);
    cn_response res;

    t.aborted = 1;
    s3t_do(&t, "PUT", "/bkt/gone", "", NULL, data, 1 << 20, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cr_assert_eq(res.status, 500);
    cn_res_dispose(&res);
    t.aborted = 0;
    get("HEAD", "/bkt/gone", 0, &res);
    cr_assert_eq(res.status, 404);
    cn_res_dispose(&res);
    free(data);
}

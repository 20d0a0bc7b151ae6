/*
 * test_s3_multipart: s3api/multipart.c, upload_part.c and list_parts.c
 * through s3_handle() against a real store: the checksum algorithm of an
 * upload, per-part checksums (trailer or header) returned by UploadPart and
 * ListParts, the COMPOSITE checksum of checksums "-N" at completion and on
 * GET/HEAD, and conditional completion.
 */
#include <openssl/evp.h>
#include <zlib.h>

#include "test_s3_helpers.h"

#define MIB (1u << 20)

static s3t t;

static void setup(void)
{
    s3t_open(&t);
}

static void teardown(void)
{
    s3t_close(&t);
}

TestSuite(s3_mpu, .init = setup, .fini = teardown);

/* Text of the first <name> element of an XML body, into out. */
static const char *elem(const cn_response *res, const char *name, char *out, size_t cap)
{
    char open[64], close[64];
    const char *b = s3t_body(res), *p, *e;

    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    p = strstr(b, open);
    if (p == NULL)
        return NULL;
    p += strlen(open);
    e = strstr(p, close);
    cr_assert_not_null(e);
    snprintf(out, cap, "%.*s", (int)(e - p), p);
    return out;
}

static void create(const char *key, const char *algo, char uid[64])
{
    const char *const hdrs[] = {"x-amz-checksum-algorithm", algo, NULL};
    char path[64], buf[64];
    cn_response res;

    snprintf(path, sizeof(path), "/bkt/%s", key);
    s3t_do(&t, "POST", path, "uploads", algo != NULL ? hdrs : NULL, NULL, 0, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cr_assert_not_null(elem(&res, "UploadId", buf, sizeof(buf)));
    snprintf(uid, 64, "%s", buf);
    cn_res_dispose(&res);
}

static uint32_t crc32_of(const void *p, size_t n)
{
    return (uint32_t)crc32(0, p, (uInt)n);
}

static void crc32_b64(uint32_t c, char out[16])
{
    uint8_t be[4] = {(uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c};

    cn_base64(out, be, 4);
}

/* UploadPart with data as an aws-chunked body; trailer "x-amz-checksum-crc32:<b64>" unless ck is NULL. */
static void upload_part(const char *key, const char *uid, int n, const uint8_t *data, size_t len, const char *ck,
                        cn_response *res)
{
    char path[64], query[128], trailer[64], dlen[24];
    const char *const with_ck[] = {"x-amz-content-sha256",
                                   "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                   "x-amz-trailer",
                                   "x-amz-checksum-crc32",
                                   "x-amz-decoded-content-length",
                                   dlen,
                                   NULL};
    const char *const without[] = {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                   "x-amz-decoded-content-length", dlen, NULL};
    size_t blen = 0;
    char *body = NULL;

    snprintf(path, sizeof(path), "/bkt/%s", key);
    snprintf(query, sizeof(query), "partNumber=%d&uploadId=%s", n, uid);
    snprintf(trailer, sizeof(trailer), "x-amz-checksum-crc32:%s", ck != NULL ? ck : "");
    snprintf(dlen, sizeof(dlen), "%zu", len);
    body = s3t_chunked(data, len, ck != NULL ? trailer : NULL, &blen);
    s3t_do(&t, "PUT", path, query, ck != NULL ? with_ck : without, body, blen, AUTH_PAYLOAD_UNSIGNED_TRAILER, len, res);
    free(body);
}

static void complete(const char *key, const char *uid, const char *xml, const char *const *hdrs, cn_response *res)
{
    char path[64], query[96];

    snprintf(path, sizeof(path), "/bkt/%s", key);
    snprintf(query, sizeof(query), "uploadId=%s", uid);
    s3t_do(&t, "POST", path, query, hdrs, xml, strlen(xml), AUTH_PAYLOAD_UNSIGNED, 0, res);
}

Test(s3_mpu, create_with_checksum_algorithm)
{
    static const char *const bad_algo[] = {"x-amz-checksum-algorithm", "MD5", NULL};
    static const char *const type_alone[] = {"x-amz-checksum-type", "COMPOSITE", NULL};
    static const char *const sha_full[] = {"x-amz-checksum-algorithm", "SHA256", "x-amz-checksum-type", "FULL_OBJECT",
                                           NULL};
    static const char *const crc[] = {"x-amz-checksum-algorithm", "CRC32", NULL};
    cn_response res;

    s3t_do(&t, "POST", "/bkt/k", "uploads", crc, NULL, 0, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cr_assert_eq(res.status, 200);
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-algorithm"), "CRC32");
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-type"), "COMPOSITE");
    cn_res_dispose(&res);
    s3t_do(&t, "POST", "/bkt/k", "uploads", bad_algo, NULL, 0, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cr_assert_eq(res.status, 400);
    cn_res_dispose(&res);
    s3t_do(&t, "POST", "/bkt/k", "uploads", type_alone, NULL, 0, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cr_assert_eq(res.status, 400);
    cn_res_dispose(&res);
    s3t_do(&t, "POST", "/bkt/k", "uploads", sha_full, NULL, 0, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cr_assert_eq(res.status, 400);
    cn_res_dispose(&res);
}

Test(s3_mpu, composite_checksum_end_to_end)
{
    uint8_t *p1 = pattern(5 * MIB, 1), *p2 = pattern(1000, 2), *back = NULL;
    char uid[64], c1[16], c2[16], want[32], got[128], xml[1024];
    uint8_t both[8];
    uint32_t k1 = crc32_of(p1, 5 * MIB), k2 = crc32_of(p2, 1000), kk;
    cn_response res;
    size_t len = 0;

    crc32_b64(k1, c1);
    crc32_b64(k2, c2);
    create("obj", "CRC32", uid);
    upload_part("obj", uid, 1, p1, 5 * MIB, c1, &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-crc32"), c1);
    cn_res_dispose(&res);
    upload_part("obj", uid, 2, p2, 1000, c2, &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cn_res_dispose(&res);

    /* ListParts shows each part's checksum and the upload's algorithm */
    {
        char query[96];
        snprintf(query, sizeof(query), "uploadId=%s", uid);
        s3t_do(&t, "GET", "/bkt/obj", query, NULL, NULL, 0, AUTH_PAYLOAD_UNSIGNED, 0, &res);
        cr_assert_eq(res.status, 200);
        cr_assert_str_eq(elem(&res, "ChecksumAlgorithm", got, sizeof(got)), "CRC32");
        cr_assert_str_eq(elem(&res, "ChecksumType", got, sizeof(got)), "COMPOSITE");
        cr_assert_str_eq(elem(&res, "ChecksumCRC32", got, sizeof(got)), c1);
        cr_assert(strstr(s3t_body(&res), c2) != NULL);
        cn_res_dispose(&res);
    }

    /* the checksum of checksums, computed here independently */
    for (int i = 0; i < 4; i++) {
        both[i] = (uint8_t)(k1 >> (24 - 8 * i));
        both[4 + i] = (uint8_t)(k2 >> (24 - 8 * i));
    }
    kk = crc32_of(both, 8);
    crc32_b64(kk, want);
    strcat(want, "-2");

    /* a wrong part checksum is InvalidPart, and changes nothing */
    {
        char etag1[64], etag2[64];
        /* the parts' ETags are their MD5s */
        unsigned mdlen = 0;
        uint8_t md[16];
        char hex[33];
        EVP_Digest(p1, 5 * MIB, md, &mdlen, EVP_md5(), NULL);
        for (int i = 0; i < 16; i++)
            sprintf(hex + 2 * i, "%02x", md[i]);
        snprintf(etag1, sizeof(etag1), "\"%s\"", hex);
        EVP_Digest(p2, 1000, md, &mdlen, EVP_md5(), NULL);
        for (int i = 0; i < 16; i++)
            sprintf(hex + 2 * i, "%02x", md[i]);
        snprintf(etag2, sizeof(etag2), "\"%s\"", hex);

        snprintf(xml, sizeof(xml),
                 "<CompleteMultipartUpload>"
                 "<Part><PartNumber>1</PartNumber><ETag>%s</ETag><ChecksumCRC32>%s</ChecksumCRC32></Part>"
                 "<Part><PartNumber>2</PartNumber><ETag>%s</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>"
                 "</CompleteMultipartUpload>",
                 etag1, c1, etag2);
        complete("obj", uid, xml, NULL, &res);
        cr_assert_eq(res.status, 400);
        cr_assert(strstr(s3t_body(&res), "<Code>InvalidPart</Code>") != NULL, "%s", s3t_body(&res));
        cn_res_dispose(&res);

        snprintf(xml, sizeof(xml),
                 "<CompleteMultipartUpload>"
                 "<Part><PartNumber>1</PartNumber><ETag>%s</ETag><ChecksumCRC32>%s</ChecksumCRC32></Part>"
                 "<Part><PartNumber>2</PartNumber><ETag>%s</ETag><ChecksumCRC32>%s</ChecksumCRC32></Part>"
                 "</CompleteMultipartUpload>",
                 etag1, c1, etag2, c2);
    }
    complete("obj", uid, xml, NULL, &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cr_assert_str_eq(elem(&res, "ChecksumCRC32", got, sizeof(got)), want);
    cr_assert_str_eq(elem(&res, "ChecksumType", got, sizeof(got)), "COMPOSITE");
    cn_res_dispose(&res);

    {
        static const char *const mode[] = {"x-amz-checksum-mode", "ENABLED", NULL};
        s3t_do(&t, "GET", "/bkt/obj", "", mode, NULL, 0, AUTH_PAYLOAD_UNSIGNED, 0, &res);
        cr_assert_eq(res.status, 200);
        cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-crc32"), want);
        cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-type"), "COMPOSITE");
        back = s3t_drain(&res, &len);
        cr_assert_eq(len, 5 * MIB + 1000);
        cr_assert_eq(memcmp(back, p1, 5 * MIB), 0);
        cr_assert_eq(memcmp(back + 5 * MIB, p2, 1000), 0);
        free(back);
        cn_res_dispose(&res);
    }
    free(p1);
    free(p2);
}

Test(s3_mpu, part_checksum_must_match_upload)
{
    uint8_t data[3] = {'a', 'b', 'c'};
    char uid[64], c[16], plain[64];
    cn_response res;

    crc32_b64(crc32_of(data, 3), c);
    create("k", "CRC32", uid);
    /* a COMPOSITE upload needs a checksum on every part */
    upload_part("k", uid, 1, data, 3, NULL, &res);
    cr_assert_eq(res.status, 400);
    cr_assert(strstr(s3t_body(&res), "expected checksum Type: crc32, actual checksum Type: null") != NULL, "%s",
              s3t_body(&res));
    cn_res_dispose(&res);
    upload_part("k", uid, 1, data, 3, c, &res);
    cr_assert_eq(res.status, 200);
    cn_res_dispose(&res);

    /* an upload without an algorithm keeps whatever checksum a part has */
    create("p", NULL, plain);
    upload_part("p", plain, 1, data, 3, c, &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cr_assert_str_eq(s3t_header(&res, "x-amz-checksum-crc32"), c);
    cn_res_dispose(&res);
    upload_part("p", plain, 2, data, 3, NULL, &res);
    cr_assert_eq(res.status, 200);
    cr_assert_null(s3t_header(&res, "x-amz-checksum-crc32"));
    cn_res_dispose(&res);
}

Test(s3_mpu, complete_if_none_match)
{
    uint8_t data[4] = {'b', 'o', 'd', 'y'};
    static const char *const star[] = {"if-none-match", "*", NULL};
    char uid[64], xml[512];
    cn_response res;

    create("k", NULL, uid);
    upload_part("k", uid, 1, data, 4, NULL, &res);
    cr_assert_eq(res.status, 200);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
             "</CompleteMultipartUpload>",
             s3t_header(&res, "etag"));
    cn_res_dispose(&res);
    s3t_do(&t, "PUT", "/bkt/k", "", NULL, "x", 1, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cr_assert_eq(res.status, 200);
    cn_res_dispose(&res);

    complete("k", uid, xml, star, &res);
    cr_assert_eq(res.status, 412, "%s", s3t_body(&res));
    cn_res_dispose(&res);
    s3t_do(&t, "DELETE", "/bkt/k", "", NULL, NULL, 0, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    cn_res_dispose(&res);
    complete("k", uid, xml, star, &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cn_res_dispose(&res);
}

Test(s3_mpu, complete_checksum_headers_are_not_the_bodys)
{
    /* x-amz-checksum-* on CompleteMultipartUpload describe the object, not
     * the XML: they must not fail the request as a body mismatch. */
    uint8_t data[4] = {'b', 'o', 'd', 'y'};
    static const char *const full[] = {"x-amz-checksum-crc32", "AAAAAA==", NULL};
    char uid[64], xml[512];
    cn_response res;

    create("k", NULL, uid);
    upload_part("k", uid, 1, data, 4, NULL, &res);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
             "</CompleteMultipartUpload>",
             s3t_header(&res, "etag"));
    cn_res_dispose(&res);
    complete("k", uid, xml, full, &res);
    cr_assert_eq(res.status, 200, "%s", s3t_body(&res));
    cr_assert_null(elem(&res, "ChecksumCRC32", xml, sizeof(xml)));
    cn_res_dispose(&res);
}

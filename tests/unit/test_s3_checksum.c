/*
 * test_s3_checksum: s3api/checksum.c against the published check values
 * (CRC catalogue: the CRC of "123456789") and the NIST SHA vectors, and the
 * verifying stream: a mismatch must fail the final read, never return 0.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../s3api/s3int.h"

static const char check[] = "123456789";

static void digest_b64(s3_ck_algo a, const char *data, size_t n, char *out)
{
    s3_ck c;
    uint8_t d[64];
    size_t i;

    cr_assert_eq(s3__ck_init(&c, a), 0);
    /* byte at a time, to exercise the incremental paths */
    for (i = 0; i < n; i++)
        s3__ck_update(&c, data + i, 1);
    s3__ck_final(&c, d);
    cn_base64(out, d, s3__ck_size(a));
}

Test(checksum, crc_check_values)
{
    cr_expect_eq(s3__crc32c(0, check, 9), 0xE3069283u);
    cr_expect_eq(s3__crc64nvme(0, check, 9), 0xAE8B14860A799888ull);
    /* incremental equals one-shot, across the slice-by-8 boundary */
    cr_expect_eq(s3__crc64nvme(s3__crc64nvme(0, check, 3), check + 3, 6), 0xAE8B14860A799888ull);
    cr_expect_eq(s3__crc32c(s3__crc32c(0, check, 4), check + 4, 5), 0xE3069283u);
    cr_expect_eq(s3__crc32c(0, "", 0), 0u);
    cr_expect_eq(s3__crc64nvme(0, "", 0), 0u);
}

Test(checksum, base64_big_endian_as_s3_sends_it)
{
    char b64[128];

    digest_b64(S3_CK_CRC32, check, 9, b64);
    cr_expect_str_eq(b64, "y/Q5Jg=="); /* cbf43926 */
    digest_b64(S3_CK_CRC32C, check, 9, b64);
    cr_expect_str_eq(b64, "4waSgw=="); /* e3069283 */
    digest_b64(S3_CK_CRC64NVME, check, 9, b64);
    cr_expect_str_eq(b64, "rosUhgp5mIg="); /* ae8b14860a799888 */
    digest_b64(S3_CK_SHA1, "abc", 3, b64);
    cr_expect_str_eq(b64, "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    digest_b64(S3_CK_SHA256, "abc", 3, b64);
    cr_expect_str_eq(b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

Test(checksum, long_buffer_matches_bytewise)
{
    char *buf = malloc(100003);
    size_t i;
    uint64_t a, b = 0;

    for (i = 0; i < 100003; i++)
        buf[i] = (char)(i * 7 + 3);
    a = s3__crc64nvme(0, buf, 100003);
    for (i = 0; i < 100003; i++)
        b = s3__crc64nvme(b, buf + i, 1);
    cr_expect_eq(a, b);
    free(buf);
}

Test(checksum, names)
{
    cr_expect_eq(s3__ck_from_name("crc32"), S3_CK_CRC32);
    cr_expect_eq(s3__ck_from_name("CRC32C"), S3_CK_CRC32C);
    cr_expect_eq(s3__ck_from_name("crc64nvme"), S3_CK_CRC64NVME);
    cr_expect_eq(s3__ck_from_name("sha256"), S3_CK_SHA256);
    cr_expect_eq(s3__ck_from_name("md5"), S3_CK_NONE);
    cr_expect_str_eq(s3__ck_upper(S3_CK_SHA1), "SHA1");
}

Test(checksum, decode_checks_length)
{
    uint8_t out[64];

    cr_expect_eq(s3__ck_decode(S3_CK_CRC32, "y/Q5Jg==", out), 0);
    cr_expect_eq(s3__ck_decode(S3_CK_CRC64NVME, "y/Q5Jg==", out), -1);
    cr_expect_eq(s3__ck_decode(S3_CK_CRC32, "!!!!", out), -1);
}

/* ---- the verifying stream over a fake payload stream ---- */

typedef struct mem_stream {
    cn_stream base;
    const char *data;
    size_t len, pos;
    const char *trailer_value;
    int closed;
} mem_stream;

static int closes;

static long mem_read(cn_stream *s, void *buf, size_t n)
{
    mem_stream *m = (mem_stream *)s;
    size_t k = m->len - m->pos;

    if (k > n)
        k = n;
    if (k > 3)
        k = 3; /* small reads, as a chunked decoder would give */
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (long)k;
}

static void mem_close(cn_stream *s)
{
    (void)s;
    closes++;
}

static const char *mem_trailer(cn_stream *s, const char *name)
{
    mem_stream *m = (mem_stream *)s;

    cr_expect_str_eq(name, "x-amz-checksum-crc32c");
    return m->pos == m->len ? m->trailer_value : NULL;
}

static long drain(cn_stream *s)
{
    char buf[16];
    long r, total = 0;

    while ((r = s->read(s, buf, sizeof(buf))) > 0)
        total += r;
    return r < 0 ? r : total;
}

Test(checksum, stream_header_value)
{
    mem_stream m = {{mem_read, mem_close}, check, 9, 0, NULL, 0};
    s3_body b;
    cn_stream *s;

    memset(&b, 0, sizeof(b));
    b.algo = S3_CK_CRC32;
    strcpy(b.value, "y/Q5Jg==");
    s = s3__ck_stream(&m.base, &b, NULL, NULL);
    cr_assert_not_null(s);
    cr_expect_eq(drain(s), 9);
    cr_expect_eq(b.mismatch, 0);
    closes = 0;
    s->close(s);
    cr_expect_eq(closes, 1);
}

Test(checksum, stream_mismatch_fails_final_read)
{
    mem_stream m = {{mem_read, mem_close}, check, 9, 0, NULL, 0};
    s3_body b;
    cn_stream *s;
    char buf[4];

    memset(&b, 0, sizeof(b));
    b.algo = S3_CK_CRC32;
    strcpy(b.value, "AAAAAA==");
    s = s3__ck_stream(&m.base, &b, NULL, NULL);
    cr_expect_eq(drain(s), -CN_EBAD_DIGEST);
    cr_expect_eq(b.mismatch, 1);
    /* and it stays failed */
    cr_expect_eq(s->read(s, buf, sizeof(buf)), -CN_EBAD_DIGEST);
    s->close(s);
}

Test(checksum, stream_trailer)
{
    mem_stream m = {{mem_read, mem_close}, check, 9, 0, "4waSgw==", 0};
    mem_stream bad = {{mem_read, mem_close}, check, 9, 0, "4waSgA==", 0};
    mem_stream none = {{mem_read, mem_close}, check, 9, 0, NULL, 0};
    s3_body b;
    cn_stream *s;

    memset(&b, 0, sizeof(b));
    b.algo = S3_CK_CRC32C;
    s = s3__ck_stream(&m.base, &b, "x-amz-checksum-crc32c", mem_trailer);
    cr_expect_eq(drain(s), 9);
    cr_expect_str_eq(b.value, "4waSgw==");
    s->close(s);

    memset(&b, 0, sizeof(b));
    b.algo = S3_CK_CRC32C;
    s = s3__ck_stream(&bad.base, &b, "x-amz-checksum-crc32c", mem_trailer);
    cr_expect_eq(drain(s), -CN_EBAD_DIGEST);
    s->close(s);

    memset(&b, 0, sizeof(b));
    b.algo = S3_CK_CRC32C;
    s = s3__ck_stream(&none.base, &b, "x-amz-checksum-crc32c", mem_trailer);
    cr_expect_eq(drain(s), -CN_EINCOMPLETE_BODY);
    s->close(s);
}

Test(checksum, stream_without_checksum_passes_through)
{
    mem_stream m = {{mem_read, mem_close}, check, 9, 0, NULL, 0};
    s3_body b;
    cn_stream *s;

    memset(&b, 0, sizeof(b));
    s = s3__ck_stream(&m.base, &b, NULL, NULL);
    cr_assert_not_null(s);
    cr_expect_eq(drain(s), 9);
    cr_expect_str_eq(b.ck.algo, "");
    s->close(s);
}

Test(checksum, stream_publishes_checksum_only_at_end)
{
    mem_stream m = {{mem_read, mem_close}, check, 9, 0, "4waSgw==", 0};
    s3_body b;
    cn_stream *s;
    char buf[4];

    memset(&b, 0, sizeof(b));
    b.algo = S3_CK_CRC32C;
    s = s3__ck_stream(&m.base, &b, "x-amz-checksum-crc32c", mem_trailer);
    cr_expect_eq(s->read(s, buf, sizeof(buf)), 3);
    cr_expect_str_eq(b.ck.value, "", "published before the end");
    cr_expect_eq(drain(s), 6);
    cr_expect_str_eq(b.ck.algo, "crc32c");
    cr_expect_str_eq(b.ck.value, "4waSgw==");
    s->close(s);
}

Test(checksum, stream_stops_when_client_aborts)
{
    mem_stream m = {{mem_read, mem_close}, check, 9, 0, NULL, 0};
    volatile int aborted = 0;
    s3_body b;
    cn_stream *s;
    char buf[4];

    memset(&b, 0, sizeof(b));
    b.aborted = &aborted;
    s = s3__ck_stream(&m.base, &b, NULL, NULL);
    cr_expect_eq(s->read(s, buf, sizeof(buf)), 3);
    aborted = 1;
    cr_expect_eq(s->read(s, buf, sizeof(buf)), -CN_EIO);
    cr_expect_eq(m.pos, 3, "read on after the abort");
    aborted = 0; /* and it stays failed */
    cr_expect_eq(s->read(s, buf, sizeof(buf)), -CN_EIO);
    s->close(s);
}

Test(checksum, composite_of_parts)
{
    obj_part_ref p[2];
    char out[80];

    memset(p, 0, sizeof(p));
    /* CRC32 of "123456789" (cbf43926) and of "" (00000000) */
    strcpy(p[0].checksum.algo, "crc32");
    strcpy(p[0].checksum.value, "y/Q5Jg==");
    strcpy(p[1].checksum.algo, "crc32");
    strcpy(p[1].checksum.value, "AAAAAA==");
    cr_assert_eq(s3__ck_composite(S3_CK_CRC32, p, 2, out), 0);
    {
        /* CRC32 over the 8 bytes cb f4 39 26 00 00 00 00, by hand */
        static const uint8_t both[8] = {0xcb, 0xf4, 0x39, 0x26, 0, 0, 0, 0};
        s3_ck c;
        uint8_t d[4];
        char want[32];
        cr_assert_eq(s3__ck_init(&c, S3_CK_CRC32), 0);
        s3__ck_update(&c, both, 8);
        s3__ck_final(&c, d);
        cn_base64(want, d, 4);
        strcat(want, "-2");
        cr_expect_str_eq(out, want);
    }
    cr_assert_eq(s3__ck_composite(S3_CK_CRC32, p, 1, out), 0);
    cr_expect(strcmp(out + strlen(out) - 2, "-1") == 0, "%s", out);

    strcpy(p[1].checksum.algo, "crc32c");
    cr_expect_eq(s3__ck_composite(S3_CK_CRC32, p, 2, out), -CN_EINVALID_PART);
    strcpy(p[1].checksum.algo, "crc32");
    strcpy(p[1].checksum.value, "not base64");
    cr_expect_eq(s3__ck_composite(S3_CK_CRC32, p, 2, out), -CN_EINVALID_PART);
    memset(&p[0].checksum, 0, sizeof(p[0].checksum));
    cr_expect_eq(s3__ck_composite(S3_CK_CRC32, p, 2, out), -CN_EINVALID_PART);
}

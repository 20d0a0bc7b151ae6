/*
 * checksum: the additional checksums of S3 (x-amz-checksum-crc32, -crc32c,
 * -crc64nvme, -sha1, -sha256) and a stream that verifies one of them while the
 * object layer reads the body.
 *
 * - CRC32 is zlib's crc32(); CRC32C is ISA-L's crc32_iscsi(), which takes and
 *   returns the raw register (no final inversion), so we invert around it to
 *   get the zlib-style "pass the previous result" convention. ISA-L 2.30 (the
 *   Debian 12 one) has no CRC-64/NVME, so that one is a slice-by-8 table here.
 *   Check values over "123456789": CRC32 cbf43926, CRC32C e3069283,
 *   CRC64NVME ae8b14860a799888 (tests/unit/test_s3_checksum.c).
 * - S3 sends the digests base64-encoded, CRCs as big-endian bytes.
 * - The verifying stream never returns its final 0 unless the digest matched:
 *   a mismatch fails that read with -CN_EBAD_DIGEST, so the object layer sees
 *   a failed body and commits nothing. For a trailer the expected value is
 *   only known after the auth stream's EOF, so it is fetched then, and the
 *   verified value is published in s3_body.ck just before that final 0: the
 *   object layer reads attributes and part checksums only after it.
 * - Every body goes through that stream, with or without a checksum, because
 *   it is also where a departed client is noticed: one load of the gateway's
 *   aborted flag per read, after which every read fails with -CN_EIO.
 * - A multipart object's checksum is S3's COMPOSITE "checksum of checksums"
 *   (s3__ck_composite); FULL_OBJECT (CRC combination over part lengths) is
 *   not computed.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <isa-l/crc.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "../common/util.h"
#include "s3int.h"

static const struct {
    const char *name, *upper;
    size_t size;
} algos[] = {
    [S3_CK_NONE] = {"", "", 0},
    [S3_CK_CRC32] = {"crc32", "CRC32", 4},
    [S3_CK_CRC32C] = {"crc32c", "CRC32C", 4},
    [S3_CK_CRC64NVME] = {"crc64nvme", "CRC64NVME", 8},
    [S3_CK_SHA1] = {"sha1", "SHA1", 20},
    [S3_CK_SHA256] = {"sha256", "SHA256", 32},
};

const char *s3__ck_name(s3_ck_algo a)
{
    return algos[a].name;
}

const char *s3__ck_upper(s3_ck_algo a)
{
    return algos[a].upper;
}

const char *s3__ck_elem(s3_ck_algo a)
{
    static const char *const elems[] = {
        [S3_CK_NONE] = "",
        [S3_CK_CRC32] = "ChecksumCRC32",
        [S3_CK_CRC32C] = "ChecksumCRC32C",
        [S3_CK_CRC64NVME] = "ChecksumCRC64NVME",
        [S3_CK_SHA1] = "ChecksumSHA1",
        [S3_CK_SHA256] = "ChecksumSHA256",
    };

    return elems[a];
}

size_t s3__ck_size(s3_ck_algo a)
{
    return algos[a].size;
}

s3_ck_algo s3__ck_from_name(const char *s)
{
    size_t i;

    for (i = 1; i < CN_ARRAY_SIZE(algos); i++) {
        if (strcasecmp(s, algos[i].name) == 0)
            return (s3_ck_algo)i;
    }
    return S3_CK_NONE;
}

/* ---- CRC-64/NVME: reflected, poly 0xad93d23594c93659, init and xorout ~0 ---- */

static uint64_t crc64_tab[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init(void)
{
    const uint64_t poly = 0x9a6c9329ac4bc9b5ull; /* 0xad93d23594c93659 reflected */
    int i, j, k;

    for (i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;
        for (j = 0; j < 8; j++)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        crc64_tab[0][i] = c;
    }
    for (i = 0; i < 256; i++) {
        for (k = 1; k < 8; k++)
            crc64_tab[k][i] = (crc64_tab[k - 1][i] >> 8) ^ crc64_tab[0][crc64_tab[k - 1][i] & 0xff];
    }
}

uint64_t s3__crc64nvme(uint64_t crc, const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t c = ~crc;

    pthread_once(&crc64_once, crc64_init);
    for (; n >= 8; n -= 8, s += 8) {
        uint64_t w = (uint64_t)s[0] | (uint64_t)s[1] << 8 | (uint64_t)s[2] << 16 | (uint64_t)s[3] << 24 |
                     (uint64_t)s[4] << 32 | (uint64_t)s[5] << 40 | (uint64_t)s[6] << 48 | (uint64_t)s[7] << 56;
        c ^= w;
        c = crc64_tab[7][c & 0xff] ^ crc64_tab[6][(c >> 8) & 0xff] ^ crc64_tab[5][(c >> 16) & 0xff] ^
            crc64_tab[4][(c >> 24) & 0xff] ^ crc64_tab[3][(c >> 32) & 0xff] ^ crc64_tab[2][(c >> 40) & 0xff] ^
            crc64_tab[1][(c >> 48) & 0xff] ^ crc64_tab[0][c >> 56];
    }
    for (; n > 0; n--, s++)
        c = crc64_tab[0][(c ^ *s) & 0xff] ^ (c >> 8);
    return ~c;
}

uint32_t s3__crc32c(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *s = p;
    unsigned int c = ~crc;

    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        /* ISA-L does not write through the pointer; its prototype lacks const. */
        c = crc32_iscsi((unsigned char *)(uintptr_t)s, chunk, c);
        s += chunk;
        n -= (size_t)chunk;
    }
    return ~c;
}

static uint32_t crc32_zlib(uint32_t crc, const void *p, size_t n)
{
    const Bytef *s = p;
    uLong c = crc;

    while (n > 0) {
        uInt chunk = n > UINT_MAX ? UINT_MAX : (uInt)n;
        c = crc32(c, s, chunk);
        s += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

/* ---- incremental interface ---- */

int s3__ck_init(s3_ck *c, s3_ck_algo a)
{
    const EVP_MD *md = a == S3_CK_SHA1 ? EVP_sha1() : EVP_sha256();

    memset(c, 0, sizeof(*c));
    c->algo = a;
    if (a != S3_CK_SHA1 && a != S3_CK_SHA256)
        return 0;
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL || EVP_DigestInit_ex(c->md, md, NULL) != 1) {
        s3__ck_dispose(c);
        return -CN_ENOMEM;
    }
    return 0;
}

void s3__ck_update(s3_ck *c, const void *p, size_t n)
{
    switch (c->algo) {
    case S3_CK_CRC32:
        c->crc = crc32_zlib((uint32_t)c->crc, p, n);
        break;
    case S3_CK_CRC32C:
        c->crc = s3__crc32c((uint32_t)c->crc, p, n);
        break;
    case S3_CK_CRC64NVME:
        c->crc = s3__crc64nvme(c->crc, p, n);
        break;
    case S3_CK_SHA1:
    case S3_CK_SHA256:
        EVP_DigestUpdate(c->md, p, n);
        break;
    default:
        break;
    }
}

void s3__ck_final(s3_ck *c, uint8_t *out)
{
    size_t i, size = s3__ck_size(c->algo);
    unsigned int len = 0;

    if (c->md != NULL) {
        EVP_DigestFinal_ex(c->md, out, &len);
    } else {
        for (i = 0; i < size; i++)
            out[i] = (uint8_t)(c->crc >> (8 * (size - 1 - i)));
    }
    s3__ck_dispose(c);
}

void s3__ck_dispose(s3_ck *c)
{
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
}

int s3__ck_decode(s3_ck_algo a, const char *b64, uint8_t *out)
{
    uint8_t tmp[64];
    size_t n = strlen(b64);
    int len;

    while (n > 0 && (b64[n - 1] == ' ' || b64[n - 1] == '\t'))
        n--;
    len = cn_unbase64(tmp, sizeof(tmp), b64, n);
    if (len < 0 || (size_t)len != s3__ck_size(a))
        return -1;
    memcpy(out, tmp, (size_t)len);
    return 0;
}

/* ---- verifying stream ---- */

typedef struct ck_stream {
    cn_stream base;
    cn_stream *inner;
    s3_body *b;
    s3_ck ck;
    char trailer_name[40]; /* "" when the value came as a header */
    const char *(*trailer)(cn_stream *, const char *);
    int done;
    long result;
} ck_stream;

_Static_assert(sizeof(((obj_checksum *)0)->value) > 44, "a base64 SHA-256 digest fits obj_checksum.value");

static long ck_finish(ck_stream *c)
{
    uint8_t got[64], want[64];
    const char *expect = c->b->value;
    size_t size = s3__ck_size(c->b->algo);

    if (c->b->algo == S3_CK_NONE)
        return 0;
    s3__ck_final(&c->ck, got);
    if (c->trailer_name[0] != '\0') {
        expect = c->trailer != NULL ? c->trailer(c->inner, c->trailer_name) : NULL;
        if (expect == NULL)
            return -CN_EINCOMPLETE_BODY; /* announced in x-amz-trailer, never sent */
    }
    if (s3__ck_decode(c->b->algo, expect, want) < 0 || memcmp(got, want, size) != 0) {
        c->b->mismatch = 1;
        return -CN_EBAD_DIGEST;
    }
    /* What gets stored is what we computed (equal to what was sent). */
    cn_base64(c->b->value, got, size);
    snprintf(c->b->ck.algo, sizeof(c->b->ck.algo), "%s", s3__ck_name(c->b->algo));
    cn_base64(c->b->ck.value, got, size); /* at most 44 characters: fits */
    return 0;
}

static long ck_read(cn_stream *s, void *buf, size_t n)
{
    ck_stream *c = (ck_stream *)s;
    long r;

    if (c->done)
        return c->result;
    if (c->b->aborted != NULL && *c->b->aborted) {
        c->done = 1;
        c->result = -CN_EIO;
        return c->result;
    }
    r = c->inner->read(c->inner, buf, n);
    if (r > 0) {
        if (c->b->algo != S3_CK_NONE)
            s3__ck_update(&c->ck, buf, (size_t)r);
        return r;
    }
    c->done = 1;
    c->result = r < 0 ? r : ck_finish(c);
    return c->result;
}

static void ck_close(cn_stream *s)
{
    ck_stream *c = (ck_stream *)s;

    if (c == NULL)
        return;
    if (c->inner != NULL)
        c->inner->close(c->inner);
    s3__ck_dispose(&c->ck);
    free(c);
}

cn_stream *s3__ck_stream(cn_stream *inner, s3_body *b, const char *trailer_name,
                         const char *(*trailer)(cn_stream *, const char *))
{
    ck_stream *c = calloc(1, sizeof(*c));

    if (c == NULL || s3__ck_init(&c->ck, b->algo) < 0) {
        free(c);
        return NULL;
    }
    c->base.read = ck_read;
    c->base.close = ck_close;
    c->inner = inner;
    c->b = b;
    c->trailer = trailer;
    if (trailer_name != NULL)
        snprintf(c->trailer_name, sizeof(c->trailer_name), "%s", trailer_name);
    return &c->base;
}

/* ---- multipart: checksum of checksums ---- */

int s3__ck_composite(s3_ck_algo a, const obj_part_ref *parts, size_t n, char out[80])
{
    size_t i, size = s3__ck_size(a), len;
    uint8_t d[64];
    s3_ck c;
    int err;

    out[0] = '\0';
    if (a == S3_CK_NONE || n == 0)
        return -CN_EINVALID_PART;
    err = s3__ck_init(&c, a);
    if (err < 0)
        return err;
    for (i = 0; i < n; i++) {
        if (s3__ck_from_name(parts[i].checksum.algo) != a || s3__ck_decode(a, parts[i].checksum.value, d) < 0) {
            s3__ck_dispose(&c);
            return -CN_EINVALID_PART;
        }
        s3__ck_update(&c, d, size);
    }
    s3__ck_final(&c, d);
    len = cn_base64(out, d, size);
    snprintf(out + len, 80 - len, "-%zu", n);
    return 0;
}

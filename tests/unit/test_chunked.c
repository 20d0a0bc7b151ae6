/*
 * test_chunked: auth/chunked.c - the request body as a verified stream.
 *
 * tests/vectors/chunked/<case>/ holds <case>.req (a whole HTTP request whose
 * body is aws-chunked), <case>.authz (its Authorization header) and
 * <case>.expect (decoded_length, decoded_sha256, trailer.<name>=<value>).
 * aws-streaming-payload and aws-streaming-trailer are the S3 documentation's
 * examples (66560 bytes of 'a'; seed signatures 4f232c43... and 106e2a8a...);
 * unsigned-trailer is shaped like boto3's STREAMING-UNSIGNED-PAYLOAD-TRAILER.
 * The tamper tests then damage those bodies one way at a time. Run from the
 * repository root.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "test_auth_helpers.h"

#define VEC_DIR "tests/vectors/chunked"
#define T_20130524 1369353600 /* 2013-05-24T00:00:00Z */

/* ---- loading a case and draining a stream ---- */

typedef struct tcase {
    treq t;
    char *authz;
    auth_result ar;
} tcase;

static void case_load(tcase *c, const char *name)
{
    char path[512];

    FMT(path, "%s/%s/%s.req", VEC_DIR, name, name);
    cr_assert_eq(treq_load(&c->t, path), 0, "cannot read %s (run from the repository root)", path);
    FMT(path, "%s/%s/%s.authz", VEC_DIR, name, name);
    c->authz = slurp(path, NULL);
    cr_assert(c->authz != NULL, "%s", path);
    treq_add(&c->t, "authorization", c->authz);
    cr_assert_eq(auth_authenticate(&c->t.r, T_20130524, lookup, NULL, &c->ar), 0, "%s", name);
}

static void case_free(tcase *c)
{
    free(c->authz);
    free(c->t.buf);
}

typedef struct drained {
    long rc;          /* what the final read returned: 0 or the error */
    uint64_t len;     /* decoded bytes handed out before that */
    char sha256[65];  /* of those bytes */
    char trailer[64]; /* x-amz-checksum-crc32c or -crc32, if any */
} drained;

/* Reads s to the end in steps of step bytes. */
static drained drain_stream(cn_stream *s, size_t step)
{
    drained d;
    uint8_t *buf = malloc(step), md[32];
    unsigned int mlen = 32;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const char *tr;

    memset(&d, 0, sizeof(d));
    cr_assert(buf != NULL && ctx != NULL && s != NULL);
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (;;) {
        long r = s->read(s, buf, step);
        if (r <= 0) {
            d.rc = r;
            break;
        }
        cr_assert_leq((size_t)r, step);
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        d.len += (uint64_t)r;
    }
    EVP_DigestFinal_ex(ctx, md, &mlen);
    cn_hex(d.sha256, md, 32);
    tr = auth_body_trailer(s, "x-amz-checksum-crc32c");
    tr = tr != NULL ? tr : auth_body_trailer(s, "x-amz-checksum-crc32");
    FMT(d.trailer, "%s", tr != NULL ? tr : "");
    /* errors and EOF are sticky */
    cr_expect_eq(s->read(s, buf, step), d.rc);
    EVP_MD_CTX_free(ctx);
    free(buf);
    return d;
}

static drained drain(const auth_result *ar, const uint8_t *body, size_t len, size_t step)
{
    cn_stream *s = auth_body_stream(ar, body, len);
    drained d = drain_stream(s, step);

    s->close(s);
    return d;
}

/* Runs a case's body after edit() changed a private copy of it. */
static drained tamper(const char *name, void (*edit)(uint8_t *body, size_t *len, auth_result *ar))
{
    tcase c;
    uint8_t *copy;
    size_t len;
    drained d;

    case_load(&c, name);
    len = c.t.r.body_len;
    copy = malloc(len + 16384);
    cr_assert(copy != NULL);
    memcpy(copy, c.t.r.body, len);
    edit(copy, &len, &c.ar);
    d = drain(&c.ar, copy, len, 4096);
    free(copy);
    case_free(&c);
    return d;
}

static uint8_t *find(uint8_t *body, size_t len, const char *s)
{
    uint8_t *p = memmem(body, len, s, strlen(s));

    cr_assert(p != NULL, "%s not in body", s);
    return p;
}

/* ---- the vectors ---- */

static void expect_case(const char *name, const drained *d)
{
    char path[512], *text, *line, *save = NULL;

    FMT(path, "%s/%s/%s.expect", VEC_DIR, name, name);
    text = slurp(path, NULL);
    cr_assert(text != NULL, "%s", path);
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        cr_assert(eq != NULL);
        *eq = '\0';
        if (strcmp(line, "decoded_length") == 0)
            cr_expect_eq(d->len, strtoull(eq + 1, NULL, 10), "%s", name);
        else if (strcmp(line, "decoded_sha256") == 0)
            cr_expect_str_eq(d->sha256, eq + 1, "%s", name);
        else if (strncmp(line, "trailer.", 8) == 0)
            cr_expect_str_eq(d->trailer, eq + 1, "%s", name);
    }
    free(text);
}

Test(chunked, vectors)
{
    static const size_t steps[] = {1 << 20, 65536, 1000, 7};
    DIR *dir = opendir(VEC_DIR);
    struct dirent *e;
    int n = 0;

    cr_assert(dir != NULL, "run from the repository root: no " VEC_DIR);
    while ((e = readdir(dir)) != NULL) {
        tcase c;
        if (e->d_name[0] == '.')
            continue;
        case_load(&c, e->d_name);
        cr_expect_geq(c.ar.payload, AUTH_PAYLOAD_STREAMING);
        for (size_t i = 0; i < CN_ARRAY_SIZE(steps); i++) {
            drained d = drain(&c.ar, c.t.r.body, c.t.r.body_len, steps[i]);
            cr_expect_eq(d.rc, 0, "%s, step %zu: %ld", e->d_name, steps[i], d.rc);
            expect_case(e->d_name, &d);
        }
        case_free(&c);
        n++;
    }
    closedir(dir);
    cr_expect_geq(n, 3);
}

Test(chunked, streaming_auth_result)
{
    tcase c;

    case_load(&c, "aws-streaming-payload");
    cr_expect_eq(c.ar.kind, AUTH_V4_HEADER);
    cr_expect_eq(c.ar.payload, AUTH_PAYLOAD_STREAMING);
    cr_expect_str_eq(c.ar.seed_signature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    cr_expect_str_eq(c.ar.scope, "20130524/us-east-1/s3/aws4_request");
    cr_expect_eq(c.ar.decoded_length, 66560);
    cr_expect_eq(auth_payload_length(&c.ar, c.t.r.body_len), 66560);
    case_free(&c);
}

/* ---- tampering with the signed example ---- */

static void flip_first_chunk(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    b[1000] ^= 1;
    (void)len;
}

static void flip_second_chunk(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    find(b, *len, "400;chunk-signature=")[100] ^= 1;
}

static void wrong_chunk_signature(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    uint8_t *p = find(b, *len, "ad80c730");
    p[0] = 'b';
}

static void wrong_seed(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)b;
    (void)len;
    ar->seed_signature[0] = ar->seed_signature[0] == '0' ? '1' : '0';
}

static void final_chunk_first(uint8_t *b, size_t *len, auth_result *ar)
{
    /* the genuine final chunk, moved first: its signature chains from the
     * wrong predecessor, so a reordered body cannot pass */
    static const char fin[] =
        "0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n";

    (void)ar;
    memcpy(b, fin, sizeof(fin) - 1);
    *len = sizeof(fin) - 1;
}

Test(chunked, tampered_data_or_signature)
{
    drained d = tamper("aws-streaming-payload", flip_first_chunk);

    cr_expect_eq(d.rc, -CN_ESIGNATURE);
    cr_expect_eq(d.len, 0, "no byte of an unverified chunk is handed out");
    d = tamper("aws-streaming-payload", flip_second_chunk);
    cr_expect_eq(d.rc, -CN_ESIGNATURE);
    cr_expect_eq(d.len, 65536);
    cr_expect_eq(tamper("aws-streaming-payload", wrong_chunk_signature).rc, -CN_ESIGNATURE);
    cr_expect_eq(tamper("aws-streaming-payload", wrong_seed).rc, -CN_ESIGNATURE);
    cr_expect_eq(tamper("aws-streaming-payload", final_chunk_first).rc, -CN_ESIGNATURE);
}

static size_t cut_at;

static void truncate_body(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)b;
    (void)ar;
    *len = cut_at;
}

Test(chunked, truncated)
{
    tcase c;
    size_t full, final_start;

    case_load(&c, "aws-streaming-payload");
    full = c.t.r.body_len;
    final_start = (size_t)(find((uint8_t *)c.t.r.body, full, "0;chunk-signature=b6c6") - c.t.r.body);
    case_free(&c);
    const size_t cuts[] = {0,
                           1,
                           5,
                           86,
                           87,
                           88,
                           1000,
                           65536 + 87,
                           65536 + 88,
                           65536 + 89,
                           65536 + 90,
                           65536 + 100,
                           final_start - 2,
                           final_start,
                           final_start + 10,
                           final_start + 82,
                           final_start + 83};
    for (size_t i = 0; i < CN_ARRAY_SIZE(cuts); i++) {
        cut_at = cuts[i];
        drained d = tamper("aws-streaming-payload", truncate_body);
        cr_expect(d.rc == -CN_EINCOMPLETE_BODY || d.rc == -CN_EINVALID_REQUEST, "cut at %zu: %ld", cut_at, d.rc);
    }
    /* only the closing CRLF may go missing */
    cut_at = full - 2;
    cr_expect_eq(tamper("aws-streaming-payload", truncate_body).rc, 0);
    cut_at = full - 1;
    cr_expect_eq(tamper("aws-streaming-payload", truncate_body).rc, 0);
}

static void announce_less(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)b;
    (void)len;
    ar->decoded_length = 66559;
}

static void announce_more(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)b;
    (void)len;
    ar->decoded_length = 66561;
}

static void announce_nothing(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)b;
    (void)len;
    ar->decoded_length = AUTH_LENGTH_UNKNOWN;
}

static void trailing_garbage(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    memcpy(b + *len, "junk", 4);
    *len += 4;
}

static void bad_size(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)len;
    (void)ar;
    b[0] = 'x';
}

static void bad_data_crlf(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    find(b, *len, "\r\n400;")[0] = '\n';
}

Test(chunked, length_and_framing)
{
    cr_expect_eq(tamper("aws-streaming-payload", announce_less).rc, -CN_EINCOMPLETE_BODY);
    cr_expect_eq(tamper("aws-streaming-payload", announce_more).rc, -CN_EINCOMPLETE_BODY);
    cr_expect_eq(tamper("aws-streaming-payload", announce_nothing).rc, 0);
    cr_expect_eq(tamper("aws-streaming-payload", trailing_garbage).rc, -CN_EINVALID_REQUEST);
    cr_expect_eq(tamper("aws-streaming-payload", bad_size).rc, -CN_EINVALID_REQUEST);
    cr_expect_eq(tamper("aws-streaming-payload", bad_data_crlf).rc, -CN_EINVALID_REQUEST);
}

/* ---- trailers ---- */

static void bad_trailer_value(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    find(b, *len, "sOO8/Q==")[4] = 'R';
}

static void bad_trailer_signature(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    find(b, *len, "x-amz-trailer-signature:")[24] ^= 1;
}

static void drop_trailer_signature(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    uint8_t *p = find(b, *len, "x-amz-trailer-signature:");
    *len = (size_t)(p - b);
}

static void blank_line_before_trailers(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    uint8_t *p = find(b, *len, "x-amz-checksum-crc32c:");
    memmove(p + 2, p, (size_t)(b + *len - p));
    memcpy(p, "\r\n", 2);
    *len += 2;
}

static void no_final_crlf(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)b;
    (void)ar;
    *len -= 2;
}

static void no_crlf_at_all(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)b;
    (void)ar;
    *len -= 4;
}

static void huge_trailer(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    *len -= 2;
    memcpy(b + *len, "x-amz-meta-big:", 15);
    memset(b + *len + 15, 'a', 9000);
    memcpy(b + *len + 9015, "\r\n\r\n", 4);
    *len += 9019;
}

static void trailer_without_colon(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    find(b, *len, "x-amz-checksum-crc32:")[20] = '=';
}

Test(chunked, trailers)
{
    drained d = tamper("aws-streaming-trailer", bad_trailer_value);

    cr_expect_eq(d.rc, -CN_ESIGNATURE);
    cr_expect_str_eq(d.trailer, "", "no trailer is exposed from a failed stream");
    cr_expect_eq(tamper("aws-streaming-trailer", bad_trailer_signature).rc, -CN_ESIGNATURE);
    cr_expect_eq(tamper("aws-streaming-trailer", drop_trailer_signature).rc, -CN_EINCOMPLETE_BODY);
    d = tamper("aws-streaming-trailer", blank_line_before_trailers);
    cr_expect_eq(d.rc, 0);
    cr_expect_str_eq(d.trailer, "sOO8/Q==");
    cr_expect_eq(tamper("aws-streaming-trailer", no_final_crlf).rc, 0);
    d = tamper("unsigned-trailer", no_final_crlf);
    cr_expect_eq(d.rc, 0);
    cr_expect_neq(d.trailer[0], '\0');
    d = tamper("unsigned-trailer", no_crlf_at_all);
    cr_expect_eq(d.rc, 0);
    cr_expect_neq(d.trailer[0], '\0');
    cr_expect_eq(tamper("unsigned-trailer", huge_trailer).rc, -CN_EINVALID_REQUEST);
    cr_expect_eq(tamper("unsigned-trailer", trailer_without_colon).rc, -CN_EINVALID_REQUEST);
    cut_at = 100;
    cr_expect_eq(tamper("unsigned-trailer", truncate_body).rc, -CN_EINCOMPLETE_BODY);
}

/* ---- hand-made bodies ---- */

static auth_result plain(auth_payload mode)
{
    auth_result ar;

    memset(&ar, 0, sizeof(ar));
    ar.payload = mode;
    ar.decoded_length = AUTH_LENGTH_UNKNOWN;
    return ar;
}

Test(chunked, unsigned_trailer_framing)
{
    auth_result ar = plain(AUTH_PAYLOAD_UNSIGNED_TRAILER);
    const char *ok = "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
    char line[5100];
    drained d;

    d = drain(&ar, (const uint8_t *)ok, strlen(ok), 2);
    cr_expect_eq(d.rc, 0);
    cr_expect_eq(d.len, 5);
    cr_expect_str_eq(d.trailer, "AAAAAA==");
    ar.decoded_length = 5;
    cr_expect_eq(drain(&ar, (const uint8_t *)ok, strlen(ok), 64).rc, 0);
    ar.decoded_length = 6;
    cr_expect_eq(drain(&ar, (const uint8_t *)ok, strlen(ok), 64).rc, -CN_EINCOMPLETE_BODY);
    ar.decoded_length = AUTH_LENGTH_UNKNOWN;
    cr_expect_eq(drain(&ar, (const uint8_t *)"0\r\n\r\n", 5, 64).rc, 0);
    cr_expect_eq(drain(&ar, (const uint8_t *)"", 0, 64).rc, -CN_EINCOMPLETE_BODY);
    cr_expect_eq(drain(&ar, (const uint8_t *)"3\r\nabcd\r\n0\r\n\r\n", 14, 64).rc, -CN_EINVALID_REQUEST);
    cr_expect_eq(drain(&ar, (const uint8_t *)"10000000000000000\r\n", 19, 64).rc, -CN_EINVALID_REQUEST);
    cr_expect_eq(drain(&ar, (const uint8_t *)"ffffffff\r\nab\r\n", 14, 64).rc, -CN_EINCOMPLETE_BODY);
    /* an endless chunk header line */
    memset(line, 'a', sizeof(line));
    line[0] = '1';
    line[1] = ';';
    cr_expect_eq(drain(&ar, (const uint8_t *)line, sizeof(line), 64).rc, -CN_EINVALID_REQUEST);
    /* signed framing is not accepted where none is expected, and vice versa */
    ar.payload = AUTH_PAYLOAD_STREAMING;
    cr_expect_eq(drain(&ar, (const uint8_t *)ok, strlen(ok), 64).rc, -CN_EINVALID_REQUEST);
}

Test(chunked, signed_payload)
{
    static const char body[] = "Welcome to Amazon S3.";
    auth_result ar = plain(AUTH_PAYLOAD_SIGNED);
    drained d;

    strcpy(ar.payload_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    d = drain(&ar, (const uint8_t *)body, sizeof(body) - 1, 4);
    cr_expect_eq(d.rc, 0);
    cr_expect_eq(d.len, sizeof(body) - 1);
    d = drain(&ar, (const uint8_t *)"Welcome to Amazon S4.", sizeof(body) - 1, 4);
    cr_expect_eq(d.rc, -CN_ESHA256_MISMATCH);
    cr_expect_eq(d.len, sizeof(body) - 1, "data flows, but EOF never comes");
    cr_expect_eq(drain(&ar, (const uint8_t *)body, sizeof(body) - 2, 4).rc, -CN_ESHA256_MISMATCH);
    strcpy(ar.payload_sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cr_expect_eq(drain(&ar, NULL, 0, 4).rc, 0);
}

Test(chunked, pass_through)
{
    static const char body[] = "0\r\n\r\nnot framing, just bytes";
    auth_result ar = plain(AUTH_PAYLOAD_UNSIGNED);
    cn_stream *s;
    drained d;

    d = drain(&ar, (const uint8_t *)body, sizeof(body) - 1, 3);
    cr_expect_eq(d.rc, 0);
    cr_expect_eq(d.len, sizeof(body) - 1);
    ar = plain(AUTH_PAYLOAD_NONE);
    cr_expect_eq(drain(&ar, (const uint8_t *)body, sizeof(body) - 1, 100).len, sizeof(body) - 1);
    cr_expect_eq(drain(&ar, NULL, 0, 100).rc, 0);
    cr_expect_eq(auth_payload_length(&ar, 42), 42);
    s = auth_body_stream(&ar, (const uint8_t *)body, 3);
    cr_expect_null(auth_body_trailer(s, "x-amz-checksum-crc32"));
    s->close(s);
}

Test(chunked, anonymous_unsigned_trailer)
{
    treq t;
    auth_result ar;

    treq_from(&t, "PUT /b/k HTTP/1.1\nHost: gw\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\n"
                  "x-amz-decoded-content-length: 5\n\n");
    cr_expect_eq(auth_authenticate(&t.r, T_20130524, lookup, NULL, &ar), 0);
    cr_expect_eq(ar.kind, AUTH_ANONYMOUS);
    cr_expect_eq(ar.payload, AUTH_PAYLOAD_UNSIGNED_TRAILER);
    cr_expect_eq(ar.decoded_length, 5);
    free(t.buf);
    treq_from(&t, "PUT /b/k HTTP/1.1\nHost: gw\nContent-Encoding: aws-chunked\nx-amz-trailer: x-amz-checksum-crc32\n"
                  "x-amz-decoded-content-length: 7\n\n");
    cr_expect_eq(auth_authenticate(&t.r, T_20130524, lookup, NULL, &ar), 0);
    cr_expect_eq(ar.payload, AUTH_PAYLOAD_UNSIGNED_TRAILER);
    cr_expect_eq(ar.decoded_length, 7);
    free(t.buf);
    /* a streaming body must announce its decoded size */
    treq_from(&t,
              "PUT /b/k HTTP/1.1\nHost: gw\nContent-Encoding: aws-chunked\nx-amz-trailer: x-amz-checksum-crc32\n\n");
    cr_expect_eq(auth_authenticate(&t.r, T_20130524, lookup, NULL, &ar), -CN_EMISSING_LENGTH);
    free(t.buf);
    treq_from(&t, "PUT /b/k HTTP/1.1\nHost: gw\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\n"
                  "x-amz-decoded-content-length: 1x\n\n");
    cr_expect_eq(auth_authenticate(&t.r, T_20130524, lookup, NULL, &ar), -CN_EINVALID_ARGUMENT);
    free(t.buf);
    /* chunk signatures with no request signature to chain from */
    treq_from(&t, "PUT /b/k HTTP/1.1\nHost: gw\nx-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\n\n");
    cr_expect_eq(auth_authenticate(&t.r, T_20130524, lookup, NULL, &ar), -CN_EINVALID_REQUEST);
    free(t.buf);
}

/* ---- random damage: the decoder may fail, but never crash, and never
 * succeed with other bytes than were signed ---- */

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static size_t mut_pos;
static uint8_t mut_xor;

static void mutate(uint8_t *b, size_t *len, auth_result *ar)
{
    (void)ar;
    if (mut_xor == 0)
        *len = mut_pos % (*len + 1);
    else
        b[mut_pos % *len] ^= mut_xor;
}

static void fuzz_case(const char *name, int is_signed)
{
    tcase c;
    drained good;

    case_load(&c, name);
    good = drain(&c.ar, c.t.r.body, c.t.r.body_len, 1 << 20);
    cr_assert_eq(good.rc, 0);
    case_free(&c);
    for (int i = 0; i < 300; i++) {
        mut_pos = rnd();
        mut_xor = (uint8_t)(i % 3 == 0 ? 0 : 1 + rnd() % 255);
        drained d = tamper(name, mutate);
        if (d.rc != 0)
            continue;
        cr_expect_eq(d.len, good.len, "%s: pos %zu xor %u", name, mut_pos, mut_xor);
        if (is_signed) {
            cr_expect_str_eq(d.sha256, good.sha256, "%s: pos %zu xor %u", name, mut_pos, mut_xor);
            cr_expect_str_eq(d.trailer, good.trailer, "%s: pos %zu xor %u", name, mut_pos, mut_xor);
        }
    }
}

Test(chunked, random_damage)
{
    fuzz_case("aws-streaming-payload", 1);
    fuzz_case("aws-streaming-trailer", 1);
    fuzz_case("unsigned-trailer", 0);
}

/*
 * chunked: the request body as a verified cn_stream.
 *
 * The body is already in memory (a pointer into h2o's buffer, possibly a
 * multi-GiB mmap); it is read in place and never copied whole. By payload mode:
 *   NONE, UNSIGNED  pass through;
 *   SIGNED          pass through, SHA-256 compared with x-amz-content-sha256 at EOF;
 *   STREAMING*      aws-chunked framing decoded:
 *                     hex-size[;chunk-signature=sig] CRLF data CRLF ... 0-size chunk
 *                     [trailer lines CRLF] [x-amz-trailer-signature:sig CRLF] [CRLF]
 *
 *   HEADER --size>0--> DATA --all copied--> DATA_END --CRLF--> HEADER
 *   HEADER --size=0--> FINAL --trailers, length checked--> DONE (read returns 0)
 *   any state --check failed--> the error, returned by every later read
 *
 * Invariants:
 *  1. A chunk's signature is checked when its header is parsed, before any of
 *     its bytes are handed out: the data is in memory, so verifying first
 *     costs one extra hash pass and means no unverified byte ever leaves.
 *  2. The final 0 (EOF) is returned only after every check has passed:
 *     payload hash, chunk and trailer signatures, decoded length, framing.
 *  3. Whatever a peer controls has a cap: one chunk header line, the trailer
 *     section. Chunk sizes are bounded by the bytes actually present.
 * Not done here: checksums named in the trailers (x-amz-checksum-*) are only
 * parsed and exposed through auth_body_trailer(); s3api compares them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "../common/err.h"
#include "../common/util.h"
#include "auth_int.h"

#define CK_LINE_CAP 4096       /* "10000;chunk-signature=<64 hex>" is 86 bytes */
#define CK_TRAILER_CAP 8192    /* the whole trailer section */
#define CK_READ_MAX (1u << 30) /* keeps a return value inside a long */
#define CK_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum { ST_HEADER, ST_DATA, ST_DATA_END, ST_FINAL, ST_DONE };

typedef struct chunked {
    cn_stream base;
    auth_payload mode;
    int state;
    int err;                  /* sticky: once failed, always failed */
    const uint8_t *p, *end;   /* unread part of the body */
    uint64_t left;            /* bytes of the current chunk not yet handed out */
    uint64_t decoded, expect; /* expect is AUTH_LENGTH_UNKNOWN if not announced */
    EVP_MD_CTX *md;           /* SIGNED: running hash of the body */
    char want_sha256[65];
    uint8_t key[32];
    char amz_date[17], scope[128], prev[65];
    cn_buf trailers; /* "name\0value\0" pairs, set once DONE */
} chunked;

static int is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hexval(int c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static int is_signed(const chunked *c)
{
    return c->mode == AUTH_PAYLOAD_STREAMING || c->mode == AUTH_PAYLOAD_STREAMING_TRAILER;
}

static int has_trailer(const chunked *c)
{
    return c->mode == AUTH_PAYLOAD_STREAMING_TRAILER || c->mode == AUTH_PAYLOAD_UNSIGNED_TRAILER;
}

/* ---- pass-through modes ---- */

static long plain_read(chunked *c, uint8_t *buf, size_t n)
{
    size_t take = (size_t)(c->end - c->p);
    uint8_t md[32];
    char hex[65];
    unsigned int len = sizeof(md);

    take = take < n ? take : n;
    if (take > 0) {
        memcpy(buf, c->p, take);
        if (c->md != NULL && !EVP_DigestUpdate(c->md, c->p, take))
            return -CN_EINTERNAL;
        c->p += take;
        return (long)take;
    }
    if (c->state == ST_DONE || c->mode != AUTH_PAYLOAD_SIGNED)
        return 0;
    if (!EVP_DigestFinal_ex(c->md, md, &len))
        return -CN_EINTERNAL;
    cn_hex(hex, md, sizeof(md));
    if (!cn_ct_equal(hex, 64, c->want_sha256, 64))
        return -CN_ESHA256_MISMATCH;
    c->state = ST_DONE;
    return 0;
}

/* ---- aws-chunked ---- */

/* Takes one CRLF-terminated line of at most cap bytes (CRLF excluded). */
static int take_line(chunked *c, size_t cap, const char **line, size_t *len)
{
    size_t avail = (size_t)(c->end - c->p);
    size_t lim = avail < cap + 2 ? avail : cap + 2;
    const uint8_t *nl = memchr(c->p, '\n', lim);

    if (nl == NULL)
        return avail < cap + 2 ? -CN_EINCOMPLETE_BODY : -CN_EINVALID_REQUEST;
    if (nl == c->p || nl[-1] != '\r')
        return -CN_EINVALID_REQUEST;
    *line = (const char *)c->p;
    *len = (size_t)(nl - 1 - c->p);
    c->p = nl + 1;
    return 0;
}

static int chunk_signature(const char *ext, size_t n, char sig[65])
{
    static const char tag[] = ";chunk-signature=";
    const size_t tl = sizeof(tag) - 1;

    if (n < tl || memcmp(ext, tag, tl) != 0)
        return -CN_EINVALID_REQUEST;
    return auth__hex64(sig, ext + tl, n - tl) == 0 ? 0 : -CN_EINVALID_REQUEST;
}

/* Checks sig over "<kind>\n date \n scope \n prev \n <tail>" and makes it the
 * previous signature for the next link of the chain. */
static int chain_verify(chunked *c, const char *kind, const char *tail, const char *sig)
{
    char sts[512], want[65];

    snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%s\n%s", kind, c->amz_date, c->scope, c->prev, tail);
    auth_v4_sign(want, c->key, sts);
    if (!cn_ct_equal(want, 64, sig, 64))
        return -CN_ESIGNATURE;
    memcpy(c->prev, want, sizeof(c->prev));
    return 0;
}

static int verify_chunk(chunked *c, const uint8_t *data, size_t n, const char *sig)
{
    char tail[2 * 65], hash[65];

    auth__sha256_hex(hash, data, n);
    snprintf(tail, sizeof(tail), "%s\n%s", CK_EMPTY_SHA256, hash);
    return chain_verify(c, "AWS4-HMAC-SHA256-PAYLOAD", tail, sig);
}

static int parse_chunk_header(chunked *c)
{
    const char *line;
    size_t len, i = 0;
    uint64_t size = 0;
    char sig[65];
    int rc = take_line(c, CK_LINE_CAP, &line, &len);

    if (rc != 0)
        return rc;
    for (; i < len && is_hex((unsigned char)line[i]); i++) {
        if (i == 16)
            return -CN_EINVALID_REQUEST;
        size = size << 4 | (uint64_t)hexval((unsigned char)line[i]);
    }
    if (i == 0)
        return -CN_EINVALID_REQUEST;
    if (is_signed(c))
        rc = chunk_signature(line + i, len - i, sig);
    else if (i < len && line[i] != ';') /* unsigned: extensions ignored */
        rc = -CN_EINVALID_REQUEST;
    if (rc != 0)
        return rc;
    if (size > (uint64_t)(c->end - c->p))
        return -CN_EINCOMPLETE_BODY;
    if (c->expect != AUTH_LENGTH_UNKNOWN && size > c->expect - c->decoded)
        return -CN_EINCOMPLETE_BODY;
    if (is_signed(c))
        rc = verify_chunk(c, c->p, (size_t)size, sig);
    c->left = size;
    c->state = size > 0 ? ST_DATA : ST_FINAL;
    return rc;
}

static int data_end(chunked *c)
{
    if (c->end - c->p < 2)
        return -CN_EINCOMPLETE_BODY;
    if (c->p[0] != '\r' || c->p[1] != '\n')
        return -CN_EINVALID_REQUEST;
    c->p += 2;
    c->state = ST_HEADER;
    return 0;
}

static int add_trailer(chunked *c, const char *line, size_t len, cn_buf *canon)
{
    const char *colon = memchr(line, ':', len);
    const char *v, *ve = line + len;
    char name[128];
    size_t nl;
    int rc;

    if (colon == NULL || colon == line || (size_t)(colon - line) >= sizeof(name))
        return -CN_EINVALID_REQUEST;
    nl = (size_t)(colon - line);
    for (size_t i = 0; i < nl; i++)
        name[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
    name[nl] = '\0';
    for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
        ;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    rc = cn_buf_printf(canon, "%s:%.*s\n", name, (int)(ve - v), v);
    if (rc == 0)
        rc = cn_buf_append(&c->trailers, name, nl + 1);
    if (rc == 0)
        rc = cn_buf_append(&c->trailers, v, (size_t)(ve - v));
    if (rc == 0)
        rc = cn_buf_append(&c->trailers, "", 1);
    return rc == -CN_ETOOLARGE ? -CN_EINVALID_REQUEST : rc;
}

/* One trailer line; the last one may lack its CRLF. Sets *len = 0 at the
 * blank line that ends the section. */
static int trailer_line(chunked *c, size_t *used, const char **line, size_t *len)
{
    size_t avail = (size_t)(c->end - c->p);
    size_t room = *used < CK_TRAILER_CAP ? CK_TRAILER_CAP - *used : 0;
    int rc = take_line(c, room, line, len);

    /* take_line() saw no LF in what is left: that is the unterminated last line */
    if (rc == -CN_EINCOMPLETE_BODY && avail <= room) {
        *line = (const char *)c->p;
        *len = avail > 0 && c->p[avail - 1] == '\r' ? avail - 1 : avail;
        c->p = c->end;
        rc = 0;
    }
    if (rc == 0)
        *used += *len + 2;
    return rc;
}

/* Only a signed stream may close its trailers with a signature. */
static int trailer_signature(const chunked *c, const char *v, size_t n, char sig[65])
{
    if (c->mode != AUTH_PAYLOAD_STREAMING_TRAILER || auth__hex64(sig, v, n) != 0)
        return -CN_EINVALID_REQUEST;
    return 0;
}

static int parse_trailers(chunked *c)
{
    cn_buf canon;
    char sig[65] = "", hash[65];
    const char *line;
    size_t len, used = 0;
    int rc = 0, have_sig = 0;

    cn_buf_init(&canon, CK_TRAILER_CAP);
    /* Some clients put a blank line between the final chunk and the trailers. */
    if (c->end - c->p > 2 && c->p[0] == '\r' && c->p[1] == '\n')
        c->p += 2;
    while (rc == 0 && c->p < c->end) {
        rc = trailer_line(c, &used, &line, &len);
        if (rc != 0 || len == 0)
            break;
        if (have_sig) {
            rc = -CN_EINVALID_REQUEST; /* the signature closes the section */
        } else if (len > 24 && memcmp(line, "x-amz-trailer-signature:", 24) == 0) {
            rc = trailer_signature(c, line + 24, len - 24, sig);
            have_sig = 1;
        } else {
            rc = add_trailer(c, line, len, &canon);
        }
    }
    if (rc == 0 && c->p != c->end)
        rc = -CN_EINVALID_REQUEST;
    if (rc == 0 && c->mode == AUTH_PAYLOAD_STREAMING_TRAILER) {
        auth__sha256_hex(hash, canon.data, canon.len);
        rc = have_sig ? chain_verify(c, "AWS4-HMAC-SHA256-TRAILER", hash, sig) : -CN_EINCOMPLETE_BODY;
    }
    cn_buf_dispose(&canon);
    return rc;
}

static int finish(chunked *c)
{
    int rc = 0;

    if (has_trailer(c)) {
        rc = parse_trailers(c);
    } else {
        /* Only the closing CRLF may follow, and some clients omit it. */
        size_t rest = (size_t)(c->end - c->p);
        if (rest > 2 || memcmp(c->p, "\r\n", rest) != 0)
            rc = -CN_EINVALID_REQUEST;
        c->p = c->end;
    }
    if (rc == 0 && c->expect != AUTH_LENGTH_UNKNOWN && c->decoded != c->expect)
        rc = -CN_EINCOMPLETE_BODY;
    if (rc == 0)
        c->state = ST_DONE;
    return rc;
}

static long chunked_read(chunked *c, uint8_t *buf, size_t n)
{
    int rc = 0;

    while (rc == 0) {
        switch (c->state) {
        case ST_HEADER:
            rc = parse_chunk_header(c);
            break;
        case ST_DATA: {
            size_t take = c->left < n ? (size_t)c->left : n;
            memcpy(buf, c->p, take);
            c->p += take;
            c->left -= take;
            c->decoded += take;
            if (c->left == 0)
                c->state = ST_DATA_END;
            return (long)take;
        }
        case ST_DATA_END:
            rc = data_end(c);
            break;
        case ST_FINAL:
            rc = finish(c);
            break;
        default:
            return 0;
        }
    }
    return rc;
}

static long body_read(cn_stream *s, void *buf, size_t n)
{
    chunked *c = (chunked *)s;
    long r;

    if (c->err != 0)
        return c->err;
    if (n == 0)
        return 0;
    n = n < CK_READ_MAX ? n : CK_READ_MAX;
    if (c->mode >= AUTH_PAYLOAD_STREAMING)
        r = chunked_read(c, buf, n);
    else
        r = plain_read(c, buf, n);
    if (r < 0) {
        c->err = (int)r;
        OPENSSL_cleanse(c->key, sizeof(c->key));
    }
    return r;
}

static void body_close(cn_stream *s)
{
    chunked *c = (chunked *)s;

    if (c == NULL)
        return;
    EVP_MD_CTX_free(c->md);
    cn_buf_dispose(&c->trailers);
    OPENSSL_cleanse(c->key, sizeof(c->key));
    free(c);
}

cn_stream *auth_body_stream(const auth_result *ar, const uint8_t *body, uint64_t len)
{
    static const uint8_t empty[1];
    chunked *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->base.read = body_read;
    c->base.close = body_close;
    c->mode = ar->payload;
    c->state = ST_HEADER;
    c->p = body != NULL ? body : empty;
    c->end = c->p + (body != NULL ? len : 0);
    c->expect = c->mode >= AUTH_PAYLOAD_STREAMING ? ar->decoded_length : AUTH_LENGTH_UNKNOWN;
    memcpy(c->want_sha256, ar->payload_sha256, sizeof(c->want_sha256));
    memcpy(c->key, ar->signing_key, sizeof(c->key));
    memcpy(c->amz_date, ar->amz_date, sizeof(c->amz_date));
    memcpy(c->scope, ar->scope, sizeof(c->scope));
    memcpy(c->prev, ar->seed_signature, sizeof(c->prev));
    c->prev[64] = '\0';
    cn_buf_init(&c->trailers, CK_TRAILER_CAP);
    if (c->mode == AUTH_PAYLOAD_SIGNED) {
        c->md = EVP_MD_CTX_new();
        if (c->md == NULL || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL)) {
            body_close(&c->base);
            return NULL;
        }
    }
    return &c->base;
}

const char *auth_body_trailer(cn_stream *s, const char *name)
{
    const chunked *c = (const chunked *)s;
    const char *p, *end;

    if (c == NULL || c->state != ST_DONE || c->err != 0 || c->trailers.data == NULL)
        return NULL;
    p = c->trailers.data;
    end = p + c->trailers.len;
    while (p < end) {
        const char *v = p + strlen(p) + 1;
        if (strcmp(p, name) == 0)
            return v;
        p = v + strlen(v) + 1;
    }
    return NULL;
}

uint64_t auth_payload_length(const auth_result *ar, uint64_t body_len)
{
    return ar->payload >= AUTH_PAYLOAD_STREAMING ? ar->decoded_length : body_len;
}

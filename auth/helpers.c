/*
 * helpers: the small pieces every signature form needs - hashing, header and
 * query access, the strict SigV4 date. Nothing here allocates, and nothing
 * here trusts its input: a query walk never reads past the NUL, a copy never
 * writes past its cap.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../common/err.h"
#include "../common/util.h"
#include "auth_int.h"

void auth__sha256(uint8_t out[32], const void *p, size_t n)
{
    static const uint8_t empty;
    unsigned int len = 32;

    /* EVP_Digest wants a valid pointer even for zero bytes. */
    EVP_Digest(p != NULL ? p : &empty, n, out, &len, EVP_sha256(), NULL);
}

void auth__sha256_hex(char out[65], const void *p, size_t n)
{
    uint8_t md[32];

    auth__sha256(md, p, n);
    cn_hex(out, md, sizeof(md));
}

void auth__hmac_sha256(uint8_t out[32], const void *key, size_t klen, const void *msg, size_t n)
{
    static const uint8_t empty;
    unsigned int len = 32;

    HMAC(EVP_sha256(), key, (int)klen, msg != NULL ? msg : &empty, n, out, &len);
}

const char *auth__header(const cn_request *req, const char *name, size_t *len)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < req->n_headers; i++) {
        const cn_header *h = &req->headers[i];
        if (h->name_len == n && memcmp(h->name, name, n) == 0) {
            *len = h->value_len;
            return h->value;
        }
    }
    *len = 0;
    return NULL;
}

int auth__query_next(const char **cursor, auth__param *p)
{
    const char *s = *cursor;

    if (s == NULL)
        return 0;
    while (*s == '&')
        s++;
    if (*s == '\0') {
        *cursor = s;
        return 0;
    }
    size_t seg = strcspn(s, "&");
    const char *eq = memchr(s, '=', seg);
    p->name = s;
    p->has_eq = eq != NULL;
    p->name_len = eq != NULL ? (size_t)(eq - s) : seg;
    p->value = eq != NULL ? eq + 1 : s + seg;
    p->value_len = eq != NULL ? seg - p->name_len - 1 : 0;
    *cursor = s + seg;
    return 1;
}

int auth__query_get(const char *query, const char *name, char *out, size_t outcap, int plus_is_space)
{
    const char *cur = query;
    size_t n = strlen(name);
    auth__param p;

    while (auth__query_next(&cur, &p)) {
        if (p.name_len != n || memcmp(p.name, name, n) != 0)
            continue;
        int len = cn_uri_decode(out, outcap, p.value, p.value_len, plus_is_space);
        return len < 0 ? -2 : len;
    }
    return -1;
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * algorithm): no timegm(), no TZ, no locale. */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int auth__parse_amz_date(const char *s, size_t n, time_t *out)
{
    int y, mo, d, h, mi, se;

    if (n != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    if (digits(s, 4, &y) || digits(s + 4, 2, &mo) || digits(s + 6, 2, &d) || digits(s + 9, 2, &h) ||
        digits(s + 11, 2, &mi) || digits(s + 13, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    *out = (time_t)(days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + se);
    return 0;
}

int auth__copy(char *dst, size_t cap, const char *src, size_t n)
{
    if (cap == 0)
        return -1;
    if (n >= cap) {
        dst[0] = '\0';
        return -1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int auth__hex64(char out[65], const char *s, size_t n)
{
    if (n != 64)
        return -1;
    for (size_t i = 0; i < 64; i++) {
        if (!is_hex(s[i]))
            return -1;
        out[i] = (char)((s[i] >= 'A' && s[i] <= 'F') ? s[i] + 32 : s[i]);
    }
    out[64] = '\0';
    return 0;
}

static int span_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

int auth__payload_mode(const char *s, size_t n, int presigned, auth_result *out)
{
    if (span_is(s, n, "UNSIGNED-PAYLOAD"))
        out->payload = AUTH_PAYLOAD_UNSIGNED;
    else if (!presigned && span_is(s, n, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
        out->payload = AUTH_PAYLOAD_STREAMING;
    else if (!presigned && span_is(s, n, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"))
        out->payload = AUTH_PAYLOAD_STREAMING_TRAILER;
    else if (!presigned && span_is(s, n, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
        out->payload = AUTH_PAYLOAD_UNSIGNED_TRAILER;
    else if (auth__hex64(out->payload_sha256, s, n) == 0)
        out->payload = AUTH_PAYLOAD_SIGNED;
    else
        return -CN_EINVALID_ARGUMENT;
    return 0;
}

int auth__decoded_length(const cn_request *req, auth_result *out)
{
    size_t n;
    const char *s = auth__header(req, "x-amz-decoded-content-length", &n);
    uint64_t v = 0;

    /* Required, as AWS requires it: the layers above size the object by it. */
    if (s == NULL)
        return -CN_EMISSING_LENGTH;
    /* 19 digits always fit in 64 bits. */
    if (n == 0 || n > 19)
        return -CN_EINVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -CN_EINVALID_ARGUMENT;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    out->decoded_length = v;
    return 0;
}

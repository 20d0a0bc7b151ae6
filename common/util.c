/*
 * util: hex, base64, URI coding, time formats, randomness. Pure functions
 * over caller-provided buffers; nothing here allocates.
 */
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "err.h"

static const char hexdig[] = "0123456789abcdef";

void cn_hex(char *out, const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cn_unhex(uint8_t *out, size_t outcap, const char *in, size_t n)
{
    if (n % 2 != 0 || n / 2 > outcap)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval((unsigned char)in[i]), lo = hexval((unsigned char)in[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(n / 2);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t cn_base64(char *out, const uint8_t *in, size_t n)
{
    size_t o = 0, i;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int b64val(int c)
{
    const char *p = c ? strchr(b64, c) : NULL;

    return p ? (int)(p - b64) : -1;
}

int cn_unbase64(uint8_t *out, size_t outcap, const char *in, size_t n)
{
    size_t o = 0;

    if (n % 4 != 0)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            if (in[i + j] == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
            } else if ((v[j] = b64val((unsigned char)in[i + j])) < 0 || pad) {
                return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        uint8_t bytes[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
        if (o + 3 - (size_t)pad > outcap)
            return -1;
        memcpy(out + o, bytes, 3 - (size_t)pad);
        o += 3 - (size_t)pad;
    }
    return (int)o;
}

int cn_uri_decode(char *out, size_t outcap, const char *in, size_t n, int plus_is_space)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)in[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = hi << 4 | lo;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (o + 1 >= outcap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

size_t cn_uri_encode(char *out, const char *in, size_t n, int keep_slash)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~' || (c == '/' && keep_slash)) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = "0123456789ABCDEF"[c >> 4];
            out[o++] = "0123456789ABCDEF"[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

int cn_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const unsigned char *x = a, *y = b;
    unsigned char d = 0;

    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}

void cn_time_iso8601(char *out, time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

void cn_time_rfc1123(char *out, time_t t)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    /* Not strftime: %a/%b follow the locale, HTTP dates must not. */
    gmtime_r(&t, &tm);
    snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void cn_time_amz(char *out, time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y%m%dT%H%M%SZ", &tm);
}

static const char *const time_formats[] = {
    "%a, %d %b %Y %H:%M:%S GMT", /* RFC 1123 */
    "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
    "%a %b %d %H:%M:%S %Y",      /* asctime */
    "%Y%m%dT%H%M%SZ",            /* x-amz-date */
    "%Y-%m-%dT%H:%M:%S",         /* ISO 8601, fraction and zone checked below */
};

int cn_time_parse(const char *s, size_t n, time_t *out)
{
    char tmp[64];

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    for (size_t i = 0; i < CN_ARRAY_SIZE(time_formats); i++) {
        struct tm tm;
        const char *end;
        memset(&tm, 0, sizeof(tm));
        end = strptime(tmp, time_formats[i], &tm);
        if (end == NULL)
            continue;
        if (i == 4) {
            if (*end == '.')
                for (end++; *end >= '0' && *end <= '9'; end++)
                    ;
            if (*end == 'Z')
                end++;
        }
        if (*end != '\0')
            continue;
        *out = timegm(&tm);
        return 0;
    }
    return -1;
}

time_t cn_now(void)
{
    return time(NULL);
}

uint64_t cn_now_us(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

uint64_t cn_monotonic_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int cn_random(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -CN_EINTERNAL;
}

int cn_random_token(char *out, size_t n, const char *alphabet)
{
    size_t k = strlen(alphabet), limit = 256 - 256 % k, i = 0;
    uint8_t r[64];

    /* Rejection sampling: bytes at or past the last whole multiple of k
     * are drawn again, so every symbol is equally likely. */
    while (i < n) {
        if (cn_random(r, sizeof(r)) != 0)
            return -CN_EINTERNAL;
        for (size_t j = 0; j < sizeof(r) && i < n; j++)
            if (r[j] < limit)
                out[i++] = alphabet[r[j] % k];
    }
    out[n] = '\0';
    OPENSSL_cleanse(r, sizeof(r));
    return 0;
}

int cn_strncase_prefix(const char *s, size_t n, const char *prefix)
{
    size_t pl = strlen(prefix);

    return n >= pl && strncasecmp(s, prefix, pl) == 0;
}

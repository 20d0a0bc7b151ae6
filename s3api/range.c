/*
 * range: the Range header of GET/HEAD and x-amz-copy-source-range.
 *
 * S3 follows RFC 7233 loosely, and where it differs we follow S3:
 *  - a header that does not parse ("bytes=abc", "bytes=5-2", another unit) is
 *    ignored and the whole object is served with 200;
 *  - several ranges ("bytes=0-1,5-6") are ignored too: S3 serves no
 *    multipart/byteranges, it answers 200 with the whole object;
 *  - a satisfiable range is clamped to the object; one starting at or past
 *    the end, a zero-length suffix, or any range on an empty object is 416.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "s3int.h"

/* Decimal digits, saturating at UINT64_MAX; returns the end or NULL if none. */
static const char *digits(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = p;

    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return p == start ? NULL : p;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* "bytes=" spec: 0 not a single byte range, 1 parsed. has_last says b was given. */
static int parse_spec(const char *hdr, uint64_t *a, uint64_t *b, int *suffix, int *has_last)
{
    const char *p = skip_ws(hdr);

    if (strncasecmp(p, "bytes", 5) != 0)
        return 0;
    p = skip_ws(p + 5);
    if (*p++ != '=' || strchr(p, ',') != NULL)
        return 0;
    p = skip_ws(p);
    *suffix = *p == '-';
    *has_last = 0;
    if (*suffix) {
        p = digits(p + 1, b);
    } else {
        p = digits(p, a);
        if (p == NULL || *p++ != '-')
            return 0;
        p = skip_ws(p);
        if (*p >= '0' && *p <= '9') {
            p = digits(p, b);
            *has_last = 1;
        }
    }
    if (p == NULL || *skip_ws(p) != '\0')
        return 0;
    return *suffix || !*has_last || *b >= *a;
}

int s3__range_parse(const char *hdr, uint64_t size, s3_range *r)
{
    uint64_t a = 0, b = 0;
    int suffix, has_last;

    if (hdr == NULL || !parse_spec(hdr, &a, &b, &suffix, &has_last))
        return 0;
    if (size == 0)
        return -CN_ERANGE;
    if (suffix) {
        if (b == 0)
            return -CN_ERANGE;
        r->len = b < size ? b : size;
        r->off = size - r->len;
        return 1;
    }
    if (a >= size)
        return -CN_ERANGE;
    if (!has_last || b >= size)
        b = size - 1;
    r->off = a;
    r->len = b - a + 1;
    return 1;
}

int s3__copy_range_parse(const char *hdr, uint64_t size, s3_range *r)
{
    uint64_t a = 0, b = 0;
    int suffix, has_last;

    /* Only "bytes=first-last" is allowed here: no suffix, no open end. */
    if (!parse_spec(hdr, &a, &b, &suffix, &has_last) || suffix || !has_last)
        return -CN_EINVALID_ARGUMENT;
    if (b >= size)
        return -CN_ERANGE;
    r->off = a;
    r->len = b - a + 1;
    return 0;
}

/*
 * names: validation of bucket names, keys and storage-class names. Pure
 * functions; every entry point of the object layer calls them before it
 * touches the store.
 *
 * Keys are data, never paths: "../x" or "a//b" are legal S3 keys and are
 * stored as bytes; providers only ever see random locators, so a key cannot
 * escape anything. What is refused is what S3 refuses or what SQLite and C
 * strings cannot carry: empty keys, keys over 1024 bytes, invalid UTF-8, NUL.
 */
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Four dot-separated decimal numbers, as "192.168.5.4". */
static int looks_like_ip(const char *s)
{
    int dots = 0, digits = 0;

    for (; *s != '\0'; s++) {
        if (*s == '.') {
            if (digits == 0)
                return 0;
            dots++;
            digits = 0;
        } else if (*s >= '0' && *s <= '9') {
            digits++;
        } else {
            return 0;
        }
    }
    return dots == 3 && digits > 0;
}

static int has_suffix(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

int obj_bucket_name_valid(const char *name)
{
    size_t n = 0, i = 0;

    if (name == NULL)
        return -CN_EINVALID_BUCKET_NAME;
    n = strlen(name);
    if (n < 3 || n > 63 || !is_lower_alnum(name[0]) || !is_lower_alnum(name[n - 1]))
        return -CN_EINVALID_BUCKET_NAME;
    for (i = 0; i < n; i++)
        if (!is_lower_alnum(name[i]) && name[i] != '.' && name[i] != '-')
            return -CN_EINVALID_BUCKET_NAME;
    if (strstr(name, "..") != NULL || looks_like_ip(name))
        return -CN_EINVALID_BUCKET_NAME;
    if (strncmp(name, "xn--", 4) == 0 || strncmp(name, "sthree-", 7) == 0)
        return -CN_EINVALID_BUCKET_NAME;
    if (has_suffix(name, n, "-s3alias") || has_suffix(name, n, "--ol-s3"))
        return -CN_EINVALID_BUCKET_NAME;
    return 0;
}

/* Length of the UTF-8 sequence at p (at most n bytes), 0 if invalid:
 * overlong forms, surrogates and code points above U+10FFFF are refused. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len = 0, i = 0;
    uint32_t cp = 0;

    if (p[0] < 0x80)
        return p[0] != 0 ? 1 : 0;
    if ((p[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
        return 0;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int obj__utf8_valid(const char *s, size_t n, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k = 0, count = 0;

    while (i < n) {
        k = utf8_seq(p + i, n - i);
        if (k == 0)
            return 0;
        i += k;
        count++;
    }
    if (chars != NULL)
        *chars = count;
    return 1;
}

int obj_key_valid(const char *key, size_t len)
{
    if (key == NULL || len == 0)
        return -CN_EINVALID_KEY;
    if (len > OBJ_MAX_KEY)
        return -CN_EKEY_TOO_LONG;
    return obj__utf8_valid(key, len, NULL) ? 0 : -CN_EINVALID_KEY;
}

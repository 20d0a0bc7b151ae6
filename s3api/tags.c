/*
 * tags: the tag sets S3 takes in two spellings, the x-amz-tagging header (URL
 * query form, "k1=v1&k2=v2") and the Tagging XML body, and the limits AWS
 * puts on both: at most 10 tags on an object (50 on a bucket), keys of 1..128
 * and values of 0..256 characters (Unicode code points, not bytes), no key
 * twice. The object layer stores whatever it is given; the rules live here.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

/* s3api builds tag sets with malloc, as the object layer does: one way to
 * free both. */
void s3__tags_dispose(obj_tags *t)
{
    obj_tags_dispose(t);
}

/* Code points in a UTF-8 string (continuation bytes are not counted). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int s3__tags_validate(const obj_tags *t, size_t max_tags, const char **why)
{
    size_t i, j;

    if (t->n > max_tags) {
        *why = max_tags == S3_MAX_TAGS_OBJECT ? "Object tags cannot be greater than 10"
                                              : "Bucket tag count cannot be greater than 50";
        return -CN_EINVALID_TAG;
    }
    for (i = 0; i < t->n; i++) {
        if (t->v[i].key[0] == '\0') {
            *why = "The TagKey you have provided is invalid";
            return -CN_EINVALID_TAG;
        }
        if (utf8_chars(t->v[i].key) > S3_MAX_TAG_KEY) {
            *why = "The TagKey you have provided is too long, max 128";
            return -CN_EINVALID_TAG;
        }
        if (utf8_chars(t->v[i].value) > S3_MAX_TAG_VALUE) {
            *why = "The TagValue you have provided is too long, max 256";
            return -CN_EINVALID_TAG;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(t->v[i].key, t->v[j].key) == 0) {
                *why = "Cannot provide multiple Tags with the same key";
                return -CN_EINVALID_TAG;
            }
        }
    }
    return 0;
}

static char *decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    int len;

    if (out == NULL)
        return NULL;
    len = cn_uri_decode(out, n + 1, s, n, 1);
    if (len < 0) {
        free(out);
        return NULL;
    }
    out[len] = '\0';
    return out;
}

static int add_pair(obj_tags *t, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    size_t kl = eq != NULL ? (size_t)(eq - s) : n;
    obj_tag *tag = &t->v[t->n];

    tag->key = decode(s, kl);
    tag->value = eq != NULL ? decode(eq + 1, n - kl - 1) : decode("", 0);
    t->n++; /* counted even when half-built, so that dispose frees it */
    if (tag->key == NULL || tag->value == NULL)
        return -CN_EINVALID_TAG; /* a malformed escape (or no memory) */
    return 0;
}

int s3__tags_from_query(const char *s, obj_tags *out, const char **why)
{
    size_t pairs = 1, len = strlen(s);
    const char *p, *amp;
    int err = 0;

    memset(out, 0, sizeof(*out));
    *why = NULL;
    if (len == 0)
        return 0;
    for (p = s; *p != '\0'; p++)
        pairs += *p == '&';
    out->v = calloc(pairs, sizeof(*out->v));
    if (out->v == NULL)
        return -CN_ENOMEM;
    for (p = s; err == 0 && p <= s + len; p = amp + 1) {
        amp = strchr(p, '&');
        if (amp == NULL)
            amp = s + len;
        if (amp > p)
            err = add_pair(out, p, (size_t)(amp - p));
    }
    if (err == 0)
        err = s3__tags_validate(out, S3_MAX_TAGS_OBJECT, why);
    if (err < 0)
        s3__tags_dispose(out);
    return err;
}

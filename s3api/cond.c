/*
 * cond: conditional requests (If-Match, If-None-Match, If-Modified-Since,
 * If-Unmodified-Since, and their x-amz-copy-source-if-* twins).
 *
 * Precedence is RFC 7232 section 6, which is what S3 documents:
 *   1. If-Match decides alone when present; If-Unmodified-Since only counts
 *      without it (so If-Match true + If-Unmodified-Since false is 200);
 *   2. If-None-Match decides alone when present; If-Modified-Since only counts
 *      without it (so If-None-Match false + If-Modified-Since true is 304).
 * Dates that do not parse are ignored, as S3 ignores them. Times compare at
 * whole seconds because HTTP dates carry no more.
 */
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

/* Strips quotes and a weak prefix from one list element. */
static void etag_core(const char *s, size_t n, const char **out, size_t *outn)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= 2 && s[0] == 'W' && s[1] == '/') {
        s += 2;
        n -= 2;
    }
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s++;
        n -= 2;
    }
    *out = s;
    *outn = n;
}

int s3__etag_match(const char *list, const char *etag)
{
    const char *want, *p = list, *comma, *got;
    size_t wantn, gotn;

    etag_core(etag, strlen(etag), &want, &wantn);
    for (;;) {
        comma = strchr(p, ',');
        etag_core(p, comma != NULL ? (size_t)(comma - p) : strlen(p), &got, &gotn);
        if ((gotn == 1 && got[0] == '*') || (gotn == wantn && memcmp(got, want, gotn) == 0))
            return 1;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

static int parse_date(const char *s, time_t *t)
{
    return s != NULL && cn_time_parse(s, strlen(s), t) == 0;
}

int s3__cond_eval(const s3_cond *c, const char *etag, int64_t mtime_ms)
{
    time_t mtime = (time_t)(mtime_ms / 1000), since;

    if (c->if_match != NULL) {
        if (!s3__etag_match(c->if_match, etag))
            return -CN_EPRECONDITION;
    } else if (parse_date(c->if_unmodified_since, &since) && mtime > since) {
        return -CN_EPRECONDITION;
    }
    if (c->if_none_match != NULL) {
        if (s3__etag_match(c->if_none_match, etag))
            return -CN_ENOT_MODIFIED;
    } else if (parse_date(c->if_modified_since, &since) && mtime <= since) {
        return -CN_ENOT_MODIFIED;
    }
    return 0;
}

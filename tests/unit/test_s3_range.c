/*
 * test_s3_range: s3api/range.c (Range and x-amz-copy-source-range) and
 * s3api/cond.c (conditional headers and their precedence).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../s3api/s3int.h"

static int rp(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    s3_range r = {0, 0};
    int rc = s3__range_parse(h, size, &r);

    *off = r.off;
    *len = r.len;
    return rc;
}

Test(range, closed_open_and_suffix)
{
    uint64_t off, len;

    cr_expect_eq(rp("bytes=0-9", 100, &off, &len), 1);
    cr_expect(off == 0 && len == 10);
    cr_expect_eq(rp("bytes=10-", 100, &off, &len), 1);
    cr_expect(off == 10 && len == 90);
    cr_expect_eq(rp("bytes=-10", 100, &off, &len), 1);
    cr_expect(off == 90 && len == 10);
    cr_expect_eq(rp("bytes=99-99", 100, &off, &len), 1);
    cr_expect(off == 99 && len == 1);
    cr_expect_eq(rp(" bytes = 5-6 ", 100, &off, &len), 1);
    cr_expect(off == 5 && len == 2);
    cr_expect_eq(rp("BYTES=5-6", 100, &off, &len), 1);
}

Test(range, clamped_to_the_object)
{
    uint64_t off, len;

    cr_expect_eq(rp("bytes=50-1000", 100, &off, &len), 1);
    cr_expect(off == 50 && len == 50);
    cr_expect_eq(rp("bytes=-1000", 100, &off, &len), 1);
    cr_expect(off == 0 && len == 100);
    cr_expect_eq(rp("bytes=0-99999999999999999999999", 100, &off, &len), 1);
    cr_expect(off == 0 && len == 100);
}

Test(range, unsatisfiable_is_416)
{
    uint64_t off, len;

    cr_expect_eq(rp("bytes=100-", 100, &off, &len), -CN_ERANGE);
    cr_expect_eq(rp("bytes=100-200", 100, &off, &len), -CN_ERANGE);
    cr_expect_eq(rp("bytes=-0", 100, &off, &len), -CN_ERANGE);
    cr_expect_eq(rp("bytes=0-", 0, &off, &len), -CN_ERANGE);
    cr_expect_eq(rp("bytes=-5", 0, &off, &len), -CN_ERANGE);
    cr_expect_eq(rp("bytes=99999999999999999999999-", 100, &off, &len), -CN_ERANGE);
}

Test(range, ignored_means_whole_object)
{
    uint64_t off, len;

    cr_expect_eq(rp(NULL, 100, &off, &len), 0);
    cr_expect_eq(rp("", 100, &off, &len), 0);
    cr_expect_eq(rp("bytes=0-1,5-6", 100, &off, &len), 0); /* several ranges: S3 serves 200 */
    cr_expect_eq(rp("bytes=5-2", 100, &off, &len), 0);     /* last < first: invalid, ignored */
    cr_expect_eq(rp("bytes=abc", 100, &off, &len), 0);
    cr_expect_eq(rp("bytes=", 100, &off, &len), 0);
    cr_expect_eq(rp("bytes=-", 100, &off, &len), 0);
    cr_expect_eq(rp("bytes=1-2x", 100, &off, &len), 0);
    cr_expect_eq(rp("items=0-1", 100, &off, &len), 0);
    cr_expect_eq(rp("bytes 0-1", 100, &off, &len), 0);
    cr_expect_eq(rp("bytes=--1", 100, &off, &len), 0);
}

Test(range, copy_source_range)
{
    s3_range r;

    cr_expect_eq(s3__copy_range_parse("bytes=0-9", 100, &r), 0);
    cr_expect(r.off == 0 && r.len == 10);
    cr_expect_eq(s3__copy_range_parse("bytes=99-99", 100, &r), 0);
    cr_expect_eq(s3__copy_range_parse("bytes=0-100", 100, &r), -CN_ERANGE);
    cr_expect_eq(s3__copy_range_parse("bytes=0-", 100, &r), -CN_EINVALID_ARGUMENT);
    cr_expect_eq(s3__copy_range_parse("bytes=-5", 100, &r), -CN_EINVALID_ARGUMENT);
    cr_expect_eq(s3__copy_range_parse("bytes=5-1", 100, &r), -CN_EINVALID_ARGUMENT);
    cr_expect_eq(s3__copy_range_parse("0-5", 100, &r), -CN_EINVALID_ARGUMENT);
}

/* ---- conditions ---- */

#define ETAG "\"d41d8cd98f00b204e9800998ecf8427e\""
/* Last-Modified: Fri, 03 Feb 2006 16:45:09 GMT */
#define MTIME_MS 1138985109000LL
#define BEFORE "Thu, 02 Feb 2006 16:45:09 GMT"
#define AT "Fri, 03 Feb 2006 16:45:09 GMT"
#define AFTER "Sat, 04 Feb 2006 16:45:09 GMT"

static int ev(const char *im, const char *inm, const char *ims, const char *ius)
{
    s3_cond c = {im, inm, ims, ius};

    return s3__cond_eval(&c, ETAG, MTIME_MS);
}

Test(cond, etag_lists)
{
    cr_expect(s3__etag_match("*", ETAG));
    cr_expect(s3__etag_match(ETAG, ETAG));
    cr_expect(s3__etag_match("d41d8cd98f00b204e9800998ecf8427e", ETAG));
    cr_expect(s3__etag_match("\"x\", W/" ETAG, ETAG));
    cr_expect(!s3__etag_match("\"x\",\"y\"", ETAG));
    cr_expect(!s3__etag_match("", ETAG));
}

Test(cond, single_headers)
{
    cr_expect_eq(ev(NULL, NULL, NULL, NULL), 0);
    cr_expect_eq(ev(ETAG, NULL, NULL, NULL), 0);
    cr_expect_eq(ev("\"other\"", NULL, NULL, NULL), -CN_EPRECONDITION);
    cr_expect_eq(ev(NULL, ETAG, NULL, NULL), -CN_ENOT_MODIFIED);
    cr_expect_eq(ev(NULL, "\"other\"", NULL, NULL), 0);
    cr_expect_eq(ev(NULL, NULL, BEFORE, NULL), 0);
    cr_expect_eq(ev(NULL, NULL, AT, NULL), -CN_ENOT_MODIFIED);
    cr_expect_eq(ev(NULL, NULL, AFTER, NULL), -CN_ENOT_MODIFIED);
    cr_expect_eq(ev(NULL, NULL, NULL, BEFORE), -CN_EPRECONDITION);
    cr_expect_eq(ev(NULL, NULL, NULL, AT), 0);
    cr_expect_eq(ev(NULL, NULL, "not a date", "not a date"), 0);
}

Test(cond, aws_precedence)
{
    /* If-Match true + If-Unmodified-Since false: 200. */
    cr_expect_eq(ev(ETAG, NULL, NULL, BEFORE), 0);
    /* If-None-Match false + If-Modified-Since true: 304. */
    cr_expect_eq(ev(NULL, ETAG, BEFORE, NULL), -CN_ENOT_MODIFIED);
    /* If-None-Match true wins over If-Modified-Since false: 200. */
    cr_expect_eq(ev(NULL, "\"other\"", AFTER, NULL), 0);
    /* 412 is decided before 304. */
    cr_expect_eq(ev("\"other\"", ETAG, NULL, NULL), -CN_EPRECONDITION);
}

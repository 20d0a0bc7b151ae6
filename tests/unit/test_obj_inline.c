/*
 * Unit tests of inline blobs (obj/blob.c): bodies up to inline_max live in
 * the metadata store, committed with their version; larger ones go to the
 * provider. Checks reads and ranges, overwrite and GC, dedupe across the
 * two kinds, copies, persistence, and that nothing reaches the provider.
 */
#include "test_obj_helpers.h"

#define INLINE_MAX 8192

static char dir[128], blobs[160];
static obj_store *st;

static void setup(void)
{
    setup_test_store(&st, dir, sizeof(dir), blobs, sizeof(blobs), INLINE_MAX);
}

static void teardown(void)
{
    teardown_test_store(&st, dir);
}

TestSuite(inline_blobs, .init = setup, .fini = teardown);

static void put_bytes(const char *key, const void *p, size_t n)
{
    mem_stream m = mem_stream_of(p, n);
    obj_put_args a = {.bucket = "bkt", .key = key, .body = &m.base, .size = n, .owner = "alice"};

    cr_assert_eq(obj_put(st, &a, NULL), 0);
}

static void expect_bytes(const char *key, uint64_t off, const uint8_t *want, size_t len)
{
    obj_version v;
    cn_stream *s = NULL;
    uint8_t *buf = malloc(len + 1);
    size_t got = 0;
    long n = 0;

    cr_assert_eq(obj_head(st, "bkt", key, NULL, &v), 0);
    cr_assert_eq(obj_open(st, &v, off, len, &s), 0);
    while ((n = s->read(s, buf + got, len - got < 1000 ? len - got : 1000)) > 0)
        got += (size_t)n;
    cr_assert_eq(n, 0);
    cr_assert_eq(got, len);
    cr_assert_eq(memcmp(buf, want, len), 0, "bytes of %s differ", key);
    s->close(s);
    obj_version_dispose(&v);
    free(buf);
}

static void wait_grace(void)
{
    usleep(1100 * 1000);
}

Test(inline_blobs, small_bodies_never_reach_the_provider)
{
    uint8_t *a = pattern(INLINE_MAX, 1), *b = pattern(INLINE_MAX + 1, 2);

    put_bytes("small", a, INLINE_MAX);
    cr_assert_eq(provider_count(blobs), 0);
    expect_bytes("small", 0, a, INLINE_MAX);
    expect_bytes("small", 100, a + 100, 333);
    put_bytes("big", b, INLINE_MAX + 1);
    cr_assert_eq(provider_count(blobs), 1, "one byte over the limit goes to the provider");
    expect_bytes("big", 0, b, INLINE_MAX + 1);
    free(a);
    free(b);
}

Test(inline_blobs, overwrite_then_gc_drops_the_bytes)
{
    uint8_t *a = pattern(1000, 3), *b = pattern(1000, 4);
    obj_version v;
    cn_stream *s = NULL;
    uint8_t buf[1000];

    put_bytes("k", a, 1000);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), 0);
    cr_assert_eq(obj_open(st, &v, 0, 1000, &s), 0); /* a reader of the old version */
    put_bytes("k", b, 1000);
    wait_grace();
    cr_assert_eq(obj_gc(st), 1, "the old inline blob is collected");
    cr_assert_eq(s->read(s, buf, sizeof(buf)), 1000, "an open reader keeps its copy");
    cr_assert_eq(memcmp(buf, a, 1000), 0);
    s->close(s);
    obj_version_dispose(&v);
    expect_bytes("k", 0, b, 1000);
    cr_assert_eq(obj_gc(st), 0);
    free(a);
    free(b);
}

Test(inline_blobs, dedupe_and_copy_share_one_blob)
{
    uint8_t *a = pattern(5000, 5);
    obj_version src;
    obj_copy_args c = {.src = &src, .bucket = "bkt", .key = "copy", .owner = "alice"};

    put_bytes("one", a, 5000);
    put_bytes("two", a, 5000);
    cr_assert_eq(obj_head(st, "bkt", "one", NULL, &src), 0);
    cr_assert_eq(obj_copy(st, &c, NULL), 0);
    obj_version_dispose(&src);
    cr_assert_eq(obj_delete(st, "bkt", "one", NULL, NULL), 0);
    cr_assert_eq(obj_delete(st, "bkt", "two", NULL, NULL), 0);
    wait_grace();
    cr_assert_eq(obj_gc(st), 0, "the copy still references the shared blob");
    expect_bytes("copy", 0, a, 5000);
    cr_assert_eq(obj_delete(st, "bkt", "copy", NULL, NULL), 0);
    wait_grace();
    cr_assert_eq(obj_gc(st), 1);
    free(a);
}

Test(inline_blobs, survives_reopen)
{
    uint8_t *a = pattern(777, 6);

    put_bytes("k", a, 777);
    obj_store_close(st);
    open_test_store(&st, dir, INLINE_MAX);
    expect_bytes("k", 0, a, 777);
    free(a);
}

Test(inline_blobs, bad_digest_stores_nothing)
{
    uint8_t *a = pattern(100, 7), md5[16] = {0};
    mem_stream m = mem_stream_of(a, 100);
    obj_put_args args = {
        .bucket = "bkt", .key = "k", .body = &m.base, .size = 100, .owner = "alice", .content_md5 = md5};
    obj_version v;

    cr_assert_eq(obj_put(st, &args, NULL), -CN_EBAD_DIGEST);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), -CN_ENO_KEY);
    free(a);
}

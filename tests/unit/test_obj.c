/*
 * Unit tests of the object layer (obj/): buckets and names, put / head /
 * open, overwrite and GC, dedupe, copy, delete, tags, access keys, crash
 * recovery of pending intents, and concurrent writers (group commit).
 * Listings are in test_obj_list.c, multipart in test_obj_mpu.c.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "../../tiering/tier.h"
#include "test_obj_helpers.h"

static char dir[128], blobs[160];
static obj_store *st;

/* provider path: these tests count provider objects; inline blobs have their own suite */
static void open_store(void)
{
    open_test_store(&st, dir, OBJ_INLINE_OFF);
}

static void setup(void)
{
    setup_test_store(&st, dir, sizeof(dir), blobs, sizeof(blobs), OBJ_INLINE_OFF);
}

static void teardown(void)
{
    teardown_test_store(&st, dir);
}

TestSuite(obj, .init = setup, .fini = teardown);

static int put_bytes(const char *key, const void *p, size_t n, obj_version *out)
{
    mem_stream m = mem_stream_of(p, n);
    obj_put_args a = {.bucket = "bkt", .key = key, .body = &m.base, .size = n, .owner = "alice"};

    return obj_put(st, &a, out);
}

/* Reads [off, off+len) of key's latest version in reads of at most chunk bytes. */
static uint8_t *read_range(const char *key, uint64_t off, uint64_t len, size_t chunk)
{
    obj_version v;
    cn_stream *s = NULL;
    uint8_t *buf = malloc(len + 1);
    size_t got = 0;
    long n = 0;

    cr_assert_eq(obj_head(st, "bkt", key, NULL, &v), 0);
    cr_assert_eq(obj_open(st, &v, off, len, &s), 0);
    while ((n = s->read(s, buf + got, len - got < chunk ? len - got : chunk)) > 0)
        got += (size_t)n;
    cr_assert_eq(n, 0, "read error %ld", n);
    cr_assert_eq(got, len);
    s->close(s);
    obj_version_dispose(&v);
    return buf;
}

static void wait_grace(void)
{
    usleep(1100 * 1000);
}

Test(obj, bucket_names)
{
    static const char *const good[] = {"abc", "my-bucket.1", "a.b-c", "123",
                                       "x23456789012345678901234567890123456789"
                                       "012345678901234567890123"};
    static const char *const bad[] = {"ab",
                                      "Abc",
                                      "-abc",
                                      "abc-",
                                      "a..b",
                                      "192.168.5.4",
                                      "xn--abc",
                                      "foo-s3alias",
                                      "a_b",
                                      "a b",
                                      "",
                                      "x234567890123456789012345678901234567890123456789012345678901"
                                      "234"};

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_assert_eq(obj_bucket_name_valid(good[i]), 0, "%s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(obj_bucket_name_valid(bad[i]), -CN_EINVALID_BUCKET_NAME, "%s", bad[i]);
    cr_assert_eq(obj_bucket_create(st, "Bad_Name", "alice", NULL), -CN_EINVALID_BUCKET_NAME);
}

Test(obj, key_rules)
{
    char big[OBJ_MAX_KEY + 2];

    memset(big, 'k', sizeof(big));
    cr_assert_eq(obj_key_valid("a", 1), 0);
    cr_assert_eq(obj_key_valid("../x", 4), 0);
    cr_assert_eq(obj_key_valid("a//b", 4), 0);
    cr_assert_eq(obj_key_valid("caf\xc3\xa9", 5), 0);
    cr_assert_eq(obj_key_valid(big, OBJ_MAX_KEY), 0);
    cr_assert_eq(obj_key_valid(big, OBJ_MAX_KEY + 1), -CN_EKEY_TOO_LONG);
    cr_assert_eq(obj_key_valid("", 0), -CN_EINVALID_KEY);
    cr_assert_eq(obj_key_valid("a\0b", 3), -CN_EINVALID_KEY);
    cr_assert_eq(obj_key_valid("\xc3", 1), -CN_EINVALID_KEY);         /* truncated */
    cr_assert_eq(obj_key_valid("\xc0\xaf", 2), -CN_EINVALID_KEY);     /* overlong '/' */
    cr_assert_eq(obj_key_valid("\xed\xa0\x80", 3), -CN_EINVALID_KEY); /* surrogate */
}

Test(obj, buckets)
{
    obj_bucket b, *list = NULL;
    size_t n = 0;

    cr_assert_eq(obj_bucket_create(st, "bkt", "alice", NULL), -CN_EBUCKET_EXISTS);
    cr_assert_eq(obj_bucket_create(st, "bkt", "bob", NULL), -CN_EBUCKET_TAKEN);
    cr_assert_eq(obj_bucket_create(st, "other", "bob", "us-west-2"), 0);
    cr_assert_eq(obj_bucket_get(st, "bkt", &b), 0);
    cr_assert_str_eq(b.owner, "alice");
    cr_assert_str_eq(b.region, "eu-test-1");
    cr_assert_eq(obj_bucket_get(st, "nope", &b), -CN_ENO_BUCKET);
    cr_assert_eq(obj_bucket_list(st, NULL, &list, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(list[0].name, "bkt");
    cr_assert_str_eq(list[1].region, "us-west-2");
    free(list);
    cr_assert_eq(obj_bucket_list(st, "bob", &list, &n), 0);
    cr_assert_eq(n, 1);
    free(list);
    cr_assert_eq(obj_bucket_delete(st, "other"), 0);
    cr_assert_eq(obj_bucket_delete(st, "other"), -CN_ENO_BUCKET);
}

Test(obj, bucket_not_empty)
{
    char uid[64];
    obj_mpu_create_args ma = {.bucket = "bkt", .key = "up", .owner = "alice"};

    cr_assert_eq(put_bytes("k", "v", 1, NULL), 0);
    cr_assert_eq(obj_bucket_delete(st, "bkt"), -CN_EBUCKET_NOT_EMPTY);
    cr_assert_eq(obj_delete(st, "bkt", "k", NULL, NULL), 0);
    cr_assert_eq(obj_mpu_create(st, &ma, uid), 0);
    cr_assert_eq(obj_bucket_delete(st, "bkt"), -CN_EBUCKET_NOT_EMPTY);
    cr_assert_eq(obj_mpu_abort(st, "bkt", "up", uid), 0);
    cr_assert_eq(obj_bucket_delete(st, "bkt"), 0);
}

Test(obj, put_head_open)
{
    obj_attr attrs[] = {{"content-type", "text/plain"}, {"x-amz-meta-a", "1"}};
    mem_stream m = mem_stream_of("hello world", 11);
    obj_put_args a = {.bucket = "bkt",
                      .key = "dir/hello.txt",
                      .body = &m.base,
                      .size = 11,
                      .attrs = attrs,
                      .n_attrs = 2,
                      .owner = "alice"};
    obj_version v, h;
    uint8_t *back = NULL;

    cr_assert_eq(obj_put(st, &a, &v), 0);
    cr_assert_str_eq(v.etag, "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
    cr_assert_str_eq(v.version_id, "null");
    cr_assert_eq(v.size, 11);
    cr_assert_str_eq(v.key, "dir/hello.txt");
    obj_version_dispose(&v);
    cr_assert_eq(obj_head(st, "bkt", "dir/hello.txt", NULL, &h), 0);
    cr_assert_eq(h.size, 11);
    cr_assert_str_eq(h.storage_class, "STANDARD");
    cr_assert_str_eq(h.owner, "alice");
    cr_assert_str_eq(obj_version_attr(&h, "content-type"), "text/plain");
    cr_assert_str_eq(obj_version_attr(&h, "x-amz-meta-a"), "1");
    cr_assert_null(obj_version_attr(&h, "x-amz-meta-b"));
    cr_assert_gt(h.mtime_ms, 0);
    obj_version_dispose(&h);
    back = read_range("dir/hello.txt", 0, 11, 4);
    cr_assert_eq(memcmp(back, "hello world", 11), 0);
    free(back);
    back = read_range("dir/hello.txt", 6, 5, 1 << 20);
    cr_assert_eq(memcmp(back, "world", 5), 0);
    free(back);
    cr_assert_eq(obj_head(st, "bkt", "nope", NULL, &h), -CN_ENO_KEY);
    cr_assert_eq(obj_head(st, "nobkt", "k", NULL, &h), -CN_ENO_BUCKET);
    cr_assert_eq(obj_head(st, "bkt", "dir/hello.txt", "nover", &h), -CN_ENO_VERSION);
}

Test(obj, open_range_checks)
{
    obj_version v;
    cn_stream *s = NULL;

    cr_assert_eq(put_bytes("k", "0123456789", 10, NULL), 0);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), 0);
    cr_assert_eq(obj_open(st, &v, 5, 6, &s), -CN_ERANGE);
    cr_assert_eq(obj_open(st, &v, 11, 0, &s), -CN_ERANGE);
    cr_assert_eq(obj_open(st, &v, 10, 0, &s), 0);
    s->close(s);
    obj_version_dispose(&v);
}

Test(obj, large_put_streams)
{
    size_t n = (9u << 20) + 3;
    uint8_t *data = pattern(n, 7), *back = NULL;

    cr_assert_eq(put_bytes("big", data, n, NULL), 0);
    back = read_range("big", 0, n, 1 << 20);
    cr_assert_eq(memcmp(back, data, n), 0);
    free(back);
    back = read_range("big", (5u << 20) - 10, 1000, 333);
    cr_assert_eq(memcmp(back, data + (5u << 20) - 10, 1000), 0);
    free(back);
    free(data);
}

Test(obj, empty_object)
{
    obj_version v;
    uint8_t *back = NULL;

    cr_assert_eq(put_bytes("empty", "", 0, &v), 0);
    cr_assert_str_eq(v.etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
    obj_version_dispose(&v);
    cr_assert_eq(provider_count(blobs), 0);
    back = read_range("empty", 0, 0, 10);
    free(back);
}

Test(obj, keys_are_data)
{
    static const char *const keys[] = {"../x", "a//b", "/lead", "sp ace", "\xe6\x97\xa5\xe6\x9c\xac"};
    obj_version v;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        cr_assert_eq(put_bytes(keys[i], "d", 1, NULL), 0, "%s", keys[i]);
        cr_assert_eq(obj_head(st, "bkt", keys[i], NULL, &v), 0);
        cr_assert_str_eq(v.key, keys[i]);
        obj_version_dispose(&v);
    }
    cr_assert_eq(put_bytes("bad\xff", "d", 1, NULL), -CN_EINVALID_KEY);
}

Test(obj, bad_digest_commits_nothing)
{
    mem_stream m = mem_stream_of("payload", 7);
    uint8_t wrong[16] = {0};
    obj_put_args a = {.bucket = "bkt", .key = "k", .body = &m.base, .size = 7, .content_md5 = wrong};
    obj_version v;

    cr_assert_eq(obj_put(st, &a, NULL), -CN_EBAD_DIGEST);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), -CN_ENO_KEY);
    cr_assert_eq(provider_count(blobs), 0);
}

Test(obj, good_digest)
{
    static const uint8_t md5[16] = {0x5e, 0xb6, 0x3b, 0xbb, 0xe0, 0x1e, 0xee, 0xd0,
                                    0x93, 0xcb, 0x22, 0xbb, 0x8f, 0x5a, 0xcd, 0xc3};
    mem_stream m = mem_stream_of("hello world", 11);
    obj_put_args a = {.bucket = "bkt", .key = "k", .body = &m.base, .size = 11, .content_md5 = md5};

    cr_assert_eq(obj_put(st, &a, NULL), 0);
}

Test(obj, short_and_failing_bodies)
{
    uint8_t *data = pattern(100000, 3);
    mem_stream m = mem_stream_of(data, 50000);
    obj_put_args a = {.bucket = "bkt", .key = "k", .body = &m.base, .size = 100000};
    obj_version v;

    cr_assert_eq(obj_put(st, &a, NULL), -CN_EINCOMPLETE_BODY);
    m = mem_stream_of(data, 100000);
    m.fail_at = 30000;
    m.fail_rc = -CN_ESIGNATURE;
    cr_assert_eq(obj_put(st, &a, NULL), -CN_ESIGNATURE);
    /* an error reported only at the end of the stream still aborts */
    m = mem_stream_of(data, 100000);
    m.fail_at = 100000;
    m.fail_rc = -CN_ESHA256_MISMATCH;
    cr_assert_eq(obj_put(st, &a, NULL), -CN_ESHA256_MISMATCH);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), -CN_ENO_KEY);
    cr_assert_eq(provider_count(blobs), 0);
    free(data);
}

Test(obj, put_errors)
{
    obj_version v;

    cr_assert_eq(put_bytes("", "x", 1, NULL), -CN_EINVALID_KEY);
    {
        mem_stream m = mem_stream_of("x", 1);
        obj_put_args a = {.bucket = "nobkt", .key = "k", .body = &m.base, .size = 1};
        cr_assert_eq(obj_put(st, &a, &v), -CN_ENO_BUCKET);
    }
    {
        mem_stream m = mem_stream_of("x", 1);
        obj_put_args a = {.bucket = "bkt", .key = "k", .body = &m.base, .size = OBJ_MAX_PUT_SIZE + 1};
        cr_assert_eq(obj_put(st, &a, NULL), -CN_EENTITY_TOO_LARGE);
    }
    {
        mem_stream m = mem_stream_of("x", 1);
        obj_put_args a = {.bucket = "bkt", .key = "k", .body = &m.base, .size = 1, .storage_class = "BOGUS"};
        cr_assert_eq(obj_put(st, &a, NULL), -CN_EINVALID_STORAGE_CLASS);
    }
    cr_assert_eq(provider_count(blobs), 0);
}

Test(obj, if_none_match)
{
    mem_stream m = mem_stream_of("one", 3);
    obj_put_args a = {.bucket = "bkt", .key = "k", .body = &m.base, .size = 3, .if_none_match_star = 1};
    uint8_t *back = NULL;

    cr_assert_eq(obj_put(st, &a, NULL), 0);
    m = mem_stream_of("two", 3);
    cr_assert_eq(obj_put(st, &a, NULL), -CN_EPRECONDITION);
    back = read_range("k", 0, 3, 10);
    cr_assert_eq(memcmp(back, "one", 3), 0);
    free(back);
    cr_assert_eq(provider_count(blobs), 1);
}

/* ---- attributes are read only after the body's final 0 ---- */

/* A body that, when it returns its final 0, runs a hook first: fills in an
 * attribute (as s3api's verifying stream does with a trailer checksum) or
 * writes the key behind the caller's back. */
typedef struct late_stream {
    mem_stream m;
    void (*at_end)(struct late_stream *);
    obj_put_args *args;
    obj_attr *attrs;
    int ended;
} late_stream;

static long late_read(cn_stream *s, void *buf, size_t n)
{
    late_stream *l = (late_stream *)s;
    long r = mem_read(s, buf, n);

    if (r == 0 && !l->ended) {
        l->ended = 1;
        if (l->at_end != NULL)
            l->at_end(l);
    }
    return r;
}

static late_stream late_stream_of(const void *p, size_t len)
{
    late_stream l = {.m = mem_stream_of(p, len)};

    l.m.base.read = late_read;
    return l;
}

static void fill_checksum(late_stream *l)
{
    l->attrs[1].value = "4waSgw==";
    l->args->n_attrs = 2; /* the slot only counts from now on */
}

Test(obj, attrs_read_after_body_end)
{
    obj_attr attrs[2] = {{"content-type", "text/plain"}, {"x-amz-checksum-crc32c", "not yet"}};
    late_stream l = late_stream_of("123456789", 9);
    obj_put_args a = {.bucket = "bkt", .key = "k", .body = &l.m.base, .size = 9, .attrs = attrs, .n_attrs = 1};
    obj_version v;

    l.at_end = fill_checksum;
    l.args = &a;
    l.attrs = attrs;
    cr_assert_eq(obj_put(st, &a, &v), 0);
    cr_assert_str_eq(obj_version_attr(&v, "x-amz-checksum-crc32c"), "4waSgw==");
    obj_version_dispose(&v);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), 0);
    cr_assert_eq(v.n_attrs, 2);
    cr_assert_str_eq(obj_version_attr(&v, "content-type"), "text/plain");
    cr_assert_str_eq(obj_version_attr(&v, "x-amz-checksum-crc32c"), "4waSgw==");
    obj_version_dispose(&v);
}

Test(obj, attrs_not_read_when_body_fails)
{
    /* An attribute obj_put would refuse: a failing body must win, since the
     * attributes are only looked at after a successful end. */
    obj_attr bad[1] = {{"x-amz-meta-a", "\xff\xfe"}};
    mem_stream m = mem_stream_of("payload", 7);
    obj_put_args a = {.bucket = "bkt", .key = "k", .body = &m.base, .size = 7, .attrs = bad, .n_attrs = 1};
    obj_version v;

    m.fail_at = 7;
    m.fail_rc = -CN_EBAD_DIGEST;
    cr_assert_eq(obj_put(st, &a, NULL), -CN_EBAD_DIGEST);
    /* the same attribute after a good body: refused, and its bytes discarded */
    m = mem_stream_of("payload", 7);
    cr_assert_eq(obj_put(st, &a, NULL), -CN_EINVALID_ARGUMENT);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), -CN_ENO_KEY);
    cr_assert_eq(provider_count(blobs), 0);
}

/* ---- conditional writes, checked in the commit ---- */

static void put_etag(const char *key, const char *data, char etag[48])
{
    obj_version v;

    cr_assert_eq(put_bytes(key, data, strlen(data), &v), 0);
    snprintf(etag, 48, "%s", v.etag);
    obj_version_dispose(&v);
}

Test(obj, if_match)
{
    char e1[48], e2[48], bare[48];
    mem_stream m = mem_stream_of("new", 3);
    obj_put_args a = {.bucket = "bkt", .key = "k", .body = &m.base, .size = 3};
    uint8_t *back = NULL;
    obj_version v;

    /* no such key: 404, as S3 answers If-Match on a missing key */
    a.if_match_etag = "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"";
    cr_assert_eq(obj_put(st, &a, NULL), -CN_ENO_KEY);
    a.if_match_etag = "*";
    m = mem_stream_of("new", 3);
    cr_assert_eq(obj_put(st, &a, NULL), -CN_ENO_KEY);
    cr_assert_eq(provider_count(blobs), 0);

    put_etag("k", "one", e1);
    put_etag("k", "two", e2);
    a.if_match_etag = e1; /* stale */
    m = mem_stream_of("new", 3);
    cr_assert_eq(obj_put(st, &a, NULL), -CN_EPRECONDITION);
    back = read_range("k", 0, 3, 10);
    cr_assert_eq(memcmp(back, "two", 3), 0);
    free(back);

    snprintf(bare, sizeof(bare), "%.32s", e2 + 1); /* quotes are optional */
    a.if_match_etag = bare;
    m = mem_stream_of("new", 3);
    cr_assert_eq(obj_put(st, &a, &v), 0);
    obj_version_dispose(&v);
    back = read_range("k", 0, 3, 10);
    cr_assert_eq(memcmp(back, "new", 3), 0);
    free(back);
    a.if_match_etag = "*";
    m = mem_stream_of("any", 3);
    cr_assert_eq(obj_put(st, &a, NULL), 0);
}

static void overwrite_now(late_stream *l)
{
    (void)l;
    cr_assert_eq(put_bytes("k", "sneaky", 6, NULL), 0);
}

Test(obj, if_match_checked_in_commit)
{
    char e1[48];
    late_stream l = late_stream_of("mine", 4);
    obj_put_args a = {.bucket = "bkt", .key = "k", .body = &l.m.base, .size = 4};
    uint8_t *back = NULL;

    put_etag("k", "one", e1);
    /* The ETag matches when obj_put starts; another writer replaces the key
     * while the body streams. The commit must see it. */
    a.if_match_etag = e1;
    l.at_end = overwrite_now;
    cr_assert_eq(obj_put(st, &a, NULL), -CN_EPRECONDITION);
    back = read_range("k", 0, 6, 10);
    cr_assert_eq(memcmp(back, "sneaky", 6), 0);
    free(back);
    /* "one" (dead, awaiting GC) and "sneaky"; the refused "mine" is gone */
    cr_assert_eq(provider_count(blobs), 2, "the refused body was not discarded");
}

Test(obj, if_none_match_checked_in_commit)
{
    late_stream l = late_stream_of("mine", 4);
    obj_put_args a = {.bucket = "bkt", .key = "k", .body = &l.m.base, .size = 4, .if_none_match_star = 1};
    uint8_t *back = NULL;

    l.at_end = overwrite_now; /* the key appears while the body streams */
    cr_assert_eq(obj_put(st, &a, NULL), -CN_EPRECONDITION);
    back = read_range("k", 0, 6, 10);
    cr_assert_eq(memcmp(back, "sneaky", 6), 0);
    free(back);
}

Test(obj, overwrite_frees_old_blob_after_gc)
{
    uint8_t *a = pattern(4096, 10), *b = pattern(4096, 11), *back = NULL;
    obj_version v;
    cn_stream *s = NULL;
    uint8_t buf[4096];

    cr_assert_eq(put_bytes("k", a, 4096, NULL), 0);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), 0);
    cr_assert_eq(obj_open(st, &v, 0, 4096, &s), 0); /* a reader of the old version */
    cr_assert_eq(put_bytes("k", b, 4096, NULL), 0);
    cr_assert_eq(provider_count(blobs), 2);
    cr_assert_eq(obj_gc(st), 0, "dead blob collected inside its grace period");
    cr_assert_eq(s->read(s, buf, sizeof(buf)), 4096); /* still readable */
    cr_assert_eq(memcmp(buf, a, 4096), 0);
    s->close(s);
    obj_version_dispose(&v);
    wait_grace();
    cr_assert_eq(obj_gc(st), 1);
    cr_assert_eq(provider_count(blobs), 1);
    back = read_range("k", 0, 4096, 1000);
    cr_assert_eq(memcmp(back, b, 4096), 0);
    free(back);
    free(a);
    free(b);
}

Test(obj, dedupe)
{
    uint8_t *a = pattern(70000, 20), *back = NULL;
    obj_version v1, v2;

    cr_assert_eq(put_bytes("one", a, 70000, &v1), 0);
    cr_assert_eq(put_bytes("two", a, 70000, &v2), 0);
    cr_assert_str_eq(v1.etag, v2.etag);
    cr_assert_eq(provider_count(blobs), 1, "identical content stored twice");
    cr_assert_eq(obj_delete(st, "bkt", "one", NULL, NULL), 0);
    wait_grace();
    cr_assert_eq(obj_gc(st), 0);
    back = read_range("two", 0, 70000, 8192);
    cr_assert_eq(memcmp(back, a, 70000), 0);
    free(back);
    cr_assert_eq(obj_delete(st, "bkt", "two", NULL, NULL), 0);
    wait_grace();
    cr_assert_eq(obj_gc(st), 1);
    cr_assert_eq(provider_count(blobs), 0);
    obj_version_dispose(&v1);
    obj_version_dispose(&v2);
    free(a);
}

Test(obj, same_content_same_key)
{
    cr_assert_eq(put_bytes("k", "same", 4, NULL), 0);
    cr_assert_eq(put_bytes("k", "same", 4, NULL), 0);
    wait_grace();
    cr_assert_eq(obj_gc(st), 0, "blob died while its twin replaced it");
    cr_assert_eq(provider_count(blobs), 1);
    free(read_range("k", 0, 4, 4));
}

Test(obj, delete)
{
    obj_delete_result r;
    obj_version v;

    cr_assert_eq(put_bytes("k", "v", 1, NULL), 0);
    cr_assert_eq(obj_delete(st, "bkt", "k", NULL, &r), 0);
    cr_assert_eq(r.delete_marker, 0);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), -CN_ENO_KEY);
    cr_assert_eq(obj_delete(st, "bkt", "k", NULL, &r), 0, "deleting a missing key succeeds");
    cr_assert_eq(obj_delete(st, "nobkt", "k", NULL, &r), -CN_ENO_BUCKET);
    cr_assert_eq(put_bytes("k", "v", 1, NULL), 0);
    cr_assert_eq(obj_delete(st, "bkt", "k", "null", &r), 0);
    cr_assert_str_eq(r.version_id, "null");
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), -CN_ENO_KEY);
}

Test(obj, copy_references_same_blob)
{
    uint8_t *a = pattern(10000, 30), *back = NULL;
    obj_attr repl[] = {{"content-type", "image/png"}};
    obj_tag tag = {"t", "1"};
    obj_tags tags = {&tag, 1};
    obj_version src, cp;
    obj_copy_args ca = {.bucket = "bkt", .key = "copy", .owner = "bob"};
    obj_tags got;

    {
        obj_attr attrs[] = {{"content-type", "text/plain"}};
        mem_stream m = mem_stream_of(a, 10000);
        obj_put_args pa = {
            .bucket = "bkt", .key = "src", .body = &m.base, .size = 10000, .attrs = attrs, .n_attrs = 1, .tags = &tags};
        cr_assert_eq(obj_put(st, &pa, &src), 0);
    }
    ca.src = &src;
    cr_assert_eq(obj_copy(st, &ca, &cp), 0);
    cr_assert_str_eq(cp.etag, src.etag);
    cr_assert_eq(cp.size, 10000);
    cr_assert_str_eq(obj_version_attr(&cp, "content-type"), "text/plain");
    cr_assert_eq(cp.n_tags, 1);
    obj_version_dispose(&cp);
    cr_assert_eq(provider_count(blobs), 1, "copy moved bytes");
    /* REPLACE directive and copy onto itself */
    ca.key = "src";
    ca.attrs = repl;
    ca.n_attrs = 1;
    ca.replace_attrs = 1;
    cr_assert_eq(obj_copy(st, &ca, &cp), 0);
    cr_assert_str_eq(obj_version_attr(&cp, "content-type"), "image/png");
    obj_version_dispose(&cp);
    cr_assert_eq(obj_tags_get(st, "bkt", "copy", NULL, &got), 0);
    cr_assert_eq(got.n, 1);
    obj_tags_dispose(&got);
    cr_assert_eq(obj_delete(st, "bkt", "src", NULL, NULL), 0);
    wait_grace();
    cr_assert_eq(obj_gc(st), 0);
    back = read_range("copy", 0, 10000, 4096);
    cr_assert_eq(memcmp(back, a, 10000), 0);
    free(back);
    /* the source version is gone now */
    ca.key = "copy2";
    cr_assert_eq(obj_copy(st, &ca, &cp), -CN_ENO_KEY);
    obj_version_dispose(&src);
    free(a);
}

Test(obj, tags)
{
    obj_tag t2[] = {{"a", "1"}, {"b", ""}};
    obj_tag dup[] = {{"a", "1"}, {"a", "2"}};
    obj_tags set = {t2, 2}, bad = {dup, 2}, got;
    obj_version v;

    cr_assert_eq(put_bytes("k", "v", 1, NULL), 0);
    cr_assert_eq(obj_tags_get(st, "bkt", "k", NULL, &got), 0);
    cr_assert_eq(got.n, 0);
    cr_assert_eq(obj_tags_put(st, "bkt", "k", NULL, &set), 0);
    cr_assert_eq(obj_tags_get(st, "bkt", "k", NULL, &got), 0);
    cr_assert_eq(got.n, 2);
    cr_assert_str_eq(got.v[0].key, "a");
    cr_assert_str_eq(got.v[1].value, "");
    obj_tags_dispose(&got);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), 0);
    cr_assert_eq(v.n_tags, 2);
    obj_version_dispose(&v);
    cr_assert_eq(obj_tags_put(st, "bkt", "k", NULL, &bad), -CN_EINVALID_TAG);
    cr_assert_eq(obj_tags_delete(st, "bkt", "k", NULL), 0);
    cr_assert_eq(obj_tags_get(st, "bkt", "k", NULL, &got), 0);
    cr_assert_eq(got.n, 0);
    cr_assert_eq(obj_tags_put(st, "bkt", "nokey", NULL, &set), -CN_ENO_KEY);
    /* bucket tags: absent until set */
    cr_assert_eq(obj_bucket_tags_get(st, "bkt", &got), -CN_ENO_TAGSET);
    cr_assert_eq(obj_bucket_tags_put(st, "bkt", &set), 0);
    cr_assert_eq(obj_bucket_tags_get(st, "bkt", &got), 0);
    cr_assert_eq(got.n, 2);
    obj_tags_dispose(&got);
    cr_assert_eq(obj_bucket_tags_delete(st, "bkt"), 0);
    cr_assert_eq(obj_bucket_tags_get(st, "bkt", &got), -CN_ENO_TAGSET);
    cr_assert_eq(obj_bucket_tags_get(st, "nobkt", &got), -CN_ENO_BUCKET);
}

Test(obj, access_keys)
{
    char secret[64], principal[64], tiny[4];
    int n = -1;

    cr_assert_eq(obj_key_count(st, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(obj_key_create(st, "alice", "AKIDALICE", "s3cr3t"), -CN_ENO_USER, "keys belong to users");
    cr_assert_eq(obj_user_create(st, "alice"), 0);
    cr_assert_eq(obj_key_create(st, "alice", "AKIDALICE", "s3cr3t"), 0);
    cr_assert_eq(obj_user_create(st, "bob"), 0);
    cr_assert_eq(obj_key_create(st, "bob", "AKIDALICE", "other"), -CN_ECONFLICT);
    cr_assert_eq(obj_key_count(st, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(obj_key_lookup(st, "AKIDALICE", secret, sizeof(secret), principal, sizeof(principal)), 0);
    cr_assert_str_eq(secret, "s3cr3t");
    cr_assert_str_eq(principal, "alice");
    cr_assert_eq(obj_key_lookup(st, "AKIDNOPE", secret, sizeof(secret), principal, sizeof(principal)), -CN_ENOKEY_ID);
    cr_assert_eq(obj_key_lookup(st, "AKIDALICE", tiny, sizeof(tiny), principal, sizeof(principal)), -CN_ETOOLARGE);
}

/* A crash after the intent committed and the provider object was written,
 * before the version committed: reopening removes both. The intent is of a
 * store made before sealing (no layout): one object on provider "default". */
Test(obj, recovery_removes_pending_intent)
{
    char db_path[256], legacy[200];
    be_option o = {.key = "path", .value = legacy};
    be_provider *p = NULL;
    mem_stream m = mem_stream_of("orphan", 6);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;

    cr_assert_eq(put_bytes("kept", "kept", 4, NULL), 0);
    obj_store_close(st);
    st = NULL;
    snprintf(db_path, sizeof(db_path), "%s/meta.db", dir);
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "INSERT INTO blobs(locator, size, refcount, state, created_ms) "
                              "VALUES ('0123456789abcdef0123456789abcdef', 6, 0, 'pending', 0)",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    snprintf(legacy, sizeof(legacy), "%s/blobs", dir);
    cr_assert_eq(be_posix_driver.create(&p, "t", &o, 1), 0);
    cr_assert_eq(p->driver->put(p, "0123456789abcdef0123456789abcdef", &m.base, 6), 0);
    p->driver->destroy(p);
    cr_assert_eq(provider_count(legacy), 1);
    cr_assert_eq(provider_count(blobs), 1);

    open_store();
    cr_assert_eq(provider_count(legacy), 0, "pending intent's object survived recovery");
    cr_assert_eq(provider_count(blobs), 1);
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM blobs WHERE state = 'pending'", -1, &q, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(q, 0), 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    free(read_range("kept", 0, 4, 4));
}

Test(obj, persists_across_reopen)
{
    obj_version v;

    cr_assert_eq(put_bytes("k", "durable", 7, NULL), 0);
    obj_store_close(st);
    open_store();
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), 0);
    cr_assert_eq(v.size, 7);
    obj_version_dispose(&v);
}

typedef struct writer_arg {
    int id;
    int failures;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    char key[32], body[32];

    for (int i = 0; i < 25; i++) {
        snprintf(key, sizeof(key), "w%d/%02d", w->id, i);
        snprintf(body, sizeof(body), "body %d %d", w->id, i % 5); /* some dedupe across writers */
        if (put_bytes(key, body, strlen(body), NULL) != 0)
            w->failures++;
        if (i % 3 == 0 && put_bytes(key, "same", 4, NULL) != 0) /* overwrite races */
            w->failures++;
    }
    return NULL;
}

Test(obj, concurrent_writers_group_commit)
{
    pthread_t t[8];
    writer_arg w[8];
    obj_list_args la = {.bucket = "bkt", .max_keys = 1000};
    obj_list_result r;

    for (int i = 0; i < 8; i++) {
        w[i] = (writer_arg){.id = i};
        cr_assert_eq(pthread_create(&t[i], NULL, writer, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].failures, 0);
    }
    cr_assert_eq(obj_list(st, &la, &r), 0);
    cr_assert_eq(r.n_items, 200);
    obj_list_dispose(&r);
    wait_grace();
    obj_gc(st);
    /* 8 writers x 5 distinct bodies + "same" */
    cr_assert_eq(provider_count(blobs), 41);
}

Test(obj, tier_gc_thread)
{
    tier_gc *g = NULL;

    cr_assert_eq(tier_gc_start(&g, st, 0), -CN_EINVALID_ARGUMENT);
    cr_assert_eq(tier_gc_start(&g, st, 1), 0);
    cr_assert_eq(put_bytes("k", "old", 3, NULL), 0);
    cr_assert_eq(put_bytes("k", "new", 3, NULL), 0);
    cr_assert_eq(provider_count(blobs), 2);
    for (int i = 0; i < 40 && provider_count(blobs) != 1; i++)
        usleep(100 * 1000);
    cr_assert_eq(provider_count(blobs), 1);
    cr_assert_eq(tier_gc_removed(g), 1);
    tier_gc_stop(g);
    tier_gc_stop(NULL);
}

/* A database created before the checksum columns existed opens, gains them
 * and keeps its rows. */
Test(obj, schema_upgrade_adds_checksum_columns)
{
    static const char v1[] =
        "CREATE TABLE meta_info(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
        "INSERT INTO meta_info VALUES ('schema', 1);"
        "CREATE TABLE buckets(name TEXT PRIMARY KEY, owner TEXT NOT NULL, region TEXT NOT NULL,"
        "  created INTEGER NOT NULL, versioning INTEGER NOT NULL DEFAULT 0, tags TEXT) WITHOUT ROWID;"
        "INSERT INTO buckets VALUES ('old', 'alice', 'eu-test-1', 0, 0, NULL);"
        "CREATE TABLE uploads(upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL,"
        "  initiated_ms INTEGER NOT NULL, owner TEXT NOT NULL, storage_class TEXT NOT NULL, attrs TEXT,"
        "  tags TEXT) WITHOUT ROWID;"
        "INSERT INTO uploads VALUES ('u1', 'old', CAST('k' AS BLOB), 0, 'alice', 'STANDARD', NULL, NULL);"
        "CREATE TABLE parts(pid INTEGER PRIMARY KEY, upload_id TEXT NOT NULL, number INTEGER NOT NULL,"
        "  size INTEGER NOT NULL, etag TEXT NOT NULL, md5 BLOB NOT NULL, mtime_ms INTEGER NOT NULL,"
        "  UNIQUE (upload_id, number));";
    char db_path[200];
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    obj_checksum ck = {"crc32", "y/Q5Jg=="};
    mem_stream m = mem_stream_of("123456789", 9);
    obj_parts_result r;
    obj_mpu u;

    obj_store_close(st);
    st = NULL;
    rm_rf(dir);
    cr_assert_eq(mkdir(dir, 0700), 0);
    snprintf(db_path, sizeof(db_path), "%s/meta.db", dir);
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    open_store();
    cr_assert_eq(obj_mpu_get(st, "old", "k", "u1", &u), 0);
    cr_assert_str_eq(u.checksum_algo, "");
    obj_mpu_dispose(&u);
    cr_assert_eq(obj_mpu_put_part(st, "old", "k", "u1", 1, &m.base, 9, NULL, &ck, NULL), 0);
    cr_assert_eq(obj_mpu_list_parts(st, "old", "k", "u1", 0, 10, &r), 0);
    cr_assert_eq(r.n, 1);
    cr_assert_str_eq(r.parts[0].checksum.value, "y/Q5Jg==");
    obj_parts_dispose(&r);

    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT v FROM meta_info WHERE k = 'schema'", -1, &q, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_geq(sqlite3_column_int(q, 0), 2);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/*
 * Unit tests of multipart uploads (obj/multipart.c, obj/mpu_complete.c,
 * obj/mpu_list.c): completion rules and ETag, part replacement, release of
 * unnamed parts, abort, list parts, and UploadPartCopy.
 */
#include <openssl/evp.h>

#include "test_obj_helpers.h"

#define MIB (1u << 20)

static char dir[128], blobs[160];
static obj_store *st;

/* provider path: these tests count provider objects */
static void setup(void)
{
    setup_test_store(&st, dir, sizeof(dir), blobs, sizeof(blobs), OBJ_INLINE_OFF);
}

static void teardown(void)
{
    teardown_test_store(&st, dir);
}

TestSuite(mpu, .init = setup, .fini = teardown);

static void create(const char *key, char uid[64])
{
    obj_attr attrs[] = {{"content-type", "application/x-test"}};
    obj_mpu_create_args a = {.bucket = "bkt", .key = key, .attrs = attrs, .n_attrs = 1, .owner = "alice"};

    cr_assert_eq(obj_mpu_create(st, &a, uid), 0);
    cr_assert_eq(strlen(uid), 32);
}

static int part(const char *key, const char *uid, int n, const uint8_t *p, size_t len, obj_part *out)
{
    mem_stream m = mem_stream_of(p, len);

    return obj_mpu_put_part(st, "bkt", key, uid, n, &m.base, len, NULL, NULL, out);
}

static int complete(const char *key, const char *uid, const obj_part_ref *refs, size_t n, obj_version *out)
{
    obj_mpu_complete_args a = {.bucket = "bkt", .key = key, .upload_id = uid, .parts = refs, .n = n};

    return obj_mpu_complete(st, &a, out);
}

static void md5_of(const void *p, size_t n, uint8_t out[16])
{
    unsigned len = 0;

    cr_assert_eq(EVP_Digest(p, n, out, &len, EVP_md5(), NULL), 1);
}

static uint8_t *read_all(const char *key, uint64_t size)
{
    obj_version v;
    cn_stream *s = NULL;
    uint8_t *buf = malloc(size + 1);
    size_t got = 0;
    long n = 0;

    cr_assert_eq(obj_head(st, "bkt", key, NULL, &v), 0);
    cr_assert_eq(v.size, size);
    cr_assert_eq(obj_open(st, &v, 0, size, &s), 0);
    while ((n = s->read(s, buf + got, size - got < MIB ? size - got : MIB)) > 0)
        got += (size_t)n;
    cr_assert_eq(n, 0);
    cr_assert_eq(got, size);
    s->close(s);
    obj_version_dispose(&v);
    return buf;
}

Test(mpu, complete_etag_and_bytes)
{
    uint8_t *p1 = pattern(5 * MIB, 1), *p2 = pattern(1234, 2), *all = NULL;
    uint8_t md5s[32], final[16];
    char uid[64], hex[33], want[48];
    obj_part o1, o2;
    obj_part_ref refs[2];
    obj_version v;

    memset(refs, 0, sizeof(refs));
    create("big", uid);
    cr_assert_eq(part("big", uid, 1, p1, 5 * MIB, &o1), 0);
    cr_assert_eq(part("big", uid, 2, p2, 1234, &o2), 0);
    md5_of(p1, 5 * MIB, md5s);
    md5_of(p2, 1234, md5s + 16);
    md5_of(md5s, 32, final);
    for (int i = 0; i < 16; i++)
        sprintf(hex + 2 * i, "%02x", final[i]);
    snprintf(want, sizeof(want), "\"%s-2\"", hex);

    refs[0].number = 1;
    snprintf(refs[0].etag, sizeof(refs[0].etag), "%s", o1.etag);
    refs[1].number = 2; /* quotes are optional */
    snprintf(refs[1].etag, sizeof(refs[1].etag), "%.32s", o2.etag + 1);
    cr_assert_eq(complete("big", uid, refs, 2, &v), 0);
    cr_assert_str_eq(v.etag, want);
    cr_assert_eq(v.parts_count, 2);
    cr_assert_eq(v.size, 5 * MIB + 1234);
    cr_assert_str_eq(obj_version_attr(&v, "content-type"), "application/x-test");
    obj_version_dispose(&v);

    all = read_all("big", 5 * MIB + 1234);
    cr_assert_eq(memcmp(all, p1, 5 * MIB), 0);
    cr_assert_eq(memcmp(all + 5 * MIB, p2, 1234), 0);
    free(all);
    /* the upload is gone */
    cr_assert_eq(complete("big", uid, refs, 2, NULL), -CN_ENO_UPLOAD);
    cr_assert_eq(obj_bucket_delete(st, "bkt"), -CN_EBUCKET_NOT_EMPTY);
    cr_assert_eq(provider_count(blobs), 2);
    free(p1);
    free(p2);
}

Test(mpu, complete_rules)
{
    uint8_t *small = pattern(100, 3), *big = pattern(5 * MIB, 4);
    char uid[64];
    obj_part o1, o2, o3;
    obj_part_ref refs[3];

    create("k", uid);
    cr_assert_eq(part("k", uid, 1, small, 100, &o1), 0);
    cr_assert_eq(part("k", uid, 2, big, 5 * MIB, &o2), 0);
    cr_assert_eq(part("k", uid, 3, small, 50, &o3), 0);
    refs[0] = (obj_part_ref){.number = 2};
    refs[1] = (obj_part_ref){.number = 1};
    snprintf(refs[0].etag, 48, "%s", o2.etag);
    snprintf(refs[1].etag, 48, "%s", o1.etag);
    cr_assert_eq(complete("k", uid, refs, 2, NULL), -CN_EINVALID_PART_ORDER);
    refs[1].number = 2;
    cr_assert_eq(complete("k", uid, refs, 2, NULL), -CN_EINVALID_PART_ORDER, "duplicate");
    cr_assert_eq(complete("k", uid, refs, 0, NULL), -CN_EMALFORMED_XML);
    /* wrong ETag, missing part */
    refs[0] = (obj_part_ref){.number = 2, .etag = "\"00000000000000000000000000000000\""};
    cr_assert_eq(complete("k", uid, refs, 1, NULL), -CN_EINVALID_PART);
    refs[0] = (obj_part_ref){.number = 7};
    snprintf(refs[0].etag, 48, "%s", o2.etag);
    cr_assert_eq(complete("k", uid, refs, 1, NULL), -CN_EINVALID_PART);
    /* a small part that is not last */
    refs[0] = (obj_part_ref){.number = 1};
    refs[1] = (obj_part_ref){.number = 2};
    snprintf(refs[0].etag, 48, "%s", o1.etag);
    snprintf(refs[1].etag, 48, "%s", o2.etag);
    cr_assert_eq(complete("k", uid, refs, 2, NULL), -CN_EENTITY_TOO_SMALL);
    /* failures changed nothing: 2 then 3 (small last part) completes */
    refs[0] = (obj_part_ref){.number = 2};
    refs[1] = (obj_part_ref){.number = 3};
    snprintf(refs[0].etag, 48, "%s", o2.etag);
    snprintf(refs[1].etag, 48, "%s", o3.etag);
    cr_assert_eq(complete("k", uid, refs, 2, NULL), 0);
    /* part 1 was not named: released, its blob is collected */
    usleep(1100 * 1000);
    cr_assert_eq(obj_gc(st), 1);
    cr_assert_eq(provider_count(blobs), 2);
    free(small);
    free(big);
}

Test(mpu, single_part_and_wrong_upload)
{
    char uid[64];
    obj_part o;
    obj_part_ref r = {.number = 1};
    obj_version v;

    create("one", uid);
    cr_assert_eq(part("one", uid, 1, (const uint8_t *)"tiny", 4, &o), 0);
    cr_assert_eq(part("other", uid, 1, (const uint8_t *)"tiny", 4, NULL), -CN_ENO_UPLOAD);
    cr_assert_eq(part("one", "nope", 1, (const uint8_t *)"tiny", 4, NULL), -CN_ENO_UPLOAD);
    cr_assert_eq(part("one", uid, 0, (const uint8_t *)"tiny", 4, NULL), -CN_EINVALID_ARGUMENT);
    cr_assert_eq(part("one", uid, 10001, (const uint8_t *)"tiny", 4, NULL), -CN_EINVALID_ARGUMENT);
    snprintf(r.etag, sizeof(r.etag), "%s", o.etag);
    cr_assert_eq(complete("one", uid, &r, 1, &v), 0);
    cr_assert_eq(v.size, 4);
    obj_version_dispose(&v);
    free(read_all("one", 4));
}

Test(mpu, part_replaced)
{
    char uid[64];
    obj_part a, b;
    obj_part_ref r = {.number = 1};
    uint8_t *back = NULL;

    create("k", uid);
    cr_assert_eq(part("k", uid, 1, (const uint8_t *)"first", 5, &a), 0);
    cr_assert_eq(part("k", uid, 1, (const uint8_t *)"second", 6, &b), 0);
    cr_assert_str_neq(a.etag, b.etag);
    /* the same bytes again: shares the blob, must not kill it */
    cr_assert_eq(part("k", uid, 1, (const uint8_t *)"second", 6, &b), 0);
    snprintf(r.etag, sizeof(r.etag), "%s", a.etag);
    cr_assert_eq(complete("k", uid, &r, 1, NULL), -CN_EINVALID_PART);
    snprintf(r.etag, sizeof(r.etag), "%s", b.etag);
    cr_assert_eq(complete("k", uid, &r, 1, NULL), 0);
    back = read_all("k", 6);
    cr_assert_eq(memcmp(back, "second", 6), 0);
    free(back);
    usleep(1100 * 1000);
    cr_assert_eq(obj_gc(st), 1);
    cr_assert_eq(provider_count(blobs), 1);
}

Test(mpu, abort_releases)
{
    char uid[64];
    obj_parts_result pr;

    create("k", uid);
    cr_assert_eq(part("k", uid, 1, (const uint8_t *)"aaa", 3, NULL), 0);
    cr_assert_eq(part("k", uid, 2, (const uint8_t *)"bbb", 3, NULL), 0);
    cr_assert_eq(provider_count(blobs), 2);
    cr_assert_eq(obj_mpu_abort(st, "bkt", "k", uid), 0);
    cr_assert_eq(obj_mpu_abort(st, "bkt", "k", uid), -CN_ENO_UPLOAD);
    cr_assert_eq(obj_mpu_list_parts(st, "bkt", "k", uid, 0, 100, &pr), -CN_ENO_UPLOAD);
    cr_assert_eq(part("k", uid, 3, (const uint8_t *)"ccc", 3, NULL), -CN_ENO_UPLOAD);
    usleep(1100 * 1000);
    cr_assert_eq(obj_gc(st), 2);
    cr_assert_eq(provider_count(blobs), 0);
    cr_assert_eq(obj_bucket_delete(st, "bkt"), 0);
}

Test(mpu, list_parts)
{
    char uid[64];
    obj_parts_result r;

    create("k", uid);
    for (int n = 1; n <= 5; n++)
        cr_assert_eq(part("k", uid, n * 2, (const uint8_t *)"p", 1, NULL), 0);
    cr_assert_eq(obj_mpu_list_parts(st, "bkt", "k", uid, 0, 2, &r), 0);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(r.parts[0].number, 2);
    cr_assert_eq(r.parts[1].number, 4);
    cr_assert(r.truncated);
    cr_assert_eq(r.next_marker, 4);
    cr_assert_str_eq(r.upload.key, "k");
    cr_assert_str_eq(r.upload.upload_id, uid);
    cr_assert_str_eq(r.upload.owner, "alice");
    obj_parts_dispose(&r);
    cr_assert_eq(obj_mpu_list_parts(st, "bkt", "k", uid, 4, 100, &r), 0);
    cr_assert_eq(r.n, 3);
    cr_assert_eq(r.parts[2].number, 10);
    cr_assert_eq(r.parts[2].size, 1);
    cr_assert(!r.truncated);
    obj_parts_dispose(&r);
    cr_assert_eq(obj_mpu_list_parts(st, "bkt", "wrong", uid, 0, 100, &r), -CN_ENO_UPLOAD);
}

Test(mpu, copy_part_references_blobs)
{
    uint8_t *src = pattern(6 * MIB, 9), *back = NULL;
    char uid[64];
    obj_part o1, o2;
    obj_part_ref refs[2];
    obj_version v;

    {
        mem_stream m = mem_stream_of(src, 6 * MIB);
        obj_put_args a = {.bucket = "bkt", .key = "src", .body = &m.base, .size = 6 * MIB};
        cr_assert_eq(obj_put(st, &a, &v), 0);
    }
    create("dst", uid);
    cr_assert_eq(obj_mpu_copy_part(st, "bkt", "dst", uid, 1, &v, 0, 5 * MIB, &o1), 0);
    cr_assert_eq(obj_mpu_copy_part(st, "bkt", "dst", uid, 2, &v, 100, 1000, &o2), 0);
    cr_assert_eq(obj_mpu_copy_part(st, "bkt", "dst", uid, 3, &v, 6 * MIB - 1, 2, NULL), -CN_ERANGE);
    cr_assert_eq(provider_count(blobs), 1, "copy part moved bytes");
    refs[0] = (obj_part_ref){.number = 1};
    refs[1] = (obj_part_ref){.number = 2};
    snprintf(refs[0].etag, 48, "%s", o1.etag);
    snprintf(refs[1].etag, 48, "%s", o2.etag);
    cr_assert_eq(complete("dst", uid, refs, 2, NULL), 0);
    cr_assert_eq(obj_delete(st, "bkt", "src", NULL, NULL), 0);
    usleep(1100 * 1000);
    cr_assert_eq(obj_gc(st), 0);
    back = read_all("dst", 5 * MIB + 1000);
    cr_assert_eq(memcmp(back, src, 5 * MIB), 0);
    cr_assert_eq(memcmp(back + 5 * MIB, src + 100, 1000), 0);
    free(back);
    /* the source version is gone: copying from it fails */
    {
        char uid2[64];
        create("dst2", uid2);
        cr_assert_eq(obj_mpu_copy_part(st, "bkt", "dst2", uid2, 1, &v, 0, 1, NULL), -CN_ENO_KEY);
    }
    obj_version_dispose(&v);
    free(src);
}

Test(mpu, copy_part_whole_source_keeps_md5)
{
    char uid[64];
    obj_part o;
    obj_version v;

    {
        mem_stream m = mem_stream_of("hello world", 11);
        obj_put_args a = {.bucket = "bkt", .key = "s", .body = &m.base, .size = 11};
        cr_assert_eq(obj_put(st, &a, &v), 0);
    }
    create("d", uid);
    cr_assert_eq(obj_mpu_copy_part(st, "bkt", "d", uid, 1, &v, 0, 11, &o), 0);
    cr_assert_str_eq(o.etag, "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
    cr_assert_eq(o.size, 11);
    obj_version_dispose(&v);
}

Test(mpu, create_errors)
{
    char uid[64];
    obj_mpu_create_args a = {.bucket = "nobkt", .key = "k"};

    cr_assert_eq(obj_mpu_create(st, &a, uid), -CN_ENO_BUCKET);
    cr_assert_eq(uid[0], '\0');
    a.bucket = "bkt";
    a.key = "";
    cr_assert_eq(obj_mpu_create(st, &a, uid), -CN_EINVALID_KEY);
}

/* ---- checksums ---- */

static void create_ck(const char *key, const char *algo, const char *type, char uid[64])
{
    obj_mpu_create_args a = {
        .bucket = "bkt", .key = key, .owner = "alice", .checksum_algo = algo, .checksum_type = type};

    cr_assert_eq(obj_mpu_create(st, &a, uid), 0);
}

static int part_ck(const char *key, const char *uid, int n, const char *data, const obj_checksum *ck, obj_part *out)
{
    mem_stream m = mem_stream_of(data, strlen(data));

    return obj_mpu_put_part(st, "bkt", key, uid, n, &m.base, strlen(data), NULL, ck, out);
}

Test(mpu, upload_keeps_checksum_algorithm)
{
    char uid[64], plain[64];
    obj_mpu u;
    obj_mpu_list_args la = {.bucket = "bkt", .max_uploads = 10};
    obj_mpu_list_result lr;
    obj_mpu_create_args bad = {.bucket = "bkt", .key = "x", .checksum_algo = "much-too-long-a-name"};

    create_ck("k", "crc32c", "COMPOSITE", uid);
    create("p", plain);
    cr_assert_eq(obj_mpu_get(st, "bkt", "k", uid, &u), 0);
    cr_assert_str_eq(u.key, "k");
    cr_assert_str_eq(u.upload_id, uid);
    cr_assert_str_eq(u.checksum_algo, "crc32c");
    cr_assert_str_eq(u.checksum_type, "COMPOSITE");
    obj_mpu_dispose(&u);
    cr_assert_eq(obj_mpu_get(st, "bkt", "p", plain, &u), 0);
    cr_assert_str_eq(u.checksum_algo, "");
    cr_assert_str_eq(u.checksum_type, "");
    obj_mpu_dispose(&u);
    cr_assert_eq(obj_mpu_get(st, "bkt", "other", uid, &u), -CN_ENO_UPLOAD);
    cr_assert_eq(obj_mpu_get(st, "nobkt", "k", uid, &u), -CN_ENO_BUCKET);
    cr_assert_eq(obj_mpu_list(st, &la, &lr), 0);
    cr_assert_eq(lr.n, 2);
    cr_assert_str_eq(lr.uploads[0].checksum_algo, "crc32c"); /* "k" < "p" */
    cr_assert_str_eq(lr.uploads[1].checksum_algo, "");
    obj_mpu_list_dispose(&lr);
    cr_assert_eq(obj_mpu_create(st, &bad, uid), -CN_EINVALID_ARGUMENT);
}

Test(mpu, part_checksum_stored_and_listed)
{
    obj_checksum ck = {"crc32", "y/Q5Jg=="};
    char uid[64];
    obj_part p1, p2;
    obj_parts_result r;

    create_ck("k", "crc32", "COMPOSITE", uid);
    cr_assert_eq(part_ck("k", uid, 1, "123456789", &ck, &p1), 0);
    cr_assert_str_eq(p1.checksum.algo, "crc32");
    cr_assert_str_eq(p1.checksum.value, "y/Q5Jg==");
    cr_assert_eq(part_ck("k", uid, 2, "abc", NULL, &p2), 0);
    cr_assert_str_eq(p2.checksum.algo, "");
    cr_assert_eq(obj_mpu_list_parts(st, "bkt", "k", uid, 0, 10, &r), 0);
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.upload.checksum_algo, "crc32");
    cr_assert_str_eq(r.upload.checksum_type, "COMPOSITE");
    cr_assert_str_eq(r.parts[0].checksum.algo, "crc32");
    cr_assert_str_eq(r.parts[0].checksum.value, "y/Q5Jg==");
    cr_assert_str_eq(r.parts[1].checksum.algo, "");
    cr_assert_str_eq(r.parts[1].checksum.value, "");
    obj_parts_dispose(&r);
    /* replacing a part replaces its checksum */
    cr_assert_eq(part_ck("k", uid, 1, "123456789", NULL, NULL), 0);
    cr_assert_eq(obj_mpu_list_parts(st, "bkt", "k", uid, 0, 10, &r), 0);
    cr_assert_str_eq(r.parts[0].checksum.algo, "");
    obj_parts_dispose(&r);
}

Test(mpu, part_checksum_must_use_upload_algorithm)
{
    obj_checksum other = {"sha1", "9Ks/b8q/dLyLZwBGv+SsUxSuprI="};
    obj_checksum empty = {"crc32", ""};
    char uid[64];
    obj_parts_result r;

    create_ck("k", "crc32", "COMPOSITE", uid);
    cr_assert_eq(part_ck("k", uid, 1, "123456789", &other, NULL), -CN_EINVALID_REQUEST);
    cr_assert_eq(part_ck("k", uid, 1, "123456789", &empty, NULL), -CN_EINVALID_ARGUMENT);
    cr_assert_eq(obj_mpu_list_parts(st, "bkt", "k", uid, 0, 10, &r), 0);
    cr_assert_eq(r.n, 0);
    obj_parts_dispose(&r);
    cr_assert_eq(provider_count(blobs), 0, "refused parts left bytes behind");
}

/* The checksum is read only once the body has returned its final 0: a
 * stream may fill it in at its end, as s3api's does with a trailer. */
typedef struct ck_late {
    mem_stream m;
    obj_checksum *ck;
} ck_late;

static long ck_late_read(cn_stream *s, void *buf, size_t n)
{
    ck_late *l = (ck_late *)s;
    long r = mem_read(s, buf, n);

    if (r == 0) {
        snprintf(l->ck->algo, sizeof(l->ck->algo), "crc32c");
        snprintf(l->ck->value, sizeof(l->ck->value), "4waSgw==");
    }
    return r;
}

Test(mpu, part_checksum_read_after_body_end)
{
    obj_checksum ck;
    ck_late l = {.m = mem_stream_of("123456789", 9), .ck = &ck};
    char uid[64];
    obj_part p;
    obj_parts_result r;

    memset(&ck, 0, sizeof(ck));
    l.m.base.read = ck_late_read;
    create_ck("k", "crc32c", "COMPOSITE", uid);
    cr_assert_eq(obj_mpu_put_part(st, "bkt", "k", uid, 1, &l.m.base, 9, NULL, &ck, &p), 0);
    cr_assert_str_eq(p.checksum.value, "4waSgw==");
    cr_assert_eq(obj_mpu_list_parts(st, "bkt", "k", uid, 0, 10, &r), 0);
    cr_assert_str_eq(r.parts[0].checksum.algo, "crc32c");
    cr_assert_str_eq(r.parts[0].checksum.value, "4waSgw==");
    obj_parts_dispose(&r);
}

Test(mpu, complete_verifies_named_checksums_and_adds_attrs)
{
    obj_checksum ck = {"crc32", "y/Q5Jg=="};
    obj_attr extra[2] = {{"x-amz-checksum-crc32", "composite-1"}, {"x-amz-checksum-type", "COMPOSITE"}};
    obj_part_ref r;
    obj_mpu_complete_args a;
    char uid[64];
    obj_part p;
    obj_version v;

    create_ck("k", "crc32", "COMPOSITE", uid);
    cr_assert_eq(part_ck("k", uid, 1, "123456789", &ck, &p), 0);
    memset(&r, 0, sizeof(r));
    r.number = 1;
    snprintf(r.etag, sizeof(r.etag), "%s", p.etag);
    memset(&a, 0, sizeof(a));
    a.bucket = "bkt";
    a.key = "k";
    a.upload_id = uid;
    a.parts = &r;
    a.n = 1;
    a.attrs = extra;
    a.n_attrs = 2;
    /* a wrong value, another algorithm: InvalidPart, nothing committed */
    r.checksum = (obj_checksum){"crc32", "AAAAAA=="};
    cr_assert_eq(obj_mpu_complete(st, &a, NULL), -CN_EINVALID_PART);
    r.checksum = (obj_checksum){"crc32c", "y/Q5Jg=="};
    cr_assert_eq(obj_mpu_complete(st, &a, NULL), -CN_EINVALID_PART);
    r.checksum = ck;
    cr_assert_eq(obj_mpu_complete(st, &a, &v), 0);
    cr_assert_str_eq(obj_version_attr(&v, "x-amz-checksum-crc32"), "composite-1");
    cr_assert_str_eq(obj_version_attr(&v, "x-amz-checksum-type"), "COMPOSITE");
    obj_version_dispose(&v);
    cr_assert_eq(obj_head(st, "bkt", "k", NULL, &v), 0);
    cr_assert_str_eq(obj_version_attr(&v, "x-amz-checksum-crc32"), "composite-1");
    obj_version_dispose(&v);
}

Test(mpu, complete_checksum_named_for_part_without_one)
{
    obj_part_ref r;
    char uid[64];
    obj_part p;

    create("k", uid); /* stores the content-type attribute */
    cr_assert_eq(part_ck("k", uid, 1, "abc", NULL, &p), 0);
    memset(&r, 0, sizeof(r));
    r.number = 1;
    snprintf(r.etag, sizeof(r.etag), "%s", p.etag);
    r.checksum = (obj_checksum){"crc32", "NSRBwg=="};
    cr_assert_eq(complete("k", uid, &r, 1, NULL), -CN_EINVALID_PART);
    memset(&r.checksum, 0, sizeof(r.checksum));
    {
        obj_attr extra[1] = {{"x-amz-meta-late", "yes"}};
        obj_mpu_complete_args a = {
            .bucket = "bkt", .key = "k", .upload_id = uid, .parts = &r, .n = 1, .attrs = extra, .n_attrs = 1};
        obj_version v;
        cr_assert_eq(obj_mpu_complete(st, &a, &v), 0);
        /* the upload's attributes, then the caller's */
        cr_assert_eq(v.n_attrs, 2);
        cr_assert_str_eq(v.attrs[0].name, "content-type");
        cr_assert_str_eq(v.attrs[1].name, "x-amz-meta-late");
        obj_version_dispose(&v);
    }
}

/* ---- conditional completion ---- */

static void one_part_upload(const char *key, char uid[64], obj_part_ref *r)
{
    obj_part p;

    create(key, uid);
    cr_assert_eq(part_ck(key, uid, 1, "body", NULL, &p), 0);
    memset(r, 0, sizeof(*r));
    r->number = 1;
    snprintf(r->etag, sizeof(r->etag), "%s", p.etag);
}

static void put_small(const char *key, const char *data, char etag[48])
{
    mem_stream m = mem_stream_of(data, strlen(data));
    obj_put_args a = {.bucket = "bkt", .key = key, .body = &m.base, .size = strlen(data)};
    obj_version v;

    cr_assert_eq(obj_put(st, &a, &v), 0);
    if (etag != NULL)
        snprintf(etag, 48, "%s", v.etag);
    obj_version_dispose(&v);
}

Test(mpu, complete_if_none_match)
{
    char uid[64];
    obj_part_ref r;
    obj_mpu_complete_args a;
    obj_version v;

    one_part_upload("k", uid, &r);
    memset(&a, 0, sizeof(a));
    a.bucket = "bkt";
    a.key = "k";
    a.upload_id = uid;
    a.parts = &r;
    a.n = 1;
    a.if_none_match_star = 1;
    put_small("k", "existing", NULL);
    cr_assert_eq(obj_mpu_complete(st, &a, NULL), -CN_EPRECONDITION);
    /* the refused completion left the upload open */
    cr_assert_eq(obj_delete(st, "bkt", "k", NULL, NULL), 0);
    cr_assert_eq(obj_mpu_complete(st, &a, &v), 0);
    cr_assert_eq(v.size, 4);
    obj_version_dispose(&v);
}

Test(mpu, complete_if_match)
{
    char uid[64], e1[48], e2[48];
    obj_part_ref r;
    obj_mpu_complete_args a;

    one_part_upload("k", uid, &r);
    memset(&a, 0, sizeof(a));
    a.bucket = "bkt";
    a.key = "k";
    a.upload_id = uid;
    a.parts = &r;
    a.n = 1;
    a.if_match_etag = "\"0123456789abcdef0123456789abcdef\"";
    cr_assert_eq(obj_mpu_complete(st, &a, NULL), -CN_ENO_KEY);
    put_small("k", "one", e1);
    put_small("k", "two", e2);
    a.if_match_etag = e1;
    cr_assert_eq(obj_mpu_complete(st, &a, NULL), -CN_EPRECONDITION);
    a.if_match_etag = e2;
    cr_assert_eq(obj_mpu_complete(st, &a, NULL), 0);
    free(read_all("k", 4));
}

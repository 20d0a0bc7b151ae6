/*
 * Unit tests of obj/access.c: bucket policies stored byte for byte under a
 * generation that is never reused, and the canned ACLs of buckets, versions
 * and uploads (put, copy, multipart, set in place).
 */
#include <sqlite3.h>

#include "test_obj_helpers.h"

static char dir[128];
static obj_store *st;

static void setup(void)
{
    setup_test_store(&st, dir, sizeof(dir), NULL, 0, OBJ_INLINE_DEFAULT);
}

static void teardown(void)
{
    teardown_test_store(&st, dir);
}

TestSuite(access, .init = setup, .fini = teardown);

static int64_t gen_of(const char *bucket)
{
    obj_bucket b;

    cr_assert_eq(obj_bucket_get(st, bucket, &b), 0);
    return b.policy_gen;
}

Test(access, policy_round_trip_byte_for_byte)
{
    static const char doc[] = "{ \"Statement\" :\n [] }\t";
    char *json = NULL;
    size_t len = 0;
    int64_t gen = -1;

    cr_expect_eq(gen_of("bkt"), 0);
    cr_assert_eq(obj_bucket_policy_get(st, "bkt", &json, &len, &gen), 0);
    cr_expect_null(json);
    cr_expect_eq(len, 0);
    cr_expect_eq(gen, 0);
    cr_assert_eq(obj_bucket_policy_set(st, "bkt", doc, sizeof(doc) - 1), 0);
    cr_assert_eq(obj_bucket_policy_get(st, "bkt", &json, &len, &gen), 0);
    cr_assert_not_null(json);
    cr_expect_eq(len, sizeof(doc) - 1);
    cr_expect_eq(memcmp(json, doc, len), 0);
    cr_expect_eq(json[len], '\0');
    cr_expect_gt(gen, 0);
    cr_expect_eq(gen_of("bkt"), gen, "obj_bucket_get reports the same generation");
    free(json);
    cr_assert_eq(obj_bucket_policy_set(st, "bkt", NULL, 0), 0);
    cr_expect_eq(gen_of("bkt"), 0);
    cr_assert_eq(obj_bucket_policy_get(st, "bkt", &json, &len, NULL), 0);
    cr_expect_null(json);
    cr_expect_eq(obj_bucket_policy_set(st, "bkt", NULL, 0), 0, "removing none is no error");
}

Test(access, generations_are_never_reused)
{
    int64_t g1, g2, g3;

    cr_assert_eq(obj_bucket_policy_set(st, "bkt", "{}", 2), 0);
    g1 = gen_of("bkt");
    cr_assert_eq(obj_bucket_policy_set(st, "bkt", "{}", 2), 0);
    g2 = gen_of("bkt");
    cr_expect_gt(g2, g1, "the same text again is a new generation");
    cr_assert_eq(obj_bucket_policy_set(st, "bkt", NULL, 0), 0);
    cr_assert_eq(obj_bucket_delete(st, "bkt"), 0);
    cr_assert_eq(obj_bucket_create(st, "bkt", "bob", NULL), 0);
    cr_expect_eq(gen_of("bkt"), 0);
    cr_assert_eq(obj_bucket_policy_set(st, "bkt", "{}", 2), 0);
    g3 = gen_of("bkt");
    cr_expect_gt(g3, g2);
    /* ... nor after a restart. */
    obj_store_close(st);
    open_test_store(&st, dir, OBJ_INLINE_DEFAULT);
    cr_assert_eq(obj_bucket_create(st, "other", "bob", NULL), 0);
    cr_assert_eq(obj_bucket_policy_set(st, "other", "{}", 2), 0);
    cr_expect_gt(gen_of("other"), g3);
}

Test(access, missing_bucket)
{
    char *json = NULL;
    size_t len = 0;
    char acl[OBJ_ACL_MAX];

    cr_expect_eq(obj_bucket_policy_get(st, "nope", &json, &len, NULL), -CN_ENO_BUCKET);
    cr_expect_null(json);
    cr_expect_eq(obj_bucket_policy_set(st, "nope", "{}", 2), -CN_ENO_BUCKET);
    cr_expect_eq(obj_bucket_acl_set(st, "nope", "public-read"), -CN_ENO_BUCKET);
    cr_expect_eq(obj_version_acl_get(st, "nope", "k", NULL, acl), -CN_ENO_BUCKET);
}

Test(access, bucket_acl)
{
    obj_bucket b;
    obj_bucket *v = NULL;
    size_t n = 0;

    cr_assert_eq(obj_bucket_get(st, "bkt", &b), 0);
    cr_expect_str_eq(b.acl, "");
    cr_assert_eq(obj_bucket_acl_set(st, "bkt", "public-read"), 0);
    cr_assert_eq(obj_bucket_get(st, "bkt", &b), 0);
    cr_expect_str_eq(b.acl, "public-read");
    cr_assert_eq(obj_bucket_list(st, "alice", &v, &n), 0);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(v[0].acl, "public-read");
    free(v);
    cr_expect_eq(obj_bucket_acl_set(st, "bkt", "0123456789012345678901234567890123"), -CN_EINVALID_ARGUMENT);
    cr_assert_eq(obj_bucket_acl_set(st, "bkt", ""), 0);
    cr_assert_eq(obj_bucket_get(st, "bkt", &b), 0);
    cr_expect_str_eq(b.acl, "");
}

static void put(const char *key, const char *acl, char vid[40])
{
    mem_stream m = mem_stream_of("data", 4);
    obj_put_args a = {.bucket = "bkt", .key = key, .body = &m.base, .size = 4, .owner = "alice", .acl = acl};
    obj_version v;

    cr_assert_eq(obj_put(st, &a, &v), 0);
    if (vid != NULL)
        snprintf(vid, 40, "%s", v.version_id);
    obj_version_dispose(&v);
}

static const char *acl_of(const char *key, const char *vid)
{
    static char acl[OBJ_ACL_MAX];

    cr_assert_eq(obj_version_acl_get(st, "bkt", key, vid, acl), 0, "%s", key);
    return acl;
}

Test(access, version_acls_per_version)
{
    char v1[40], v2[40];
    obj_delete_result r;

    cr_assert_eq(obj_bucket_versioning_set(st, "bkt", OBJ_VERSIONING_ENABLED), 0);
    put("k", "public-read", v1);
    put("k", NULL, v2);
    cr_expect_str_eq(acl_of("k", v1), "public-read");
    cr_expect_str_eq(acl_of("k", v2), "");
    cr_expect_str_eq(acl_of("k", NULL), "", "a new version does not inherit");
    cr_assert_eq(obj_version_acl_set(st, "bkt", "k", v2, "authenticated-read"), 0);
    cr_expect_str_eq(acl_of("k", NULL), "authenticated-read");
    cr_expect_str_eq(acl_of("k", v1), "public-read");
    cr_assert_eq(obj_delete(st, "bkt", "k", NULL, &r), 0);
    {
        char acl[OBJ_ACL_MAX];
        cr_expect_eq(obj_version_acl_get(st, "bkt", "k", NULL, acl), -CN_ENO_KEY, "a latest marker");
        cr_expect_eq(obj_version_acl_get(st, "bkt", "k", r.version_id, acl), -CN_EMETHOD_NOT_ALLOWED);
        cr_expect_eq(obj_version_acl_get(st, "bkt", "k", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", acl), -CN_ENO_VERSION);
        cr_expect_eq(obj_version_acl_get(st, "bkt", "none", NULL, acl), -CN_ENO_KEY);
        cr_expect_eq(obj_version_acl_set(st, "bkt", "none", NULL, "public-read"), -CN_ENO_KEY);
    }
}

Test(access, copy_and_multipart_take_their_own_acl)
{
    obj_version src;
    obj_copy_args c = {.src = &src, .bucket = "bkt", .owner = "alice"};
    obj_mpu_create_args m = {.bucket = "bkt", .key = "mp", .owner = "alice", .acl = "public-read"};
    obj_mpu_complete_args done = {.bucket = "bkt", .key = "mp"};
    obj_part_ref ref = {.number = 1};
    obj_part part;
    mem_stream body = mem_stream_of("x", 1);
    char id[64];

    put("src", "public-read", NULL);
    cr_assert_eq(obj_head(st, "bkt", "src", NULL, &src), 0);
    c.key = "plain";
    cr_assert_eq(obj_copy(st, &c, NULL), 0);
    c.key = "open";
    c.acl = "public-read-write";
    cr_assert_eq(obj_copy(st, &c, NULL), 0);
    obj_version_dispose(&src);
    cr_expect_str_eq(acl_of("plain", NULL), "", "the source's ACL is not copied");
    cr_expect_str_eq(acl_of("open", NULL), "public-read-write");

    cr_assert_eq(obj_mpu_create(st, &m, id), 0);
    cr_assert_eq(obj_mpu_put_part(st, "bkt", "mp", id, 1, &body.base, 1, NULL, NULL, &part), 0);
    snprintf(ref.etag, sizeof(ref.etag), "%s", part.etag);
    done.upload_id = id;
    done.parts = &ref;
    done.n = 1;
    cr_assert_eq(obj_mpu_complete(st, &done, NULL), 0);
    cr_expect_str_eq(acl_of("mp", NULL), "public-read");
    m.acl = "0123456789012345678901234567890123";
    cr_expect_eq(obj_mpu_create(st, &m, id), -CN_EINVALID_ARGUMENT);
}

/* A store made before version 6 gains the columns, and its rows read as
 * private and without a policy. */
Test(access, older_store_gains_the_columns)
{
    char db_path[200];
    sqlite3 *db = NULL;
    obj_bucket b;

    obj_store_close(st);
    snprintf(db_path, sizeof(db_path), "%s/meta.db", dir);
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "ALTER TABLE buckets DROP COLUMN acl; ALTER TABLE buckets DROP COLUMN policy;"
                              "ALTER TABLE buckets DROP COLUMN policy_gen; ALTER TABLE versions DROP COLUMN acl;"
                              "ALTER TABLE uploads DROP COLUMN acl; UPDATE meta_info SET v = 5 WHERE k = 'schema'",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    open_test_store(&st, dir, OBJ_INLINE_DEFAULT);
    cr_assert_eq(obj_bucket_get(st, "bkt", &b), 0);
    cr_expect_str_eq(b.acl, "");
    cr_expect_eq(b.policy_gen, 0);
    put("k", "public-read", NULL);
    cr_expect_str_eq(acl_of("k", NULL), "public-read");
}

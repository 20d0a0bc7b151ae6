/*
 * Unit tests of S3 versioning in the object layer (obj/versioning.c,
 * obj/version.c, obj/object.c, obj/list_versions.c): bucket state, version
 * ids, the null version in unversioned and suspended buckets, parent links,
 * delete markers, deleting one version (and its blob references), and
 * ListObjectVersions ordering and paging.
 */
#include <sqlite3.h>
#include <unistd.h>

#include "test_obj_helpers.h"

static char dir[128], blobs[160];
static obj_store *st;

static void setup(void)
{
    obj_config cfg = {.data_dir = dir, .region = "eu-test-1", .gc_grace_seconds = 1, .inline_max = OBJ_INLINE_OFF};

    make_tmpdir(dir, sizeof(dir));
    snprintf(blobs, sizeof(blobs), "%s/local0", dir); /* one shard of each blob */
    cr_assert_eq(obj_store_open(&st, &cfg), 0);
    cr_assert_eq(obj_bucket_create(st, "bkt", "alice", NULL), 0);
}

static void teardown(void)
{
    obj_store_close(st);
    st = NULL;
    rm_rf(dir);
}

TestSuite(ver, .init = setup, .fini = teardown);

static void set_state(obj_versioning s)
{
    cr_assert_eq(obj_bucket_versioning_set(st, "bkt", s), 0);
}

/* Puts a distinct body (its text) and returns the new version id. */
static void put_text(const char *key, const char *text, char vid[40])
{
    mem_stream m = mem_stream_of(text, strlen(text));
    obj_put_args a = {.bucket = "bkt", .key = key, .body = &m.base, .size = strlen(text), .owner = "alice"};
    obj_version v;

    cr_assert_eq(obj_put(st, &a, &v), 0);
    if (vid != NULL)
        snprintf(vid, 40, "%s", v.version_id);
    obj_version_dispose(&v);
}

/* The bytes of a version (latest when vid is NULL), NUL-terminated. */
static char *read_text(const char *key, const char *vid)
{
    obj_version v;
    cn_stream *s = NULL;
    char *buf = NULL;
    long n = 0;

    cr_assert_eq(obj_head(st, "bkt", key, vid, &v), 0);
    buf = calloc(1, v.size + 1);
    cr_assert_eq(obj_open(st, &v, 0, v.size, &s), 0);
    n = s->read(s, buf, v.size + 1);
    cr_assert_eq((uint64_t)n, v.size);
    s->close(s);
    obj_version_dispose(&v);
    return buf;
}

static void expect_text(const char *key, const char *vid, const char *want)
{
    char *got = read_text(key, vid);

    cr_expect_str_eq(got, want);
    free(got);
}

static int64_t parent_of(const char *key, const char *vid)
{
    char path[200];
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int64_t parent = -1;

    snprintf(path, sizeof(path), "%s/meta.db", dir);
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "SELECT coalesce(parent_vid, 0) FROM versions WHERE bucket = 'bkt' AND "
                                    "CAST(key AS TEXT) = ?1 AND version_id = ?2",
                                    -1, &q, NULL),
                 SQLITE_OK);
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, vid, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        parent = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return parent;
}

static int64_t row_of(const char *key, const char *vid)
{
    obj_version v;
    int64_t r = 0;
    int rc = obj_head(st, "bkt", key, vid, &v);

    cr_assert(rc == 0 || rc == -CN_EMETHOD_NOT_ALLOWED);
    r = v.vid;
    obj_version_dispose(&v);
    return r;
}

Test(ver, bucket_state)
{
    obj_bucket b;

    cr_assert_eq(obj_bucket_get(st, "bkt", &b), 0);
    cr_expect_eq(b.versioning, OBJ_VERSIONING_OFF);
    set_state(OBJ_VERSIONING_ENABLED);
    cr_assert_eq(obj_bucket_get(st, "bkt", &b), 0);
    cr_expect_eq(b.versioning, OBJ_VERSIONING_ENABLED);
    set_state(OBJ_VERSIONING_SUSPENDED);
    cr_assert_eq(obj_bucket_get(st, "bkt", &b), 0);
    cr_expect_eq(b.versioning, OBJ_VERSIONING_SUSPENDED);
    cr_expect_eq(obj_bucket_versioning_set(st, "bkt", OBJ_VERSIONING_OFF), -CN_EINVALID_ARGUMENT);
    cr_expect_eq(obj_bucket_versioning_set(st, "nobkt", OBJ_VERSIONING_ENABLED), -CN_ENO_BUCKET);
}

Test(ver, unversioned_writes_are_null)
{
    char v1[40], v2[40];

    put_text("k", "one", v1);
    put_text("k", "two", v2);
    cr_expect_str_eq(v1, "null");
    cr_expect_str_eq(v2, "null");
    expect_text("k", "null", "two");
    cr_expect_eq(provider_count(blobs), 2); /* the old blob is dead, not yet collected */
    usleep(1100 * 1000);
    cr_expect_eq(obj_gc(st), 1, "overwrite in an unversioned bucket released the old blob");
}

Test(ver, enabled_keeps_every_version_with_parents)
{
    char v1[40], v2[40], v3[40];
    size_t i = 0;

    set_state(OBJ_VERSIONING_ENABLED);
    put_text("k", "one", v1);
    put_text("k", "two", v2);
    put_text("k", "three", v3);
    cr_expect_eq(strlen(v1), 32);
    for (i = 0; i < 32; i++)
        cr_expect(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", v1[i]) != NULL);
    cr_expect_str_neq(v1, v2);
    cr_expect_str_neq(v2, v3);
    expect_text("k", NULL, "three");
    expect_text("k", v1, "one");
    expect_text("k", v2, "two");
    cr_expect_eq(parent_of("k", v1), 0);
    cr_expect_eq(parent_of("k", v2), row_of("k", v1));
    cr_expect_eq(parent_of("k", v3), row_of("k", v2));
    usleep(1100 * 1000);
    cr_expect_eq(obj_gc(st), 0, "an overwrite in an enabled bucket releases nothing");
    cr_expect_eq(provider_count(blobs), 3);
    cr_expect_eq(obj_head(st, "bkt", "k", "nosuchversion", &(obj_version){0}), -CN_ENO_VERSION);
}

Test(ver, suspended_replaces_only_the_null_version)
{
    char v1[40], n1[40], n2[40];
    obj_list_versions_args a = {.bucket = "bkt", .max_keys = 1000};
    obj_list_versions_result r;

    put_text("k", "null-before", NULL);
    set_state(OBJ_VERSIONING_ENABLED);
    put_text("k", "one", v1);
    set_state(OBJ_VERSIONING_SUSPENDED);
    put_text("k", "two", n1);
    put_text("k", "three", n2);
    cr_expect_str_eq(n1, "null");
    cr_expect_str_eq(n2, "null");
    expect_text("k", NULL, "three");
    expect_text("k", v1, "one");
    cr_assert_eq(obj_list_versions(st, &a, &r), 0);
    cr_assert_eq(r.n_items, 2, "the null version was replaced twice, v1 kept");
    cr_expect_str_eq(r.items[0].version_id, "null");
    cr_expect(r.items[0].is_latest);
    cr_expect_str_eq(r.items[1].version_id, v1);
    cr_expect(!r.items[1].is_latest);
    obj_list_versions_dispose(&r);
    usleep(1100 * 1000);
    cr_expect_eq(obj_gc(st), 2, "both replaced null versions released their blobs");
}

Test(ver, delete_marker_in_enabled_bucket)
{
    char v1[40], mk[40];
    obj_delete_result r;
    obj_version v;
    obj_list_args la = {.bucket = "bkt", .max_keys = 1000};
    obj_list_result lr;

    set_state(OBJ_VERSIONING_ENABLED);
    put_text("k", "one", v1);
    cr_assert_eq(obj_delete(st, "bkt", "k", NULL, &r), 0);
    cr_expect_eq(r.delete_marker, 1);
    cr_expect_eq(strlen(r.version_id), 32);
    snprintf(mk, sizeof(mk), "%s", r.version_id);
    cr_expect_eq(obj_head(st, "bkt", "k", NULL, &v), -CN_ENO_KEY);
    cr_expect(v.delete_marker);
    cr_expect_str_eq(v.version_id, mk);
    obj_version_dispose(&v);
    cr_expect_eq(obj_head(st, "bkt", "k", mk, &v), -CN_EMETHOD_NOT_ALLOWED);
    cr_expect(v.delete_marker);
    cr_expect_gt(v.mtime_ms, 0);
    obj_version_dispose(&v);
    cr_expect_eq(parent_of("k", mk), row_of("k", v1), "a marker's parent is the version it hides");
    cr_assert_eq(obj_list(st, &la, &lr), 0);
    cr_expect_eq(lr.n_items, 0, "a key behind a marker is not listed");
    obj_list_dispose(&lr);
    expect_text("k", v1, "one");
    /* removing the marker brings the version back */
    cr_assert_eq(obj_delete(st, "bkt", "k", mk, &r), 0);
    cr_expect_eq(r.delete_marker, 1);
    cr_expect_str_eq(r.version_id, mk);
    expect_text("k", NULL, "one");
    /* a marker is made even when the key has no version */
    cr_assert_eq(obj_delete(st, "bkt", "never", NULL, &r), 0);
    cr_expect_eq(r.delete_marker, 1);
}

Test(ver, delete_version_releases_its_blob)
{
    char v1[40], v2[40], v3[40];
    obj_delete_result r;

    set_state(OBJ_VERSIONING_ENABLED);
    put_text("k", "one", v1);
    put_text("k", "two", v2);
    put_text("k", "three", v3);
    cr_assert_eq(obj_delete(st, "bkt", "k", v1, &r), 0);
    cr_expect_eq(r.delete_marker, 0);
    cr_expect_str_eq(r.version_id, v1);
    cr_expect_eq(obj_head(st, "bkt", "k", v1, &(obj_version){0}), -CN_ENO_VERSION);
    expect_text("k", NULL, "three");
    /* the latest goes: the next newest becomes latest */
    cr_assert_eq(obj_delete(st, "bkt", "k", v3, &r), 0);
    expect_text("k", NULL, "two");
    cr_expect_eq(obj_delete(st, "bkt", "k", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r), -CN_ENO_VERSION);
    cr_expect_eq(obj_delete(st, "bkt", "k", "null", &r), 0, "a missing null version is no error");
    usleep(1100 * 1000);
    cr_expect_eq(obj_gc(st), 2);
    cr_expect_eq(provider_count(blobs), 1);
}

Test(ver, suspended_delete_makes_null_marker)
{
    char v1[40];
    obj_delete_result r;
    obj_version v;

    put_text("k", "null-body", NULL);
    set_state(OBJ_VERSIONING_ENABLED);
    put_text("k", "one", v1);
    set_state(OBJ_VERSIONING_SUSPENDED);
    put_text("k", "two", NULL); /* replaces the first null version */
    cr_assert_eq(obj_delete(st, "bkt", "k", NULL, &r), 0);
    cr_expect_eq(r.delete_marker, 1);
    cr_expect_str_eq(r.version_id, "null");
    cr_expect_eq(obj_head(st, "bkt", "k", "null", &v), -CN_EMETHOD_NOT_ALLOWED);
    obj_version_dispose(&v);
    expect_text("k", v1, "one");
    usleep(1100 * 1000);
    cr_expect_eq(obj_gc(st), 2, "both null versions were released");
    cr_expect_eq(provider_count(blobs), 1);
}

Test(ver, copy_from_an_old_version)
{
    char v1[40], v2[40];
    obj_version src, out;
    obj_copy_args ca = {.bucket = "bkt", .key = "dst", .owner = "alice"};

    set_state(OBJ_VERSIONING_ENABLED);
    put_text("k", "one", v1);
    put_text("k", "two", v2);
    cr_assert_eq(obj_head(st, "bkt", "k", v1, &src), 0);
    ca.src = &src;
    cr_assert_eq(obj_copy(st, &ca, &out), 0);
    cr_expect_eq(strlen(out.version_id), 32);
    cr_expect_str_neq(out.version_id, v1);
    expect_text("dst", NULL, "one");
    obj_version_dispose(&src);
    obj_version_dispose(&out);
}

Test(ver, tags_by_version)
{
    char v1[40], v2[40], mk[40];
    obj_tag tag = {"t", "old"};
    obj_tags t = {&tag, 1}, got;
    obj_delete_result r;

    set_state(OBJ_VERSIONING_ENABLED);
    put_text("k", "one", v1);
    put_text("k", "two", v2);
    cr_assert_eq(obj_tags_put(st, "bkt", "k", v1, &t), 0);
    cr_assert_eq(obj_tags_get(st, "bkt", "k", v1, &got), 0);
    cr_expect_eq(got.n, 1);
    obj_tags_dispose(&got);
    cr_assert_eq(obj_tags_get(st, "bkt", "k", NULL, &got), 0);
    cr_expect_eq(got.n, 0, "the latest version has its own tags");
    obj_tags_dispose(&got);
    cr_assert_eq(obj_delete(st, "bkt", "k", NULL, &r), 0);
    snprintf(mk, sizeof(mk), "%s", r.version_id);
    cr_expect_eq(obj_tags_get(st, "bkt", "k", mk, &got), -CN_EMETHOD_NOT_ALLOWED);
    cr_expect_eq(obj_tags_get(st, "bkt", "k", "nope", &got), -CN_ENO_VERSION);
}

/* Keys: "a" three versions then a marker, "b/x", "b/y", "c". */
static void fill_listing(char a_ids[4][40])
{
    obj_delete_result r;

    set_state(OBJ_VERSIONING_ENABLED);
    put_text("a", "1", a_ids[3]);
    put_text("a", "2", a_ids[2]);
    put_text("a", "3", a_ids[1]);
    cr_assert_eq(obj_delete(st, "bkt", "a", NULL, &r), 0);
    snprintf(a_ids[0], 40, "%s", r.version_id);
    put_text("b/x", "x", NULL);
    put_text("b/y", "y", NULL);
    put_text("c", "c", NULL);
}

Test(ver, list_versions_order)
{
    char a_ids[4][40];
    obj_list_versions_args a = {.bucket = "bkt", .max_keys = 1000};
    obj_list_versions_result r;
    size_t i = 0;

    fill_listing(a_ids);
    cr_assert_eq(obj_list_versions(st, &a, &r), 0);
    cr_assert_eq(r.n_items, 7);
    for (i = 0; i < 4; i++) {
        cr_expect_str_eq(r.items[i].key, "a");
        cr_expect_str_eq(r.items[i].version_id, a_ids[i], "newest first");
        cr_expect_eq(r.items[i].is_latest, i == 0);
        cr_expect_eq(r.items[i].delete_marker, i == 0);
    }
    cr_expect_str_eq(r.items[4].key, "b/x");
    cr_expect_str_eq(r.items[6].key, "c");
    cr_expect(r.items[6].is_latest);
    cr_expect(!r.truncated);
    obj_list_versions_dispose(&r);
    a.delimiter = "/";
    cr_assert_eq(obj_list_versions(st, &a, &r), 0);
    cr_expect_eq(r.n_items, 5);
    cr_assert_eq(r.n_prefixes, 1);
    cr_expect_str_eq(r.prefixes[0], "b/");
    obj_list_versions_dispose(&r);
    a.delimiter = NULL;
    a.prefix = "b/";
    cr_assert_eq(obj_list_versions(st, &a, &r), 0);
    cr_expect_eq(r.n_items, 2);
    obj_list_versions_dispose(&r);
}

Test(ver, list_versions_paging)
{
    char a_ids[4][40], km[64] = "", vm[40] = "";
    obj_list_versions_args a = {.bucket = "bkt", .max_keys = 3};
    obj_list_versions_result r;
    int seen = 0, pages = 0;

    fill_listing(a_ids);
    do {
        a.key_marker = km[0] != '\0' ? km : NULL;
        a.version_id_marker = vm[0] != '\0' ? vm : NULL;
        cr_assert_eq(obj_list_versions(st, &a, &r), 0);
        seen += (int)r.n_items;
        pages++;
        if (pages == 1) {
            cr_expect(r.truncated);
            cr_expect_str_eq(r.next_key_marker, "a");
            cr_expect_str_eq(r.next_version_id_marker, a_ids[2]);
        }
        if (pages == 2)
            cr_expect_str_eq(r.items[0].version_id, a_ids[3], "resumes at the next older version");
        snprintf(km, sizeof(km), "%s", r.next_key_marker != NULL ? r.next_key_marker : "");
        snprintf(vm, sizeof(vm), "%s", r.next_version_id_marker != NULL ? r.next_version_id_marker : "");
        obj_list_versions_dispose(&r);
    } while (km[0] != '\0' && pages < 10);
    cr_expect_eq(seen, 7);
    cr_expect_eq(pages, 3);
    /* key-marker alone skips every version of that key */
    a.key_marker = "a";
    a.version_id_marker = NULL;
    a.max_keys = 1000;
    cr_assert_eq(obj_list_versions(st, &a, &r), 0);
    cr_expect_eq(r.n_items, 3);
    obj_list_versions_dispose(&r);
    a.version_id_marker = "unknown";
    cr_expect_eq(obj_list_versions(st, &a, &r), -CN_EINVALID_ARGUMENT);
}

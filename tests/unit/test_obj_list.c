/*
 * Unit tests of obj_list (obj/list.c) and obj_mpu_list (obj/mpu_list.c):
 * prefix, delimiter, max-keys, start-after, truncation and markers, binary
 * key order, and paging through common prefixes.
 */
#include "test_obj_helpers.h"

static char dir[128];
static obj_store *st;

static void setup(void)
{
    setup_test_store(&st, dir, sizeof(dir), NULL, 0, 0);
}

static void teardown(void)
{
    teardown_test_store(&st, dir);
}

TestSuite(list, .init = setup, .fini = teardown);

static void put_keys(const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mem_stream m = mem_stream_of("x", 1);
        obj_put_args a = {.bucket = "bkt", .key = keys[i], .body = &m.base, .size = 1};
        cr_assert_eq(obj_put(st, &a, NULL), 0, "%s", keys[i]);
    }
}

/* Renders a result as "k1,k2,[p1],[p2]|T:marker" for compact assertions. */
static void render(const obj_list_result *r, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < r->n_items; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s,", r->items[i].key);
    for (size_t i = 0; i < r->n_prefixes; i++)
        n += (size_t)snprintf(out + n, cap - n, "[%s],", r->prefixes[i]);
    if (r->truncated)
        snprintf(out + n, cap - n, "|T:%s", r->next_marker != NULL ? r->next_marker : "(null)");
}

static void expect(const char *prefix, const char *delim, const char *after, int max, const char *want)
{
    obj_list_args a = {.bucket = "bkt", .prefix = prefix, .delimiter = delim, .start_after = after, .max_keys = max};
    obj_list_result r;
    char got[2048];

    cr_assert_eq(obj_list(st, &a, &r), 0);
    render(&r, got, sizeof(got));
    cr_assert_str_eq(got, want, "prefix=%s delim=%s after=%s max=%d", prefix, delim, after, max);
    obj_list_dispose(&r);
}

static const char *const keys[] = {"a/1",
                                   "a/2",
                                   "a/b/c",
                                   "b",
                                   "c/x",
                                   "c/y/z",
                                   "d",
                                   "photos/2024/jan.jpg",
                                   "photos/2024/feb.jpg",
                                   "photos/2025/mar.jpg",
                                   "photos/readme"};

Test(list, plain_and_prefix)
{
    put_keys(keys, sizeof(keys) / sizeof(keys[0]));
    expect(NULL, NULL, NULL, 1000,
           "a/1,a/2,a/b/c,b,c/x,c/y/z,d,photos/2024/feb.jpg,photos/2024/jan.jpg,photos/2025/mar.jpg,photos/readme,");
    expect("a/", NULL, NULL, 1000, "a/1,a/2,a/b/c,");
    expect("photos/2024/", NULL, NULL, 1000, "photos/2024/feb.jpg,photos/2024/jan.jpg,");
    expect("zzz", NULL, NULL, 1000, "");
}

Test(list, delimiter)
{
    put_keys(keys, sizeof(keys) / sizeof(keys[0]));
    expect(NULL, "/", NULL, 1000, "b,d,[a/],[c/],[photos/],");
    expect("photos/", "/", NULL, 1000, "photos/readme,[photos/2024/],[photos/2025/],");
    expect("a/", "/", NULL, 1000, "a/1,a/2,[a/b/],");
    expect(NULL, "/2024/", NULL, 1000, "a/1,a/2,a/b/c,b,c/x,c/y/z,d,photos/2025/mar.jpg,photos/readme,[photos/2024/],");
}

Test(list, max_keys_and_markers)
{
    put_keys(keys, sizeof(keys) / sizeof(keys[0]));
    expect(NULL, NULL, NULL, 2, "a/1,a/2,|T:a/2");
    expect(NULL, NULL, "a/2", 2, "a/b/c,b,|T:b");
    expect(NULL, "/", NULL, 2, "b,[a/],|T:b");
    expect(NULL, "/", "b", 2, "d,[c/],|T:d"); /* items render first: d is an item, c/ a prefix */
    expect(NULL, "/", "d", 2, "[photos/],");
    expect(NULL, "/", "a/", 1000, "b,d,[c/],[photos/],"); /* a prefix as marker skips it all */
    expect(NULL, NULL, "photos/readme", 10, "");
    expect(NULL, NULL, NULL, 0, "");
    expect(NULL, NULL, NULL, 11,
           "a/1,a/2,a/b/c,b,c/x,c/y/z,d,photos/2024/feb.jpg,photos/2024/jan.jpg,photos/2025/mar.jpg,photos/readme,");
}

/* Paging one key (or prefix) at a time visits everything exactly once. */
Test(list, paging_with_delimiter)
{
    const char *want[] = {"a/", "b", "c/", "d", "photos/"};
    obj_list_args a = {.bucket = "bkt", .delimiter = "/", .max_keys = 1};
    char marker[128] = "";
    size_t seen = 0;

    put_keys(keys, sizeof(keys) / sizeof(keys[0]));
    for (;;) {
        obj_list_result r;
        a.start_after = marker[0] != '\0' ? marker : NULL;
        cr_assert_eq(obj_list(st, &a, &r), 0);
        cr_assert_eq(r.n_items + r.n_prefixes, 1);
        cr_assert_lt(seen, 5);
        cr_assert_str_eq(r.n_items ? r.items[0].key : r.prefixes[0], want[seen]);
        seen++;
        if (!r.truncated) {
            obj_list_dispose(&r);
            break;
        }
        snprintf(marker, sizeof(marker), "%s", r.next_marker);
        obj_list_dispose(&r);
    }
    cr_assert_eq(seen, 5);
}

Test(list, binary_order)
{
    static const char *const k[] = {"b", "a\xc3\xa9", "aZ", "a", "a~", "A"};

    put_keys(k, sizeof(k) / sizeof(k[0]));
    expect(NULL, NULL, NULL, 1000, "A,a,aZ,a~,a\xc3\xa9,b,");
    expect("a", NULL, "a", 1000, "aZ,a~,a\xc3\xa9,");
}

Test(list, many_keys_under_prefix)
{
    char key[32];

    for (int i = 0; i < 300; i++) {
        mem_stream m = mem_stream_of("x", 1);
        obj_put_args a = {.bucket = "bkt", .key = key, .body = &m.base, .size = 1};
        snprintf(key, sizeof(key), "big/%04d", i);
        cr_assert_eq(obj_put(st, &a, NULL), 0);
    }
    put_keys((const char *const[]){"z"}, 1);
    expect(NULL, "/", NULL, 1000, "z,[big/],");
    expect("big/", "/", "big/0297", 1000, "big/0298,big/0299,");
}

Test(list, deleted_keys_hidden)
{
    put_keys(keys, 4);
    cr_assert_eq(obj_delete(st, "bkt", "a/2", NULL, NULL), 0);
    expect(NULL, NULL, NULL, 1000, "a/1,a/b/c,b,");
}

Test(list, no_bucket)
{
    obj_list_args a = {.bucket = "nobkt", .max_keys = 10};
    obj_list_result r;

    cr_assert_eq(obj_list(st, &a, &r), -CN_ENO_BUCKET);
}

static void render_uploads(const obj_mpu_list_result *r, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < r->n; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s,", r->uploads[i].key);
    for (size_t i = 0; i < r->n_prefixes; i++)
        n += (size_t)snprintf(out + n, cap - n, "[%s],", r->prefixes[i]);
    if (r->truncated)
        snprintf(out + n, cap - n, "|T:%s", r->next_key_marker);
}

Test(list, uploads)
{
    static const char *const k[] = {"x/1", "x/2", "y", "y", "z/q/1"};
    char ids[5][64], got[512];
    obj_mpu_list_result r;
    obj_mpu_list_args a = {.bucket = "bkt", .max_uploads = 1000};

    for (int i = 0; i < 5; i++) {
        obj_mpu_create_args c = {.bucket = "bkt", .key = k[i], .owner = "alice"};
        cr_assert_eq(obj_mpu_create(st, &c, ids[i]), 0);
    }
    cr_assert_eq(obj_mpu_list(st, &a, &r), 0);
    render_uploads(&r, got, sizeof(got));
    cr_assert_str_eq(got, "x/1,x/2,y,y,z/q/1,");
    cr_assert_str_eq(r.uploads[0].owner, "alice");
    cr_assert_str_eq(r.uploads[0].storage_class, "STANDARD");
    obj_mpu_list_dispose(&r);

    a.delimiter = "/";
    cr_assert_eq(obj_mpu_list(st, &a, &r), 0);
    render_uploads(&r, got, sizeof(got));
    cr_assert_str_eq(got, "y,y,[x/],[z/],");
    obj_mpu_list_dispose(&r);

    /* page through the two uploads of "y" with the upload-id marker */
    a.delimiter = NULL;
    a.max_uploads = 3;
    cr_assert_eq(obj_mpu_list(st, &a, &r), 0);
    cr_assert_eq(r.n, 3);
    cr_assert(r.truncated);
    cr_assert_str_eq(r.next_key_marker, "y");
    a.key_marker = "y";
    a.upload_id_marker = r.next_upload_id_marker;
    {
        obj_mpu_list_result r2;
        cr_assert_eq(obj_mpu_list(st, &a, &r2), 0);
        render_uploads(&r2, got, sizeof(got));
        cr_assert_str_eq(got, "y,z/q/1,");
        cr_assert_str_neq(r2.uploads[0].upload_id, r.uploads[2].upload_id);
        obj_mpu_list_dispose(&r2);
    }
    obj_mpu_list_dispose(&r);

    a.key_marker = "x/2";
    a.upload_id_marker = NULL;
    a.prefix = "y";
    a.max_uploads = 1000;
    cr_assert_eq(obj_mpu_list(st, &a, &r), 0);
    render_uploads(&r, got, sizeof(got));
    cr_assert_str_eq(got, "y,y,");
    obj_mpu_list_dispose(&r);
}

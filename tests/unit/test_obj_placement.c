/*
 * Placements through the object layer (obj/blob.c, obj/bucket.c): a storage
 * class picks the providers, a bucket's default placement applies when none
 * is named, unknown classes are refused, and dedupe stays within a class.
 * Two placements: STANDARD (2+1 over p0..p2) and COLD (r2 over c0, c1).
 */
#include "test_obj_helpers.h"

static char dir[128], path[5][200];
static obj_store *st;
static const char *const ids[] = {"p0", "p1", "p2", "c0", "c1"};

static void open_placed(void)
{
    be_option opt[5];
    seal_provider_cfg prov[5];
    const char *std_p[] = {"p0", "p1", "p2"}, *cold_p[] = {"c0", "c1"};
    seal_class_cfg cls[2] = {
        {.name = "STANDARD", .scheme = "2+1", .providers = std_p, .n_providers = 3, .segment_size = 4096},
        {.name = "COLD", .scheme = "r2", .providers = cold_p, .n_providers = 2},
    };
    seal_config sc = {.providers = prov, .n_providers = 5, .classes = cls, .n_classes = 2};
    obj_config cfg = {.data_dir = dir, .region = "eu-test-1", .seal = &sc, .inline_max = 1024};

    for (int i = 0; i < 5; i++) {
        snprintf(path[i], sizeof(path[i]), "%s/%s", dir, ids[i]);
        opt[i] = (be_option){.key = "path", .value = path[i]};
        prov[i] = (seal_provider_cfg){.id = ids[i], .driver = "posix", .opts = &opt[i], .n_opts = 1};
    }
    cr_assert_eq(obj_store_open(&st, &cfg), 0);
}

static void setup(void)
{
    make_tmpdir(dir, sizeof(dir));
    open_placed();
    cr_assert_eq(obj_bucket_create(st, "bkt", "alice", NULL), 0);
}

static void teardown(void)
{
    obj_store_close(st);
    rm_rf(dir);
}

TestSuite(placement, .init = setup, .fini = teardown);

static int put(const char *key, const uint8_t *data, size_t n, const char *sc)
{
    mem_stream m = mem_stream_of(data, n);
    obj_put_args a = {.bucket = "bkt", .key = key, .body = &m.base, .size = n, .storage_class = sc};

    return obj_put(st, &a, NULL);
}

static void expect_body(const char *key, const uint8_t *want, size_t n)
{
    obj_version v;
    cn_stream *s = NULL;
    uint8_t *got = malloc(n);
    size_t done = 0;

    cr_assert_eq(obj_head(st, "bkt", key, NULL, &v), 0);
    cr_assert_eq(obj_open(st, &v, 0, n, &s), 0);
    while (done < n) {
        long r = s->read(s, got + done, n - done);
        cr_assert_gt(r, 0);
        done += (size_t)r;
    }
    cr_assert_arr_eq(got, want, n);
    s->close(s);
    obj_version_dispose(&v);
    free(got);
}

Test(placement, class_picks_providers)
{
    uint8_t *a = pattern(20000, 1), *b = pattern(20000, 2);

    cr_assert_eq(put("std", a, 20000, NULL), 0);
    cr_assert_eq(put("cold", b, 20000, "COLD"), 0);
    cr_expect_eq(provider_count(path[0]), 1);
    cr_expect_eq(provider_count(path[2]), 1);
    cr_expect_eq(provider_count(path[3]), 1);
    cr_expect_eq(provider_count(path[4]), 1);
    expect_body("std", a, 20000);
    expect_body("cold", b, 20000);
    free(a);
    free(b);
}

Test(placement, unknown_class_refused_and_nothing_stored)
{
    uint8_t *a = pattern(20000, 3);

    cr_assert_eq(put("k", a, 20000, "GLACIER"), -CN_EINVALID_STORAGE_CLASS);
    cr_assert_eq(put("small", a, 10, "GLACIER"), -CN_EINVALID_STORAGE_CLASS);
    for (int i = 0; i < 5; i++)
        cr_expect_eq(provider_count(path[i]), 0);
    cr_assert_eq(obj_storage_class_valid(st, "COLD"), 0);
    cr_assert_eq(obj_storage_class_valid(st, "STANDARD"), 0);
    cr_assert_eq(obj_storage_class_valid(st, "cold"), -CN_EINVALID_STORAGE_CLASS);
    free(a);
}

Test(placement, bucket_default)
{
    uint8_t *a = pattern(9000, 4), *b = pattern(9000, 5);

    cr_assert_eq(obj_bucket_placement_set(st, "bkt", "NOPE"), -CN_EINVALID_STORAGE_CLASS);
    cr_assert_eq(obj_bucket_placement_set(st, "nobucket", "COLD"), -CN_ENO_BUCKET);
    cr_assert_eq(obj_bucket_placement_set(st, "bkt", "COLD"), 0);
    cr_assert_eq(put("a", a, 9000, NULL), 0);
    cr_expect_eq(provider_count(path[3]), 1, "no class named: the bucket's placement");
    cr_expect_eq(provider_count(path[0]), 0);
    cr_assert_eq(obj_bucket_placement_set(st, "bkt", "STANDARD"), 0);
    cr_assert_eq(put("b", b, 9000, NULL), 0);
    cr_expect_eq(provider_count(path[0]), 1, "STANDARD restores the store's default");
    expect_body("a", a, 9000);
    expect_body("b", b, 9000);
    free(a);
    free(b);
}

Test(placement, dedupe_within_a_class_only)
{
    uint8_t *a = pattern(30000, 6);

    cr_assert_eq(put("x", a, 30000, NULL), 0);
    cr_assert_eq(put("y", a, 30000, NULL), 0);
    cr_expect_eq(provider_count(path[0]), 1, "identical bodies in one class share a blob");
    cr_assert_eq(put("z", a, 30000, "COLD"), 0);
    cr_expect_eq(provider_count(path[3]), 1, "another class gets its own copy");
    expect_body("z", a, 30000);
    free(a);
}

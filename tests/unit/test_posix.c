/*
 * Unit tests of backends/posix.c and backends/registry.c: put/get/range,
 * streams that end early or fail, name validation, delete, list, sweep.
 */
#include <sys/stat.h>

#include "test_obj_helpers.h"

static char dir[128];
static be_provider *prov;

static void setup(void)
{
    be_option o = {.key = "path", .value = NULL};

    make_tmpdir(dir, sizeof(dir));
    o.value = dir;
    cr_assert_eq(be_posix_driver.create(&prov, "t", &o, 1), 0);
}

static void teardown(void)
{
    if (prov != NULL)
        prov->driver->destroy(prov);
    prov = NULL;
    rm_rf(dir);
}

static char tmpdir_path[160];

static const char *tmp_sub(void)
{
    snprintf(tmpdir_path, sizeof(tmpdir_path), "%s/tmp", dir);
    return tmpdir_path;
}

TestSuite(posix, .init = setup, .fini = teardown);

Test(posix, registry)
{
    cr_assert_eq(be_driver_find("posix"), &be_posix_driver);
    cr_assert_null(be_driver_find("nope"));
    cr_assert_null(be_driver_find(NULL));
}

Test(posix, put_get_range)
{
    size_t n = (3u << 20) + 17; /* several 1 MiB copy chunks plus a tail */
    uint8_t *data = pattern(n, 1), *back = malloc(n);
    mem_stream m = mem_stream_of(data, n);

    m.chunk = 70000; /* odd-sized reads from the stream */
    cr_assert_eq(prov->driver->put(prov, "abcdef0123", &m.base, n), 0);
    cr_assert_eq(prov->driver->get(prov, "abcdef0123", 0, back, n), 0);
    cr_assert_eq(memcmp(back, data, n), 0);
    cr_assert_eq(prov->driver->get(prov, "abcdef0123", 1000, back, 5000), 0);
    cr_assert_eq(memcmp(back, data + 1000, 5000), 0);
    /* past the end: never silently short */
    cr_assert_eq(prov->driver->get(prov, "abcdef0123", n - 10, back, 11), -CN_EIO);
    cr_assert_eq(prov->driver->get(prov, "missing", 0, back, 1), -CN_EIO);
    cr_assert_eq(dir_entries(tmp_sub()), 0);
    free(data);
    free(back);
}

Test(posix, fanout_layout)
{
    mem_stream m = mem_stream_of("xyz", 3);
    char cmd[512];

    cr_assert_eq(prov->driver->put(prov, "some/name", &m.base, 3), 0);
    /* data/<2 hex>/<2 hex>/some~name and nothing else */
    snprintf(cmd, sizeof(cmd), "test -f \"$(ls -d %s/data/[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f])/some~name\"", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(posix, put_replaces)
{
    mem_stream a = mem_stream_of("first", 5), b = mem_stream_of("second", 6);
    char buf[6];

    cr_assert_eq(prov->driver->put(prov, "k", &a.base, 5), 0);
    cr_assert_eq(prov->driver->put(prov, "k", &b.base, 6), 0);
    cr_assert_eq(prov->driver->get(prov, "k", 0, buf, 6), 0);
    cr_assert_eq(memcmp(buf, "second", 6), 0);
}

Test(posix, short_stream)
{
    mem_stream m = mem_stream_of("12345", 5);
    char buf[1];

    cr_assert_eq(prov->driver->put(prov, "short", &m.base, 10), -CN_EINCOMPLETE_BODY);
    cr_assert_eq(prov->driver->get(prov, "short", 0, buf, 1), -CN_EIO);
    cr_assert_eq(dir_entries(tmp_sub()), 0, "temporary left behind");
}

Test(posix, stream_error_wins)
{
    uint8_t *data = pattern(1 << 20, 2);
    mem_stream m = mem_stream_of(data, 1 << 20);
    char buf[1];

    m.fail_at = 4096;
    m.fail_rc = -CN_ESIGNATURE;
    cr_assert_eq(prov->driver->put(prov, "bad", &m.base, 1 << 20), -CN_ESIGNATURE);
    cr_assert_eq(prov->driver->get(prov, "bad", 0, buf, 1), -CN_EIO);
    cr_assert_eq(dir_entries(tmp_sub()), 0);
    free(data);
}

Test(posix, names_rejected)
{
    static const char *const bad[] = {"",          "../x", "a/../b", "a..b",     "/abs",  "sp ace",
                                      "new\nline", "q?",   ".",      "percent%", "tilde~"};
    char buf[1];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mem_stream m = mem_stream_of("x", 1);
        cr_assert_eq(prov->driver->put(prov, bad[i], &m.base, 1), -CN_EINVALID_ARGUMENT, "accepted '%s'", bad[i]);
        cr_assert_eq(prov->driver->get(prov, bad[i], 0, buf, 1), -CN_EINVALID_ARGUMENT);
        cr_assert_eq(prov->driver->del(prov, bad[i]), -CN_EINVALID_ARGUMENT);
    }
    {
        mem_stream m = mem_stream_of("x", 1);
        cr_assert_eq(prov->driver->put(prov, "Ok.name_-/x", &m.base, 1), 0);
    }
}

Test(posix, delete_idempotent)
{
    mem_stream m = mem_stream_of("abc", 3);
    char buf[3];

    cr_assert_eq(prov->driver->put(prov, "d", &m.base, 3), 0);
    cr_assert_eq(prov->driver->del(prov, "d"), 0);
    cr_assert_eq(prov->driver->get(prov, "d", 0, buf, 3), -CN_EIO);
    cr_assert_eq(prov->driver->del(prov, "d"), 0);
}

static int collect_cb(void *arg, const char *name, uint64_t size)
{
    char *acc = arg;

    strcat(acc, name);
    strcat(acc, size == 2 ? "=2;" : "=?;");
    return 0;
}

Test(posix, list_prefix)
{
    static const char *const names[] = {"aa1", "aa2", "b/c"};
    char acc[256] = "";

    for (size_t i = 0; i < 3; i++) {
        mem_stream m = mem_stream_of("zz", 2);
        cr_assert_eq(prov->driver->put(prov, names[i], &m.base, 2), 0);
    }
    cr_assert_eq(prov->driver->list(prov, "b/", collect_cb, acc), 0);
    cr_assert_str_eq(acc, "b/c=2;");
    cr_assert_eq(provider_count(dir), 3);
}

Test(posix, sweep_and_health)
{
    char path[256];
    FILE *f = NULL;

    snprintf(path, sizeof(path), "%s/tmp/left.tmp", dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("partial", f);
    fclose(f);
    cr_assert_eq(dir_entries(tmp_sub()), 1);
    cr_assert_eq(prov->driver->sweep(prov), 0);
    cr_assert_eq(dir_entries(tmp_sub()), 0);
    cr_assert_eq(prov->driver->health(prov), 0);
}

Test(posix, create_needs_path)
{
    be_provider *p = NULL;

    cr_assert_eq(be_posix_driver.create(&p, "x", NULL, 0), -CN_EINVALID_ARGUMENT);
    cr_assert_null(p);
}

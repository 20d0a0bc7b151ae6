/*
 * Helpers shared by the object-layer and provider unit tests: a temp dir per
 * test, an in-memory cn_stream that can fail or end early, deterministic
 * data, and a count of provider objects. Header-only (static) so that every
 * test_*.c stays one self-contained binary.
 */
#ifndef CN_TEST_OBJ_HELPERS_H
#define CN_TEST_OBJ_HELPERS_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../backends/be.h"
#include "../../common/err.h"
#include "../../obj/obj.h"

typedef struct mem_stream {
    cn_stream base;
    const uint8_t *p;
    size_t len, pos;
    size_t fail_at; /* return fail_rc once pos reaches this (0: never) */
    int fail_rc;
    size_t chunk; /* max bytes per read (0: unlimited) */
} mem_stream;

static long mem_read(cn_stream *s, void *buf, size_t n)
{
    mem_stream *m = (mem_stream *)s;

    if (m->fail_at != 0 && m->pos >= m->fail_at)
        return m->fail_rc;
    if (m->chunk != 0 && n > m->chunk)
        n = m->chunk;
    if (m->fail_at != 0 && n > m->fail_at - m->pos)
        n = m->fail_at - m->pos;
    if (n > m->len - m->pos)
        n = m->len - m->pos;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (long)n;
}

static void mem_close(cn_stream *s)
{
    (void)s;
}

static inline mem_stream mem_stream_of(const void *p, size_t len)
{
    mem_stream m = {.base = {.read = mem_read, .close = mem_close}, .p = p, .len = len};
    return m;
}

static inline uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *b = malloc(n != 0 ? n : 1);
    uint32_t x = seed * 2654435761u + 1;

    cr_assert_not_null(b);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    return b;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void rm_rf(const char *dir)
{
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void make_tmpdir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/cairn_test_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static int count_cb(void *arg, const char *name, uint64_t size)
{
    (void)name;
    (void)size;
    (*(int *)arg)++;
    return 0;
}

/* Number of objects the posix provider under path holds. */
static inline int provider_count(const char *path)
{
    be_option o = {.key = "path", .value = path};
    be_provider *p = NULL;
    int n = 0;

    cr_assert_eq(be_posix_driver.create(&p, "count", &o, 1), 0);
    cr_assert_eq(p->driver->list(p, "", count_cb, &n), 0);
    p->driver->destroy(p);
    return n;
}

/* Number of entries in a directory (excluding . and ..). */
static inline int dir_entries(const char *path)
{
    char cmd[PATH_MAX + 64];
    FILE *f = NULL;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", path);
    f = popen(cmd, "r");
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%d", &n), 1);
    pclose(f);
    return n;
}

/* Opens (or reopens) the store in dir; inline_max as in obj_config. */
static inline void open_test_store(obj_store **st, const char *dir, uint64_t inline_max)
{
    obj_config cfg = {.data_dir = dir, .region = "eu-test-1", .gc_grace_seconds = 1, .inline_max = inline_max};

    cr_assert_eq(obj_store_open(st, &cfg), 0);
}

/* A fresh store in a new temporary directory, with bucket "bkt" owned by
 * alice. blobs (may be NULL) gets the directory of provider local0 of the
 * embedded default placement (RS 2+1): it holds one shard of every blob
 * that is not inline, so counting its objects counts blobs. */
static inline void setup_test_store(obj_store **st, char *dir, size_t dir_cap, char *blobs, size_t blobs_cap,
                                    uint64_t inline_max)
{
    make_tmpdir(dir, dir_cap);
    if (blobs != NULL)
        snprintf(blobs, blobs_cap, "%s/local0", dir);
    open_test_store(st, dir, inline_max);
    cr_assert_eq(obj_bucket_create(*st, "bkt", "alice", NULL), 0);
}

static inline void teardown_test_store(obj_store **st, const char *dir)
{
    obj_store_close(*st);
    *st = NULL;
    rm_rf(dir);
}

#endif

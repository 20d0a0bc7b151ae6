/*
 * test_rs: seal/rs.c, the erasure code of the sealing layer.
 *
 *  roundtrip: for each (k, m) below, random data (fixed seed) at lengths 1,
 *             31, 4096 and 65537; every pattern of 1..m lost fragments, data
 *             or parity, is overwritten with garbage, decoded with
 *             want = lost and compared byte for byte with the originals.
 *  limits:    m+1 lost fails with -CN_EIO and writes nothing; bad (k, m),
 *             NULL pointers where they are read or written, length 0; only
 *             the wanted fragments are written, the others may be NULL.
 *  k == 1:    parity fragments are byte copies.
 *  vectors:   tests/vectors/rs/ pins the parity bytes (the on-disk format);
 *             each file says how it was made. Run from the repository root.
 *  threads:   one code shared by several threads decoding at once.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/err.h"
#include "../../common/util.h"
#include "../../seal/rs.h"

#define N_MAX (SEAL_RS_MAX_K + SEAL_RS_MAX_M)
#define VEC_DIR "tests/vectors/rs"

static const int codes[][2] = {{1, 0}, {1, 1}, {1, 2}, {1, 3},  {2, 1}, {3, 2},
                               {4, 2}, {6, 3}, {8, 4}, {10, 4}, {16, 4}};
static const size_t lengths[] = {1, 31, 4096, 65537};

/* ---- a stripe: the encoded originals and a working copy ---- */

typedef struct stripe {
    int k, n;
    size_t len;
    uint8_t *orig[N_MAX], *work[N_MAX];
} stripe;

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint8_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

static seal_rs *code(int k, int m)
{
    seal_rs *rs = NULL;

    cr_assert_eq(seal_rs_create(&rs, k, m), 0, "create %d+%d", k, m);
    return rs;
}

static void stripe_init(stripe *s, const seal_rs *rs, size_t len)
{
    s->k = seal_rs_k(rs);
    s->n = s->k + seal_rs_m(rs);
    s->len = len;
    for (int i = 0; i < s->n; i++) {
        s->orig[i] = malloc(len);
        s->work[i] = malloc(len);
        cr_assert(s->orig[i] != NULL && s->work[i] != NULL);
        for (size_t b = 0; i < s->k && b < len; b++)
            s->orig[i][b] = rnd();
    }
    cr_assert_eq(seal_rs_encode(rs, len, s->orig), 0);
    for (int i = 0; i < s->n; i++)
        memcpy(s->work[i], s->orig[i], len);
}

static void stripe_free(stripe *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->orig[i]);
        free(s->work[i]);
    }
}

/* Overwrites the lost fragments with bytes that all differ from the originals. */
static void wipe(stripe *s, uint32_t lost)
{
    for (int i = 0; i < s->n; i++)
        for (size_t b = 0; (lost & (1u << i)) && b < s->len; b++)
            s->work[i][b] = (uint8_t)~s->orig[i][b];
}

/* Puts the originals back into the fragments in mask. */
static void restore(stripe *s, uint32_t mask)
{
    for (int i = 0; i < s->n; i++)
        if (mask & (1u << i))
            memcpy(s->work[i], s->orig[i], s->len);
}

/* Whether the fragments in mask still hold wipe()'s garbage. */
static int wiped(const stripe *s, uint32_t mask)
{
    for (int i = 0; i < s->n; i++)
        for (size_t b = 0; (mask & (1u << i)) && b < s->len; b++)
            if ((uint8_t)(s->work[i][b] ^ s->orig[i][b]) != 0xff)
                return 0;
    return 1;
}

/* Whether fragments in mask match the originals. */
static int same(const stripe *s, uint32_t mask)
{
    for (int i = 0; i < s->n; i++)
        if ((mask & (1u << i)) && memcmp(s->work[i], s->orig[i], s->len) != 0)
            return 0;
    return 1;
}

/* ---- every loss pattern the code must survive ---- */

static void roundtrip_len(const seal_rs *rs, int m, size_t len)
{
    stripe s;
    uint32_t all = 0;
    int patterns = 0;

    stripe_init(&s, rs, len);
    all = (1u << s.n) - 1;
    for (uint32_t lost = 1; lost <= all; lost++) {
        if (__builtin_popcount(lost) > m)
            continue;
        wipe(&s, lost);
        cr_assert_eq(seal_rs_decode(rs, len, s.work, all & ~lost, lost), 0, "lost %#x", lost);
        /* Checking the untouched fragments too costs a full compare per pattern: small lengths only. */
        cr_assert(same(&s, len <= 4096 ? all : lost), "%d+%d len %zu lost %#x", s.k, m, len, lost);
        patterns++;
    }
    cr_assert(m == 0 || patterns > 0);
    stripe_free(&s);
}

static void roundtrip(int k, int m)
{
    seal_rs *rs = code(k, m);

    for (size_t i = 0; i < CN_ARRAY_SIZE(lengths); i++)
        roundtrip_len(rs, m, lengths[i]);
    seal_rs_destroy(rs);
}

/* One Test per code, so that `--jobs` spreads them. */
#define ROUNDTRIP(k, m)                                                                                                \
    Test(rs, roundtrip_##k##_##m)                                                                                      \
    {                                                                                                                  \
        roundtrip(k, m);                                                                                               \
    }
ROUNDTRIP(1, 0)
ROUNDTRIP(1, 1)
ROUNDTRIP(1, 2)
ROUNDTRIP(1, 3)
ROUNDTRIP(2, 1)
ROUNDTRIP(3, 2)
ROUNDTRIP(4, 2)
ROUNDTRIP(6, 3)
ROUNDTRIP(8, 4)
ROUNDTRIP(10, 4)
ROUNDTRIP(16, 4)

/* ---- limits ---- */

Test(rs, too_many_lost_fails_and_writes_nothing)
{
    for (size_t c = 0; c < CN_ARRAY_SIZE(codes); c++) {
        int m = codes[c][1];
        seal_rs *rs = code(codes[c][0], m);
        stripe s;
        uint32_t all = 0;

        stripe_init(&s, rs, 64);
        all = (1u << s.n) - 1;
        for (uint32_t lost = 1; lost <= all; lost++) {
            if (__builtin_popcount(lost) != m + 1)
                continue;
            wipe(&s, lost);
            cr_assert_eq(seal_rs_decode(rs, s.len, s.work, all & ~lost, lost), -CN_EIO);
            cr_assert(same(&s, all & ~lost), "present fragments written, lost %#x", lost);
            cr_assert(wiped(&s, lost), "lost fragments written, lost %#x", lost);
            restore(&s, lost);
        }
        stripe_free(&s);
        seal_rs_destroy(rs);
    }
}

Test(rs, invalid_parameters)
{
    static const int bad[][2] = {{0, 0}, {0, 2}, {17, 0}, {17, 4}, {4, 5}, {-1, 2}, {4, -1}, {1, 5}};
    seal_rs *other = code(2, 1), *rs = NULL;

    for (size_t i = 0; i < CN_ARRAY_SIZE(bad); i++) {
        rs = other; /* create must reset *out on failure */
        cr_expect_eq(seal_rs_create(&rs, bad[i][0], bad[i][1]), -CN_EINVALID_ARGUMENT, "%d+%d", bad[i][0], bad[i][1]);
        cr_expect_null(rs);
    }
    cr_expect_eq(seal_rs_create(NULL, 4, 2), -CN_EINVALID_ARGUMENT);
    rs = code(16, 4);
    cr_expect_eq(seal_rs_k(rs), 16);
    cr_expect_eq(seal_rs_m(rs), 4);
    cr_expect_eq(seal_rs_encode(NULL, 1, NULL), -CN_EINVALID_ARGUMENT);
    cr_expect_eq(seal_rs_encode(rs, 1, NULL), -CN_EINVALID_ARGUMENT);
    cr_expect_eq(seal_rs_decode(NULL, 1, NULL, 0, 0), -CN_EINVALID_ARGUMENT);
    cr_expect_eq(seal_rs_decode(rs, 1, NULL, 0, 0), -CN_EINVALID_ARGUMENT);
    seal_rs_destroy(rs);
    seal_rs_destroy(other);
    seal_rs_destroy(NULL);
}

Test(rs, null_fragments_and_partial_want)
{
    seal_rs *rs = code(4, 2);
    stripe s;
    uint8_t *f[6];

    stripe_init(&s, rs, 100);
    memcpy(f, s.work, sizeof(f));
    f[5] = NULL;
    cr_expect_eq(seal_rs_encode(rs, s.len, f), -CN_EINVALID_ARGUMENT, "parity slot NULL");

    /* 1 and 4 lost, only 1 wanted: 4 may be NULL and is not touched. */
    wipe(&s, 0x12);
    f[4] = NULL;
    f[5] = s.work[5];
    cr_assert_eq(seal_rs_decode(rs, s.len, f, 0x2d, 0x02), 0);
    cr_expect(same(&s, 0x2f), "fragment 1 rebuilt, others untouched");
    cr_expect_eq(seal_rs_decode(rs, s.len, f, 0x2d, ~0u), -CN_EINVALID_ARGUMENT, "wanted fragment is NULL");

    /* Only k present fragments are read, data first: 5 may be NULL here. */
    f[4] = s.work[4];
    f[5] = NULL;
    wipe(&s, 0x10);
    cr_assert_eq(seal_rs_decode(rs, s.len, f, 0x2f, 0x10), 0);
    cr_expect(same(&s, 0x1f));

    /* Nothing lost, and bits above k+m ignored. */
    cr_expect_eq(seal_rs_decode(rs, s.len, s.work, ~0u, ~0u), 0);
    cr_expect(same(&s, 0x3f));
    stripe_free(&s);
    seal_rs_destroy(rs);
}

Test(rs, zero_length)
{
    seal_rs *rs = code(4, 2);
    uint8_t b[6][1] = {{0}}, *f[6];

    for (int i = 0; i < 6; i++)
        f[i] = b[i];
    cr_expect_eq(seal_rs_encode(rs, 0, f), 0);
    cr_expect_eq(seal_rs_decode(rs, 0, f, 0x3c, 0x03), 0);
    cr_expect_eq(seal_rs_decode(rs, 0, f, 0x38, 0x07), -CN_EIO);
    seal_rs_destroy(rs);
}

Test(rs, replication_parity_is_a_copy)
{
    for (int m = 1; m <= SEAL_RS_MAX_M; m++) {
        seal_rs *rs = code(1, m);
        stripe s;

        stripe_init(&s, rs, 4099);
        for (int i = 1; i <= m; i++)
            cr_expect_eq(memcmp(s.orig[i], s.orig[0], s.len), 0, "1+%d parity %d", m, i);
        stripe_free(&s);
        seal_rs_destroy(rs);
    }
}

/* ---- known answers ---- */

typedef struct vec {
    int k, m, nfrag;
    size_t len;
    uint8_t frag[N_MAX][64];
} vec;

static void vec_load(vec *v, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];

    cr_assert(f != NULL, "cannot read %s (run from the repository root)", path);
    memset(v, 0, sizeof(*v));
    while (fgets(line, sizeof(line), f) != NULL) {
        char *hex = strchr(line, ' ');
        int n = 0;

        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        cr_assert(hex != NULL, "%s: bad line %s", path, line);
        if (strncmp(line, "k: ", 3) == 0 || strncmp(line, "m: ", 3) == 0) {
            *(line[0] == 'k' ? &v->k : &v->m) = atoi(hex + 1);
            continue;
        }
        cr_assert(v->nfrag < N_MAX, "%s: too many fragments", path);
        n = cn_unhex(v->frag[v->nfrag++], sizeof(v->frag[0]), hex + 1, strlen(hex + 1));
        cr_assert(n > 0 && (v->len == 0 || (size_t)n == v->len), "%s: bad hex %s", path, line);
        v->len = (size_t)n;
    }
    fclose(f);
    cr_assert(v->k > 0 && v->nfrag == v->k + v->m, "%s: %d fragments for %d+%d", path, v->nfrag, v->k, v->m);
}

static void vec_check(const char *path)
{
    vec v;
    uint8_t buf[N_MAX][64], *f[N_MAX];
    seal_rs *rs = NULL;
    uint32_t lost = 0;

    vec_load(&v, path);
    rs = code(v.k, v.m);
    for (int i = 0; i < v.nfrag; i++) {
        f[i] = buf[i];
        memset(buf[i], i < v.k ? 0 : 0xee, sizeof(buf[i]));
        if (i < v.k)
            memcpy(buf[i], v.frag[i], v.len);
    }
    cr_assert_eq(seal_rs_encode(rs, v.len, f), 0);
    for (int i = v.k; i < v.nfrag; i++)
        cr_expect_eq(memcmp(buf[i], v.frag[i], v.len), 0, "%s: parity %d differs", path, i - v.k);
    /* The first min(k, m) data fragments rebuilt from what is left, parity included. */
    for (int i = 0; i < v.k && i < v.m; i++)
        lost |= 1u << i;
    for (int i = 0; i < v.k && i < v.m; i++)
        memset(buf[i], 0, v.len);
    cr_assert_eq(seal_rs_decode(rs, v.len, f, ((1u << v.nfrag) - 1) & ~lost, lost), 0);
    for (int i = 0; i < v.k; i++)
        cr_expect_eq(memcmp(buf[i], v.frag[i], v.len), 0, "%s: data %d not rebuilt", path, i);
    seal_rs_destroy(rs);
}

Test(rs, known_answer_vectors)
{
    DIR *d = opendir(VEC_DIR);
    struct dirent *e = NULL;
    char path[512];
    int n = 0;

    cr_assert(d != NULL, "cannot open %s (run from the repository root)", VEC_DIR);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", VEC_DIR, e->d_name);
        vec_check(path);
        n++;
    }
    closedir(d);
    cr_expect_geq(n, 4, "the k=4 m=2, 8+4, 16+4 and 1+2 vectors");
}

/* ---- many threads, one code ---- */

typedef struct worker {
    const seal_rs *rs;
    stripe s;
    uint32_t lost;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    uint32_t all = (1u << w->s.n) - 1;

    for (int round = 0; round < 200; round++) {
        wipe(&w->s, w->lost);
        if (seal_rs_decode(w->rs, w->s.len, w->s.work, all & ~w->lost, w->lost) != 0 || !same(&w->s, all))
            w->failures++;
    }
    return NULL;
}

Test(rs, shared_between_threads)
{
    static const uint32_t lost[] = {0x003, 0x300, 0x081, 0xc00}; /* data, parity, mixed, parity */
    seal_rs *rs = code(8, 4);
    worker w[CN_ARRAY_SIZE(lost)];
    pthread_t t[CN_ARRAY_SIZE(lost)];

    for (size_t i = 0; i < CN_ARRAY_SIZE(lost); i++) {
        w[i] = (worker){.rs = rs, .lost = lost[i]};
        stripe_init(&w[i].s, rs, 8192);
        cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (size_t i = 0; i < CN_ARRAY_SIZE(lost); i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(w[i].failures, 0, "thread %zu", i);
        stripe_free(&w[i].s);
    }
    seal_rs_destroy(rs);
}

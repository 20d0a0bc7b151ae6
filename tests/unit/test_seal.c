/*
 * test_seal: seal/, the sealing pipeline (vault, layouts, write, read,
 * verify, repair), over posix providers p0..p19, one directory each under a
 * temporary directory. Segments are 4 KiB to keep blobs small.
 *
 *  config:    seal_vault_create rejects unknown drivers, bad and duplicate
 *             ids, unknown providers, schemes that do not fit, k > 16,
 *             m > 4, quorums outside [k, k+m], segments outside [4K, 64M]
 *             and an unknown default class, with a reason naming the
 *             culprit; valid configurations pass.
 *  ref:       layouts survive format -> parse; garbage does not parse;
 *             rewrap moves a blob's key to a new master key.
 *  roundtrip: every scheme, sizes around the segment boundaries, the whole
 *             blob and ranges across segments, reads past the end.
 *  erasure:   every pattern of up to m lost shards reads back byte-exact,
 *             is reported, verified and repaired to the original bytes;
 *             m+1 lost fails without touching the caller's buffer.
 *  tamper:    flipped, truncated, extended, swapped and moved shards are
 *             skipped on read, found by verify and repaired byte for byte.
 *  quorum:    unwritable providers and failing sources.
 *  delete:    idempotent, with shards already missing, and past a provider
 *             that fails.
 *  verify:    empty plain blobs; wrapped keys bound to their locator.
 *  vector:    tests/vectors/seal/ pins the shard format and the layout text
 *             (run from the repository root); headers and fragments reject
 *             every single-bit flip.
 *
 * Read order: a fresh vault knows no latency, so a reader's first segment
 * tries shards in index order (data before parity) until k authenticate;
 * later segments follow measured latencies. Tests that predict which shards
 * a read reports reopen the vault first (tv_reopen) and predict only from
 * the first segment (tried_first).
 */
#include <glob.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "../../common/masterkey.h"
#include "../../common/util.h"
#include "../../seal/sealint.h"
#include "test_obj_helpers.h"

#define SEG 4096u
#define NPROV SEAL_MAX_SHARDS
#define MAX_CLS 8
#define VEC_FILE "tests/vectors/seal/shard-2p1-v1"

/* ---- a vault over posix directories ---- */

typedef struct tvault {
    char dir[64];
    char path[NPROV][128];
    char id[NPROV][24];
    const char *ids[NPROV];
    be_option opt[NPROV];
    seal_provider_cfg prov[NPROV];
    size_t n;
    seal_class_cfg cls[MAX_CLS];
    size_t ncls;
    cn_mkey *mk;
    seal_vault *v;
} tvault;

/* n providers p0..p<n-1> and a master key; no placement, no vault yet. */
static void tv_init(tvault *t, size_t n)
{
    memset(t, 0, sizeof(*t));
    make_tmpdir(t->dir, sizeof(t->dir));
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(t->path[i], sizeof(t->path[i]), "%s/p%zu", t->dir, i);
        snprintf(t->id[i], sizeof(t->id[i]), "p%zu", i);
        t->ids[i] = t->id[i];
        t->opt[i] = (be_option){.key = "path", .value = t->path[i]};
        t->prov[i] = (seal_provider_cfg){.id = t->id[i], .driver = "posix", .opts = &t->opt[i], .n_opts = 1};
    }
    cr_assert_eq(cn_mkey_generate(&t->mk), 0);
}

/* Placement name: scheme over the first nprov providers, 4 KiB segments. */
static void tv_class(tvault *t, const char *name, const char *scheme, size_t nprov, int quorum)
{
    cr_assert(t->ncls < MAX_CLS && nprov <= t->n);
    t->cls[t->ncls++] = (seal_class_cfg){.name = name,
                                         .scheme = scheme,
                                         .providers = t->ids,
                                         .n_providers = nprov,
                                         .segment_size = SEG,
                                         .quorum = quorum};
}

static void tv_open(tvault *t)
{
    seal_config cfg = {.providers = t->prov, .n_providers = t->n, .classes = t->cls, .n_classes = t->ncls};
    char err[256] = "";
    int rc = seal_vault_create(&t->v, &cfg, t->mk, 0, err, sizeof(err));

    cr_assert_eq(rc, 0, "vault: %d %s", rc, err);
}

/* A vault over n providers with the one placement "c". */
static void tv_setup(tvault *t, size_t n, const char *scheme, int quorum)
{
    tv_init(t, n);
    tv_class(t, "c", scheme, n, quorum);
    tv_open(t);
}

/* A new vault on the same providers: latencies start over. */
static void tv_reopen(tvault *t)
{
    seal_vault_destroy(t->v);
    t->v = NULL;
    tv_open(t);
}

static void tv_teardown(tvault *t)
{
    seal_vault_destroy(t->v);
    cn_mkey_destroy(t->mk);
    rm_rf(t->dir);
}

/* ---- blobs ---- */

static unsigned n_locators;

/* A fresh locator: 32 hex digits, as the object layer makes them. */
static void new_locator(char out[33])
{
    snprintf(out, 33, "b10b0000%024x", ++n_locators);
}

/* Puts size bytes of pattern(size, seed) as a new blob of placement cls,
 * every shard written; returns the bytes (the caller frees them). */
static uint8_t *put_blob(tvault *t, const char *cls, size_t size, unsigned seed, seal_ref *r)
{
    uint8_t *data = pattern(size, seed);
    mem_stream src = mem_stream_of(data, size);
    uint32_t missing = UINT32_MAX;
    char loc[33];
    int rc = 0;

    new_locator(loc);
    cr_assert_eq(seal_ref_new(t->v, cls, loc, size, r), 0);
    rc = seal_put(t->v, r, &src.base, &missing);
    cr_assert_eq(rc, 0, "put %s, %zu bytes: %d", cls, size, rc);
    cr_assert_eq(missing, 0, "put %s, %zu bytes: missing %#x", cls, size, missing);
    return data;
}

/* Reads [off, off + len) with rd and compares it with data. */
static void expect_range(seal_reader *rd, const uint8_t *data, uint64_t off, size_t len, const char *what)
{
    uint8_t *buf = malloc(len != 0 ? len : 1);
    int rc = 0;

    cr_assert_not_null(buf);
    rc = seal_read(rd, off, buf, len);
    cr_assert_eq(rc, 0, "%s: read [%llu, +%zu): %d", what, (unsigned long long)off, len, rc);
    cr_assert(memcmp(buf, data + off, len) == 0, "%s: bytes [%llu, +%zu) differ", what, (unsigned long long)off, len);
    free(buf);
}

/* Reads the whole blob with a new reader; returns the shards it found bad. */
static uint32_t expect_blob(seal_vault *v, const seal_ref *r, const uint8_t *data, const char *what)
{
    seal_reader *rd = NULL;
    uint32_t bad = 0;

    cr_assert_eq(seal_reader_open(v, r, &rd), 0, "%s: reader", what);
    expect_range(rd, data, 0, (size_t)r->size, what);
    bad = seal_reader_bad(rd);
    seal_reader_close(rd);
    return bad;
}

static uint32_t verify(tvault *t, const seal_ref *r)
{
    uint32_t bad = UINT32_MAX;

    cr_assert_eq(seal_verify(t->v, r, &bad), 0);
    return bad;
}

/* The shards of lost a fresh vault's first segment tries: in index order
 * until k shards authenticate. */
/* Every byte of buf is the sentinel's or the blob's own. */
static int only_authentic(const uint8_t *buf, const uint8_t *sentinel, const uint8_t *data, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != sentinel[i] && buf[i] != data[i])
            return 0;
    return 1;
}

static uint32_t tried_first(uint32_t lost, int k, int n)
{
    uint32_t tried = 0;

    for (int i = 0, good = 0; i < n && good < k; i++)
        if (lost & (1u << i))
            tried |= 1u << i;
        else
            good++;
    return tried;
}

/* ---- shards as provider objects and files ---- */

static size_t prov_of(const seal_ref *r, int i)
{
    return (size_t)atoi(r->prov[i] + 1); /* "p<n>" */
}

static void shard_name(tvault *t, const seal_ref *r, int i, char name[SEAL__NAME_LEN + 1])
{
    seal__keys k = {0};

    if (!r->plain)
        cr_assert_eq(seal__keys_open(t->v->mk, r, &k), 0);
    seal__shard_name(&k, r, i, name);
    seal__keys_wipe(&k);
}

/* The file of shard i under its provider's data/xx/yy/. */
static void shard_path(tvault *t, const seal_ref *r, int i, char *out, size_t cap)
{
    char name[SEAL__NAME_LEN + 1], pat[PATH_MAX + 64];
    glob_t g;

    shard_name(t, r, i, name);
    snprintf(pat, sizeof(pat), "%s/data/*/*/%s", t->path[prov_of(r, i)], name);
    cr_assert_eq(glob(pat, 0, NULL, &g), 0, "shard %d: no file %s", i, pat);
    cr_assert_eq(g.gl_pathc, 1);
    snprintf(out, cap, "%s", g.gl_pathv[0]);
    globfree(&g);
}

typedef struct fbytes {
    uint8_t *p;
    size_t n;
} fbytes;

static fbytes file_read(const char *path)
{
    fbytes b = {0};
    struct stat st;
    FILE *f = fopen(path, "rb");

    cr_assert_not_null(f, "open %s", path);
    cr_assert_eq(fstat(fileno(f), &st), 0);
    b.n = (size_t)st.st_size;
    b.p = malloc(b.n + 1);
    cr_assert_not_null(b.p);
    cr_assert_eq(fread(b.p, 1, b.n, f), b.n);
    fclose(f);
    return b;
}

static void file_write(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f, "create %s", path);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static void expect_file(const char *path, const fbytes *want, const char *what)
{
    fbytes got = file_read(path);

    cr_assert_eq(got.n, want->n, "%s: %zu bytes, want %zu", what, got.n, want->n);
    cr_assert(memcmp(got.p, want->p, got.n) == 0, "%s: bytes differ", what);
    free(got.p);
}

static int one_name(void *arg, const char *name, uint64_t size)
{
    char *out = arg;

    (void)size;
    cr_assert_eq(out[0], '\0', "more than one object on the provider (%s)", name);
    snprintf(out, SEAL__NAME_LEN + 1, "%s", name);
    return 0;
}

/* Deletes shard i through its provider's driver: the name is the only one
 * the provider lists (one blob per vault), and must be shard i's. */
static void lose_shard(tvault *t, const seal_ref *r, int i)
{
    be_provider *p = seal__provider(t->v, r, i, NULL);
    char listed[SEAL__NAME_LEN + 1] = "", name[SEAL__NAME_LEN + 1];

    cr_assert_not_null(p);
    cr_assert_eq(p->driver->list(p, "", one_name, listed), 0);
    shard_name(t, r, i, name);
    cr_assert_str_eq(listed, name, "shard %d is not where its name says", i);
    cr_assert_eq(p->driver->del(p, listed), 0);
    cr_assert_eq(provider_count(t->path[prov_of(r, i)]), 0);
}

/* Puts bytes back as shard i through the driver. */
static void restore_shard(tvault *t, const seal_ref *r, int i, const fbytes *b)
{
    be_provider *p = seal__provider(t->v, r, i, NULL);
    char name[SEAL__NAME_LEN + 1];
    mem_stream src = mem_stream_of(b->p, b->n);

    shard_name(t, r, i, name);
    cr_assert_eq(p->driver->put(p, name, &src.base, b->n), 0);
}

/* Makes provider p unable to write: its tmp/ (where puts start) becomes a
 * regular file. Reads and deletes still work. */
static void break_provider(tvault *t, size_t p)
{
    char tmp[PATH_MAX + 8];

    snprintf(tmp, sizeof(tmp), "%s/tmp", t->path[p]);
    rm_rf(tmp);
    file_write(tmp, "x", 1);
}

static void fix_provider(tvault *t, size_t p)
{
    char tmp[PATH_MAX + 8];

    snprintf(tmp, sizeof(tmp), "%s/tmp", t->path[p]);
    cr_assert_eq(unlink(tmp), 0);
    cr_assert_eq(mkdir(tmp, 0755), 0);
}

static int total_objects(tvault *t)
{
    int n = 0;

    for (size_t i = 0; i < t->n; i++)
        n += provider_count(t->path[i]);
    return n;
}

/* ==== 1. configuration ==== */

/* seal_vault_create on t's providers (or others) and the given placements;
 * a vault made is destroyed at once. */
static int try_config(tvault *t, const seal_provider_cfg *prov, size_t nprov, const seal_class_cfg *cls, size_t ncls,
                      const char *def, char *err, size_t cap)
{
    seal_config cfg = {.providers = prov != NULL ? prov : t->prov,
                       .n_providers = prov != NULL ? nprov : t->n,
                       .classes = cls,
                       .n_classes = ncls,
                       .default_class = def};
    seal_vault *v = NULL;
    int rc = 0;

    err[0] = '\0';
    rc = seal_vault_create(&v, &cfg, t->mk, 0, err, cap);
    if (rc == 0) {
        cr_assert_not_null(v);
        seal_vault_destroy(v);
    } else {
        cr_assert_null(v);
    }
    return rc;
}

static void expect_invalid(int rc, const char *err, const char *needle, const char *what)
{
    cr_assert_eq(rc, -CN_EINVALID_ARGUMENT, "%s: rc %d (%s)", what, rc, err);
    cr_assert(strstr(err, needle) != NULL, "%s: reason '%s' does not mention '%s'", what, err, needle);
}

static seal_class_cfg one_class(tvault *t, const char *name, const char *scheme, size_t nprov, uint32_t segment,
                                int quorum)
{
    return (seal_class_cfg){.name = name,
                            .scheme = scheme,
                            .providers = t->ids,
                            .n_providers = nprov,
                            .segment_size = segment,
                            .quorum = quorum};
}

Test(config, providers)
{
    static const char *const bad_ids[] = {
        "", "a b", "a/b", "a.b", "caf\xc3\xa9", "x123456789012345678901234567890123456789012345678901234567890123"};
    tvault t;
    seal_provider_cfg p[2];
    seal_class_cfg c;
    be_option none = {.key = "nopath", .value = "x"};
    char err[256];

    tv_init(&t, 3);
    c = one_class(&t, "std", "plain", 1, 0, 0);
    p[0] = t.prov[0];
    p[1] = t.prov[1];

    cr_assert_eq(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), 0, "%s", err);

    p[0].driver = "nfs";
    expect_invalid(try_config(&t, p, 1, &c, 1, NULL, err, sizeof(err)), err, "nfs", "unknown driver");
    p[0].driver = NULL;
    expect_invalid(try_config(&t, p, 1, &c, 1, NULL, err, sizeof(err)), err, "driver", "no driver");
    p[0] = t.prov[0];

    p[1].id = "p0";
    expect_invalid(try_config(&t, p, 2, &c, 1, NULL, err, sizeof(err)), err, "'p0'", "duplicate id");

    for (size_t i = 0; i < CN_ARRAY_SIZE(bad_ids); i++) {
        p[1] = t.prov[1];
        p[1].id = bad_ids[i];
        expect_invalid(try_config(&t, p, 2, &c, 1, NULL, err, sizeof(err)), err, "id", bad_ids[i]);
    }
    /* 63 characters is the longest id */
    p[1].id = "x12345678901234567890123456789012345678901234567890123456789012";
    cr_assert_eq(strlen(p[1].id), SEAL_NAME_MAX);
    cr_assert_eq(try_config(&t, p, 2, &c, 1, NULL, err, sizeof(err)), 0, "%s", err);

    /* the driver's own refusal (posix without a path) names the provider */
    p[1].opts = &none;
    cr_assert_eq(try_config(&t, p, 2, &c, 1, NULL, err, sizeof(err)), -CN_EINVALID_ARGUMENT);
    cr_assert(strstr(err, p[1].id) != NULL, "reason '%s'", err);
    tv_teardown(&t);
}

Test(config, placements)
{
    static const char *const bad_schemes[] = {"17+1", "2+5", "0+1",  "-1+2", "r0", "r6",  "r",
                                              "2+",   "+",   "2+1x", "x",    "",   "2-1", "plain2"};
    static const char *const unknown[] = {"p0", "nope", "p2"};
    tvault t;
    seal_class_cfg c;
    char err[256];

    tv_init(&t, 20);

    for (size_t i = 0; i < CN_ARRAY_SIZE(bad_schemes); i++) {
        c = one_class(&t, "cold", bad_schemes[i], 3, 0, 0);
        expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "'cold'", bad_schemes[i]);
        cr_assert(strstr(err, "k <= 16") != NULL, "%s: reason '%s'", bad_schemes[i], err);
    }
    c = one_class(&t, "a b", "2+1", 3, 0, 0);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "a b", "placement name");

    c = one_class(&t, "cold", "2+1", 3, 0, 0);
    c.providers = unknown;
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "'nope'", "unknown provider");

    c = one_class(&t, "cold", "2+1", 2, 0, 0);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "needs 3", "2+1 over 2");
    c = one_class(&t, "cold", "4+2", 7, 0, 0);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "needs 6", "4+2 over 7");
    c = one_class(&t, "cold", "r3", 2, 0, 0);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "needs 3", "r3 over 2");
    c = one_class(&t, "cold", "plain", 2, 0, 0);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "needs 1", "plain over 2");

    c = one_class(&t, "cold", "4+2", 6, 0, 3);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "quorum", "quorum < k");
    c = one_class(&t, "cold", "4+2", 6, 0, 7);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "quorum", "quorum > k+m");
    c = one_class(&t, "cold", "4+2", 6, 0, -1);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "quorum", "quorum < 0");
    c = one_class(&t, "cold", "2+1", 3, 4095, 0);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "segment_size", "segment 4K-1");
    c = one_class(&t, "cold", "2+1", 3, (64u << 20) + 1, 0);
    expect_invalid(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), err, "segment_size", "segment 64M+1");

    expect_invalid(try_config(&t, NULL, 0, NULL, 0, NULL, err, sizeof(err)), err, "no placement", "no placement");

    /* the limits themselves are valid */
    c = one_class(&t, "cold", "16+4", 20, 4096, 16);
    cr_assert_eq(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), 0, "16+4, quorum k: %s", err);
    c = one_class(&t, "cold", "16+4", 20, 64u << 20, 20);
    cr_assert_eq(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), 0, "16+4, quorum k+m: %s", err);
    c = one_class(&t, "cold", "r5", 5, 0, 0);
    cr_assert_eq(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), 0, "r5: %s", err);
    c = one_class(&t, "cold", "2+0", 2, 0, 0);
    cr_assert_eq(try_config(&t, NULL, 0, &c, 1, NULL, err, sizeof(err)), 0, "2+0: %s", err);
    tv_teardown(&t);
}

Test(config, default_class)
{
    tvault t;
    seal_class_cfg c[2];
    seal_config cfg;
    seal_vault *v = NULL;
    char err[256];

    tv_init(&t, 3);
    c[0] = one_class(&t, "std", "2+1", 3, 0, 0);
    c[1] = one_class(&t, "cheap", "plain", 1, 0, 0);
    expect_invalid(try_config(&t, NULL, 0, c, 2, "gold", err, sizeof(err)), err, "'gold'", "unknown default");

    cfg = (seal_config){.providers = t.prov, .n_providers = 3, .classes = c, .n_classes = 2};
    cr_assert_eq(seal_vault_create(&v, &cfg, t.mk, 0, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(seal_vault_default_class(v), "std", "no default: the first placement");
    cr_assert_eq(seal_vault_has_class(v, "std"), 1);
    cr_assert_eq(seal_vault_has_class(v, "cheap"), 1);
    cr_assert_eq(seal_vault_has_class(v, "gold"), 0);
    cr_assert_eq(seal_vault_has_class(v, "STD"), 0);
    cr_assert_eq(seal_vault_has_class(v, ""), 0);
    cr_assert_eq(seal_vault_has_class(v, NULL), 0);
    seal_vault_destroy(v);

    cfg.default_class = "cheap";
    cr_assert_eq(seal_vault_create(&v, &cfg, t.mk, 0, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(seal_vault_default_class(v), "cheap");
    seal_vault_destroy(v);
    tv_teardown(&t);
}

/* Two placements of one name: the second could never be used (lookups
 * find the first), so the vault refuses it, as it refuses duplicate
 * provider ids. (The YAML loader merges keys; only API callers reach it.) */
Test(config, duplicate_placement_name)
{
    tvault t;
    seal_class_cfg c[2];
    char err[256];

    tv_init(&t, 6);
    c[0] = one_class(&t, "std", "2+1", 3, 0, 0);
    c[1] = one_class(&t, "std", "4+2", 6, 0, 0);
    /* cr_expect: the temporary directory goes even while this fails */
    cr_expect_eq(try_config(&t, NULL, 0, c, 2, NULL, err, sizeof(err)), -CN_EINVALID_ARGUMENT,
                 "two placements named 'std' accepted");
    tv_teardown(&t);
}

/* ==== 2. layouts ==== */

static void expect_ref_eq(const seal_ref *a, const seal_ref *b)
{
    cr_assert_str_eq(a->cls, b->cls);
    cr_assert_eq(a->plain, b->plain);
    cr_assert_eq(a->k, b->k);
    cr_assert_eq(a->m, b->m);
    cr_assert_eq(a->segment, b->segment);
    cr_assert_eq(a->size, b->size);
    cr_assert(memcmp(a->id, b->id, sizeof(a->id)) == 0);
    cr_assert_str_eq(a->locator, b->locator);
    for (int i = 0; i < a->k + a->m; i++)
        cr_assert_str_eq(a->prov[i], b->prov[i], "provider of shard %d", i);
    cr_assert_eq(a->wrapped_len, b->wrapped_len);
    cr_assert(memcmp(a->wrapped, b->wrapped, a->wrapped_len) == 0);
}

Test(ref, format_parse_roundtrip)
{
    static const struct {
        const char *name, *scheme;
        size_t nprov;
        int k, m;
    } cases[] = {{"flat", "plain", 1, 1, 0},
                 {"one", "r1", 1, 1, 0},
                 {"three", "r3", 3, 1, 2},
                 {"std", "2+1", 3, 2, 1},
                 {"wide", "16+4", 20, 16, 4}};
    tvault t;
    seal_ref r, back;
    char text[SEAL_LAYOUT_MAX], loc[33];
    uint8_t id[16];

    tv_init(&t, 20);
    for (size_t c = 0; c < CN_ARRAY_SIZE(cases); c++)
        tv_class(&t, cases[c].name, cases[c].scheme, cases[c].nprov, 0);
    tv_open(&t);
    for (size_t c = 0; c < CN_ARRAY_SIZE(cases); c++) {
        new_locator(loc);
        cr_assert_eq(seal_ref_new(t.v, cases[c].name, loc, 123456789012ull, &r), 0);
        cr_assert_eq(r.k, cases[c].k);
        cr_assert_eq(r.m, cases[c].m);
        cr_assert_eq(r.plain, c == 0);
        cr_assert_eq(r.segment, SEG);
        cr_assert_str_eq(r.locator, loc);
        if (!r.plain) {
            cr_assert_eq(cn_unhex(id, sizeof(id), loc, 32), 16);
            cr_assert(memcmp(r.id, id, 16) == 0, "the blob id is the locator's bytes");
            cr_assert_eq(r.wrapped_len, 32 + CN_MKEY_OVERHEAD);
        } else {
            cr_assert_eq(r.wrapped_len, 0, "a plain layout has no key");
        }
        cr_assert_eq(seal_ref_format(&r, text, sizeof(text)), 0);
        cr_assert_eq(strncmp(text, "1 ", 2), 0, "layout version 1: %s", text);
        cr_assert_null(strchr(text, '\n'));
        cr_assert_eq(seal_ref_parse(&back, loc, r.size, text), 0, "%s", text);
        expect_ref_eq(&r, &back);
        /* a buffer one byte short */
        cr_assert_eq(seal_ref_format(&r, text, strlen(text)), -CN_ETOOLARGE);
    }
    /* two blobs get two keys */
    {
        seal_ref a, b;
        new_locator(loc);
        cr_assert_eq(seal_ref_new(t.v, NULL, loc, 1, &a), 0);
        cr_assert_str_eq(a.cls, "flat", "NULL: the default placement");
        cr_assert_eq(seal_ref_new(t.v, "std", loc, 1, &a), 0);
        cr_assert_eq(seal_ref_new(t.v, "std", loc, 1, &b), 0);
        cr_assert_neq(memcmp(a.wrapped, b.wrapped, a.wrapped_len), 0);
    }
    cr_assert_eq(seal_ref_new(t.v, "gold", loc, 1, &r), -CN_EINVALID_STORAGE_CLASS);
    cr_assert_eq(seal_ref_new(t.v, "std", "not-hex", 1, &r), -CN_EINVALID_ARGUMENT);
    cr_assert_eq(seal_ref_new(t.v, "std", "0011", 1, &r), -CN_EINVALID_ARGUMENT, "16 bytes of blob id");
    tv_teardown(&t);
}

Test(ref, parse_garbage)
{
    static const char *const key = "01deadbeef00112233445566778899aabb"
                                   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                                   "00112233445566778899aabbccddeeff";
    static const char *const garbage[] = {
        "",
        "garbage",
        "1",
        "1 std 2+1 4096 p0,p1,p2",        /* no key */
        "2 std 2+1 4096 p0,p1,p2 %s",     /* layout version */
        "x std 2+1 4096 p0,p1,p2 %s",     /* layout version */
        "1 std 17+1 4096 p0,p1,p2 %s",    /* scheme */
        "1 std 2+5 4096 p0,p1,p2 %s",     /* scheme */
        "1 std two 4096 p0,p1,p2 %s",     /* scheme */
        "1 std 2+1 0 p0,p1,p2 %s",        /* segment */
        "1 std 2+1 seg p0,p1,p2 %s",      /* segment */
        "1 std 2+1 4096 p0,p1 %s",        /* too few providers */
        "1 std 2+1 4096 p0,p1,p2,p3 %s",  /* too many providers */
        "1 std 2+1 4096 p0,p1,p2 zz",     /* key not hex */
        "1 std 2+1 4096 p0,p1,p2 abc",    /* odd key */
        "1 std 2+1 4096 p0,p1,p2 %s%s%s", /* key too long */
        "1 flat plain 4096 p0,p1 -",      /* plain: one provider */
    };
    const char *loc = "000102030405060708090a0b0c0d0e0f";
    char text[1024], good[512];
    seal_ref r;

    snprintf(good, sizeof(good), "1 std 2+1 4096 p0,p1,p2 %s", key);
    cr_assert_eq(seal_ref_parse(&r, loc, 10, good), 0, "the well-formed line");
    cr_assert_eq(r.wrapped_len, strlen(key) / 2);
    cr_assert_eq(seal_ref_parse(&r, "xyz", 10, good), -CN_EINTERNAL, "a sealed layout needs a hex locator");
    for (size_t i = 0; i < CN_ARRAY_SIZE(garbage); i++) {
        snprintf(text, sizeof(text), garbage[i], key, key, key);
        cr_assert_lt(seal_ref_parse(&r, loc, 10, text), 0, "parsed: '%s'", text);
    }
    cr_assert_eq(seal_ref_parse(&r, "anything", 10, "1 flat plain 4096 p0 -"), 0);
    cr_assert_eq(r.plain, 1);
    cr_assert_str_eq(r.prov[0], "p0");
}

/* Every configuration the vault accepts has layouts that fit
 * SEAL_LAYOUT_MAX: twenty providers with 20-character ids ("eu-west-1-
 * bucket-a00") make a layout of about 564 bytes, which once did not fit and
 * made every put to such a placement fail. */
Test(ref, layout_fits_every_valid_config)
{
    tvault t;
    char ids[NPROV][32], text[SEAL_LAYOUT_MAX], loc[33];
    seal_ref r, back;

    tv_init(&t, NPROV);
    for (size_t i = 0; i < NPROV; i++) {
        snprintf(ids[i], sizeof(ids[i]), "eu-west-1-bucket-a%02zu", i);
        t.prov[i].id = ids[i];
        t.ids[i] = ids[i];
    }
    tv_class(&t, "wide", "16+4", NPROV, 0);
    tv_open(&t);
    new_locator(loc);
    cr_assert_eq(seal_ref_new(t.v, "wide", loc, 1, &r), 0);
    if (seal_ref_format(&r, text, sizeof(text)) == 0) {
        cr_assert_eq(seal_ref_parse(&back, loc, 1, text), 0);
        expect_ref_eq(&r, &back);
    } else {
        cr_expect_fail("a valid placement's layout must fit SEAL_LAYOUT_MAX (%d bytes)", SEAL_LAYOUT_MAX);
    }
    tv_teardown(&t);
}

Test(ref, rewrap)
{
    tvault t;
    cn_mkey *next = NULL;
    seal_ref r, moved, plain;
    seal_reader *rd = NULL;
    uint8_t *data = NULL;
    uint32_t bad = 0;
    char before[SEAL__NAME_LEN + 1], after[SEAL__NAME_LEN + 1];

    tv_init(&t, 3);
    tv_class(&t, "std", "2+1", 3, 0);
    tv_class(&t, "flat", "plain", 1, 0);
    tv_open(&t);
    cr_assert_eq(cn_mkey_generate(&next), 0);
    data = put_blob(&t, "std", 3 * SEG + 7, 1, &r);
    shard_name(&t, &r, 1, before);

    moved = r;
    cr_assert_eq(seal_ref_rewrap(&moved, next, t.mk), -CN_EACCESS, "wrong old key");
    cr_assert(memcmp(&moved, &r, sizeof(r)) == 0, "a failed rewrap leaves the layout alone");
    cr_assert_eq(seal_ref_rewrap(&moved, t.mk, next), 0);
    cr_assert_neq(memcmp(moved.wrapped, r.wrapped, r.wrapped_len), 0);

    /* still under the old key: only the old layout opens */
    cr_assert_neq(seal_reader_open(t.v, &moved, &rd), 0);
    cr_assert_null(rd);
    cr_assert_neq(seal_verify(t.v, &moved, &bad), 0);

    seal_vault_set_master(t.v, next);
    cr_assert_eq(expect_blob(t.v, &moved, data, "rewrapped"), 0);
    cr_assert_eq(verify(&t, &moved), 0);
    shard_name(&t, &moved, 1, after);
    cr_assert_str_eq(before, after, "the blob key, hence the shard names, did not change");
    cr_assert_neq(seal_reader_open(t.v, &r, &rd), 0, "the old wrapping no longer opens");
    cr_assert_null(rd);
    cr_assert_neq(seal_verify(t.v, &r, &bad), 0);
    cr_assert_neq(seal_delete(t.v, &r), 0, "nor deletes");

    /* a plain layout has no key: rewrap is a no-op */
    free(put_blob(&t, "flat", 10, 2, &plain));
    moved = plain;
    cr_assert_eq(seal_ref_rewrap(&moved, next, t.mk), 0);
    cr_assert(memcmp(&moved, &plain, sizeof(plain)) == 0);

    free(data);
    tv_teardown(&t);
    cn_mkey_destroy(next);
}

/* Blobs stay readable when their placement leaves the configuration, as long
 * as the providers stay (vault.c note 1), and degrade when one goes. */
Test(ref, placement_removed)
{
    tvault t;
    seal_ref r;
    uint8_t *data = NULL;

    tv_init(&t, 3);
    tv_class(&t, "old", "2+1", 3, 0);
    tv_open(&t);
    data = put_blob(&t, "old", 2 * SEG + 1, 3, &r);

    t.cls[0] = one_class(&t, "new", "plain", 1, 0, 0);
    tv_reopen(&t);
    cr_assert_eq(seal_vault_has_class(t.v, "old"), 0);
    cr_assert_eq(expect_blob(t.v, &r, data, "placement gone"), 0);

    t.n = 2; /* p2 leaves the configuration */
    tv_reopen(&t);
    cr_assert_eq(expect_blob(t.v, &r, data, "provider gone") & ~4u, 0);
    cr_assert_eq(verify(&t, &r), 4u);
    cr_assert_eq(seal_repair(t.v, &r, 4u), -CN_EIO, "nowhere to write shard 2");
    t.n = 3;
    free(data);
    tv_teardown(&t);
}

/* ==== 3. round trips ==== */

/* The blob's interesting offsets: both ends and around segment boundaries. */
static size_t points(uint64_t size, uint64_t out[16])
{
    size_t n = 0;

    for (uint64_t b = 0; b <= size && b <= 3 * SEG; b += SEG) {
        if (b > 0)
            out[n++] = b - 1;
        out[n++] = b;
        if (b + 1 <= size)
            out[n++] = b + 1;
    }
    if (size > 0)
        out[n++] = size - 1;
    out[n++] = size;
    return n;
}

static void expect_past_end(seal_reader *rd, uint64_t size)
{
    uint8_t buf[8] = {0};

    cr_assert_eq(seal_read(rd, size, buf, 0), 0, "an empty read at the end");
    cr_assert_eq(seal_read(rd, size, buf, 1), -CN_ERANGE);
    cr_assert_eq(seal_read(rd, size + 1, buf, 0), -CN_ERANGE);
    cr_assert_eq(seal_read(rd, UINT64_MAX, buf, 1), -CN_ERANGE);
    if (size > 0) {
        cr_assert_eq(seal_read(rd, size - 1, buf, 2), -CN_ERANGE);
        cr_assert_eq(seal_read(rd, 1, buf, SIZE_MAX), -CN_ERANGE);
    }
}

/* Shard files hold neither the plaintext nor the locator. */
static void expect_opaque(tvault *t, const seal_ref *r, const uint8_t *data)
{
    char path[PATH_MAX];

    for (int i = 0; i < r->k + r->m; i++) {
        fbytes b = {0};
        shard_path(t, r, i, path, sizeof(path));
        cr_assert_null(strstr(path, r->locator), "shard %d is named by its locator", i);
        b = file_read(path);
        cr_assert_eq(b.n, seal__shard_size(r));
        if (r->size >= 32)
            cr_assert_null(memmem(b.p, b.n, data, 32), "plaintext in shard %d", i);
        free(b.p);
    }
}

static void roundtrip(const char *scheme, size_t nprov)
{
    static const size_t sizes[] = {0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG + 7};
    tvault t;
    uint64_t pt[16];
    char text[SEAL_LAYOUT_MAX], what[64];

    tv_setup(&t, nprov, scheme, 0);
    for (size_t s = 0; s < CN_ARRAY_SIZE(sizes); s++) {
        seal_ref put, r;
        seal_reader *rd = NULL;
        uint8_t *data = put_blob(&t, "c", sizes[s], (unsigned)s, &put);
        size_t np = points(sizes[s], pt);

        snprintf(what, sizeof(what), "%s, %zu bytes", scheme, sizes[s]);
        /* read back as the object layer does: through the layout's text */
        cr_assert_eq(seal_ref_format(&put, text, sizeof(text)), 0);
        cr_assert_eq(seal_ref_parse(&r, put.locator, put.size, text), 0);
        cr_assert_eq(verify(&t, &r), 0, "%s", what);
        if (r.plain) {
            char path[PATH_MAX];
            fbytes want = {.p = data, .n = sizes[s]};
            shard_path(&t, &r, 0, path, sizeof(path));
            expect_file(path, &want, "a plain blob is stored as is");
        } else {
            expect_opaque(&t, &r, data);
        }
        cr_assert_eq(expect_blob(t.v, &r, data, what), 0);

        cr_assert_eq(seal_reader_open(t.v, &r, &rd), 0);
        for (size_t a = 0; a < np; a++)
            for (size_t b = a; b < np; b++)
                if (pt[a] <= pt[b])
                    expect_range(rd, data, pt[a], (size_t)(pt[b] - pt[a]), what);
        for (size_t a = np; a-- > 0;) /* backwards: no help from the cached segment */
            for (size_t b = np; b-- > a;)
                if (pt[a] <= pt[b])
                    expect_range(rd, data, pt[a], (size_t)(pt[b] - pt[a]), what);
        expect_past_end(rd, sizes[s]);
        cr_assert_eq(seal_reader_bad(rd), 0);
        seal_reader_close(rd);
        free(data);
    }
    tv_teardown(&t);
}

Test(roundtrip, plain)
{
    roundtrip("plain", 1);
}

Test(roundtrip, r1)
{
    roundtrip("r1", 1);
}

Test(roundtrip, r3)
{
    roundtrip("r3", 3);
}

Test(roundtrip, k2m1)
{
    roundtrip("2+1", 3);
}

Test(roundtrip, k3m3)
{
    roundtrip("3+3", 6); /* 4096 / 3: fragments are zero-padded */
}

Test(roundtrip, k4m2)
{
    roundtrip("4+2", 6);
}

Test(roundtrip, k16m4)
{
    roundtrip("16+4", 20);
}

/* Every offset of a three-segment blob (3+3: padded fragments), alone and
 * to the end, through one reader, and around the first boundary through a
 * reader per read (nothing cached). */
Test(roundtrip, every_offset)
{
    tvault t;
    seal_ref r;
    seal_reader *rd = NULL;
    size_t size = 2 * SEG + 5;
    uint8_t *data = NULL;

    tv_setup(&t, 6, "3+3", 0);
    data = put_blob(&t, "c", size, 9, &r);
    cr_assert_eq(seal_reader_open(t.v, &r, &rd), 0);
    for (size_t off = 0; off < size; off++)
        expect_range(rd, data, off, 1, "one byte");
    for (size_t off = 0; off <= size; off += 3)
        expect_range(rd, data, off, size - off, "to the end");
    for (size_t len = 0; len <= size; len += 5)
        expect_range(rd, data, 0, len, "from the start");
    seal_reader_close(rd);
    for (size_t off = SEG - 40; off <= SEG + 2; off++) {
        cr_assert_eq(seal_reader_open(t.v, &r, &rd), 0);
        expect_range(rd, data, off, size - off, "new reader, to the end");
        seal_reader_close(rd);
    }
    free(data);
    tv_teardown(&t);
}

/* ==== 4. erasure: every pattern of lost shards ==== */

static void erasure_all(const char *scheme, int k, int m)
{
    tvault t;
    seal_ref r;
    int n = k + m;
    size_t size = 2 * SEG + 100;
    uint8_t *data = NULL;
    char path[NPROV][PATH_MAX], what[64];
    fbytes orig[NPROV];

    tv_setup(&t, (size_t)n, scheme, 0);
    data = put_blob(&t, "c", size, 5, &r);
    for (int i = 0; i < n; i++) {
        shard_path(&t, &r, i, path[i], sizeof(path[i]));
        orig[i] = file_read(path[i]);
    }
    for (uint32_t lost = 0; lost < (1u << n); lost++) {
        int nlost = __builtin_popcount(lost);
        if (nlost > m + 1)
            continue;
        snprintf(what, sizeof(what), "%s, lost %#x", scheme, lost);
        for (int i = 0; i < n; i++)
            if (lost & (1u << i))
                lose_shard(&t, &r, i);
        tv_reopen(&t);
        if (nlost <= m) {
            uint32_t bad = expect_blob(t.v, &r, data, what), must = tried_first(lost, k, n);
            cr_assert_eq(bad & ~lost, 0, "%s: good shards reported bad (%#x)", what, bad);
            cr_assert_eq(bad & must, must, "%s: lost shards tried but not reported (%#x)", what, bad);
            cr_assert_eq(verify(&t, &r), lost, "%s", what);
            cr_assert_eq(seal_repair(t.v, &r, lost), 0, "%s: repair", what);
            for (int i = 0; i < n; i++)
                expect_file(path[i], &orig[i], what);
            cr_assert_eq(verify(&t, &r), 0, "%s: after repair", what);
        } else {
            uint8_t *buf = malloc(size), *sentinel = malloc(size);
            seal_reader *rd = NULL;
            cr_assert(buf != NULL && sentinel != NULL);
            memset(sentinel, 0xa5, size);
            memcpy(buf, sentinel, size);
            cr_assert_eq(seal_reader_open(t.v, &r, &rd), 0);
            /* A failed read may have placed authentic fragments of a whole
             * segment (read.c note 4), never anything else. */
            cr_assert_eq(seal_read(rd, 0, buf, size), -CN_EIO, "%s", what);
            cr_assert(only_authentic(buf, sentinel, data, size), "%s: the buffer holds wrong bytes", what);
            cr_assert_eq(seal_read(rd, SEG + 1, buf, 10), -CN_EIO, "%s: a later segment", what);
            cr_assert(only_authentic(buf, sentinel, data, size), "%s: the buffer holds wrong bytes", what);
            cr_assert_eq(seal_reader_bad(rd), lost, "%s: every shard was tried", what);
            seal_reader_close(rd);
            free(buf);
            free(sentinel);
            cr_assert_eq(verify(&t, &r), lost, "%s", what);
            cr_assert_eq(seal_repair(t.v, &r, lost), -CN_EIO, "%s: repair from fewer than k", what);
            for (int i = 0; i < n; i++)
                if (lost & (1u << i)) {
                    cr_assert_eq(provider_count(t.path[i]), 0, "%s: a failed repair wrote shard %d", what, i);
                    restore_shard(&t, &r, i, &orig[i]);
                }
        }
    }
    for (int i = 0; i < n; i++)
        free(orig[i].p);
    free(data);
    tv_teardown(&t);
}

Test(erasure, r3)
{
    erasure_all("r3", 1, 2);
}

Test(erasure, k2m1)
{
    erasure_all("2+1", 2, 1);
}

Test(erasure, k4m2)
{
    erasure_all("4+2", 4, 2);
}

Test(erasure, k3m3)
{
    erasure_all("3+3", 3, 3);
}

/* ==== 5. tampering ==== */

enum tamper {
    T_HDR_FIELD,  /* a byte of the header's fields */
    T_HDR_TAG,    /* a byte of the header's tag */
    T_FRAG_CT,    /* a ciphertext byte of the first fragment */
    T_FRAG_TAG,   /* a tag byte of the first fragment */
    T_LAST_TAG,   /* the last byte of the shard */
    T_REORDER,    /* fragments 0 and 1 exchanged */
    T_TRUNC_HALF, /* half the shard */
    T_TRUNC_HDR,  /* the header alone */
    T_EMPTY,      /* zero bytes */
    T_APPEND,     /* garbage after the end: harmless */
    T_SWAP,       /* same index, another blob of the same size and scheme */
    T_MOVE,       /* another shard of the same blob */
    T_COUNT
};

static const char *const tamper_names[] = {
    "header field", "header tag", "fragment ciphertext", "fragment tag", "last tag", "reordered", "half", "header only",
    "empty",        "appended",   "swapped blob",        "moved shard"};

/* Does the damage reach the first fragment, the one a fresh read tries? */
static int hits_first(enum tamper c)
{
    return c == T_FRAG_CT || c == T_FRAG_TAG || c == T_REORDER || c == T_TRUNC_HDR || c == T_EMPTY || c == T_SWAP ||
           c == T_MOVE;
}

/* The tampered bytes of shard i. */
static fbytes tampered(enum tamper c, const seal_ref *r, int i, const fbytes *orig, const fbytes *other,
                       const fbytes *same_blob)
{
    size_t stride = (size_t)(seal__frag_off(r, 1) - seal__frag_off(r, 0));
    const fbytes *src = c == T_SWAP ? &other[i] : c == T_MOVE ? &same_blob[(i + 1) % (r->k + r->m)] : &orig[i];
    fbytes b = {.p = malloc(src->n + 100), .n = src->n};

    cr_assert_not_null(b.p);
    memcpy(b.p, src->p, src->n);
    switch (c) {
    case T_HDR_FIELD:
        b.p[21] ^= 0x01; /* blob size */
        break;
    case T_HDR_TAG:
        b.p[SEAL__HDR - 1] ^= 0x80;
        break;
    case T_FRAG_CT:
        b.p[SEAL__HDR + 5] ^= 0x10;
        break;
    case T_FRAG_TAG:
        b.p[SEAL__HDR + seal__flen(r, 0) + 3] ^= 0x04;
        break;
    case T_LAST_TAG:
        b.p[b.n - 1] ^= 0xff;
        break;
    case T_REORDER: {
        uint8_t *tmp = malloc(stride);
        cr_assert_not_null(tmp);
        memcpy(tmp, b.p + SEAL__HDR, stride);
        memcpy(b.p + SEAL__HDR, b.p + SEAL__HDR + stride, stride);
        memcpy(b.p + SEAL__HDR + stride, tmp, stride);
        free(tmp);
        break;
    }
    case T_TRUNC_HALF:
        b.n /= 2;
        break;
    case T_TRUNC_HDR:
        b.n = SEAL__HDR;
        break;
    case T_EMPTY:
        b.n = 0;
        break;
    case T_APPEND:
        memset(b.p + b.n, 0x5a, 100);
        b.n += 100;
        break;
    default:
        break;
    }
    return b;
}

static void tamper_all(const char *scheme, int k, int m)
{
    tvault t;
    seal_ref r, o;
    int n = k + m;
    size_t size = 3 * SEG + 7;
    uint8_t *data = NULL, *odata = NULL;
    char path[NPROV][PATH_MAX], opath[PATH_MAX], what[96];
    fbytes orig[NPROV], other[NPROV];

    tv_setup(&t, (size_t)n, scheme, 0);
    data = put_blob(&t, "c", size, 11, &r);
    odata = put_blob(&t, "c", size, 12, &o);
    for (int i = 0; i < n; i++) {
        shard_path(&t, &r, i, path[i], sizeof(path[i]));
        orig[i] = file_read(path[i]);
        shard_path(&t, &o, i, opath, sizeof(opath));
        other[i] = file_read(opath);
        cr_assert_eq(orig[i].n, other[i].n);
    }
    for (int c = 0; c < T_COUNT; c++) {
        for (int i = 0; i < n; i++) {
            fbytes b = tampered((enum tamper)c, &r, i, orig, other, orig);
            uint32_t bad = 0, want = c == T_APPEND ? 0 : 1u << i;
            snprintf(what, sizeof(what), "%s, shard %d: %s", scheme, i, tamper_names[c]);
            file_write(path[i], b.p, b.n);
            free(b.p);
            tv_reopen(&t);

            bad = expect_blob(t.v, &r, data, what);
            cr_assert_eq(bad & ~(1u << i), 0, "%s: good shards reported bad (%#x)", what, bad);
            if (hits_first((enum tamper)c) && i < k)
                cr_assert_eq(bad, 1u << i, "%s: a data shard read first and not reported", what);
            cr_assert_eq(expect_blob(t.v, &o, odata, what), 0, "%s: the other blob", what);
            cr_assert_eq(verify(&t, &r), want, "%s: verify", what);
            cr_assert_eq(seal_repair(t.v, &r, 1u << i), 0, "%s: repair", what);
            expect_file(path[i], &orig[i], what);
            cr_assert_eq(verify(&t, &r), 0, "%s: verify after repair", what);
        }
    }
    for (int i = 0; i < n; i++) {
        free(orig[i].p);
        free(other[i].p);
    }
    free(data);
    free(odata);
    tv_teardown(&t);
}

Test(tamper, k2m1)
{
    tamper_all("2+1", 2, 1);
}

Test(tamper, k4m2)
{
    tamper_all("4+2", 4, 2);
}

/* Two shards of one segment tampered, one lost: 4+2 has nothing to spare. */
Test(tamper, up_to_m_bad_and_one_more)
{
    tvault t;
    seal_ref r;
    uint8_t *data = NULL;
    char p1[PATH_MAX], p4[PATH_MAX];
    fbytes b1, b4;
    seal_reader *rd = NULL;
    uint8_t buf[64];

    tv_setup(&t, 6, "4+2", 0);
    data = put_blob(&t, "c", 2 * SEG, 13, &r);
    shard_path(&t, &r, 1, p1, sizeof(p1));
    shard_path(&t, &r, 4, p4, sizeof(p4));
    b1 = file_read(p1);
    b4 = file_read(p4);
    b1.p[SEAL__HDR + 100] ^= 1;
    b4.p[SEAL__HDR + 100] ^= 1;
    file_write(p1, b1.p, b1.n);
    file_write(p4, b4.p, b4.n);
    tv_reopen(&t);
    cr_assert_eq(expect_blob(t.v, &r, data, "two bad of 4+2") & ~0x12u, 0);
    cr_assert_eq(verify(&t, &r), 0x12u);

    lose_shard(&t, &r, 5);
    tv_reopen(&t);
    memset(buf, 0xa5, sizeof(buf));
    cr_assert_eq(seal_reader_open(t.v, &r, &rd), 0);
    cr_assert_eq(seal_read(rd, 0, buf, sizeof(buf)), -CN_EIO, "two bad and one lost of 4+2");
    for (size_t i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], 0xa5, "byte %zu of the caller's buffer was written", i);
    cr_assert_eq(seal_reader_bad(rd), 0x32u);
    seal_reader_close(rd);
    cr_assert_eq(seal_repair(t.v, &r, 0x32u), -CN_EIO);
    free(b1.p);
    free(b4.p);
    free(data);
    tv_teardown(&t);
}

/* ==== 6. quorum ==== */

Test(quorum, one_provider_down)
{
    static const size_t sizes[] = {100, 40 * SEG + 3};
    tvault t;

    tv_setup(&t, 4, "2+2", 0); /* quorum k + m/2 = 3 */
    for (size_t s = 0; s < CN_ARRAY_SIZE(sizes); s++) {
        uint8_t *data = pattern(sizes[s], 20);
        mem_stream src = mem_stream_of(data, sizes[s]);
        uint32_t missing = 0;
        char loc[33];
        seal_ref r;

        break_provider(&t, 1);
        new_locator(loc);
        cr_assert_eq(seal_ref_new(t.v, "c", loc, sizes[s], &r), 0);
        cr_assert_eq(r.quorum, 3);
        cr_assert_eq(seal_put(t.v, &r, &src.base, &missing), 0);
        cr_assert_eq(missing, 2u);
        cr_assert_eq(provider_count(t.path[1]), 0);
        cr_assert_eq(expect_blob(t.v, &r, data, "one down") & ~2u, 0);
        cr_assert_eq(verify(&t, &r), 2u);
        cr_assert_eq(seal_repair(t.v, &r, missing), -CN_EIO, "still down");
        fix_provider(&t, 1);
        cr_assert_eq(seal_repair(t.v, &r, missing), 0);
        cr_assert_eq(verify(&t, &r), 0);
        cr_assert_eq(seal_delete(t.v, &r), 0);
        cr_assert_eq(total_objects(&t), 0);
        free(data);
    }
    tv_teardown(&t);
}

Test(quorum, two_providers_down)
{
    static const size_t sizes[] = {100, 2 * SEG, 40 * SEG + 3};
    tvault t;

    tv_setup(&t, 4, "2+2", 0);
    break_provider(&t, 0);
    break_provider(&t, 3);
    for (size_t s = 0; s < CN_ARRAY_SIZE(sizes); s++) {
        uint8_t *data = pattern(sizes[s], 21);
        mem_stream src = mem_stream_of(data, sizes[s]);
        uint32_t missing = 0;
        char loc[33];
        seal_ref r;

        new_locator(loc);
        cr_assert_eq(seal_ref_new(t.v, "c", loc, sizes[s], &r), 0);
        cr_assert_eq(seal_put(t.v, &r, &src.base, &missing), -CN_EIO, "%zu bytes", sizes[s]);
        cr_assert_eq(missing & 9u, 9u, "missing %#x", missing);
        cr_assert_eq(seal_delete(t.v, &r), 0);
        cr_assert_eq(total_objects(&t), 0, "%zu bytes: shards left after the delete", sizes[s]);
        free(data);
    }
    tv_teardown(&t);
}

Test(quorum, explicit)
{
    tvault t;
    uint8_t *data = pattern(3 * SEG, 22);
    uint32_t missing = 0;
    char loc[33];
    seal_ref r;

    tv_init(&t, 4);
    tv_class(&t, "all", "2+2", 4, 4);
    tv_class(&t, "any", "2+2", 4, 2);
    tv_open(&t);
    break_provider(&t, 2);
    {
        mem_stream src = mem_stream_of(data, 3 * SEG);
        new_locator(loc);
        cr_assert_eq(seal_ref_new(t.v, "all", loc, 3 * SEG, &r), 0);
        cr_assert_eq(seal_put(t.v, &r, &src.base, &missing), -CN_EIO, "quorum k+m, one down");
        cr_assert_eq(seal_delete(t.v, &r), 0);
    }
    break_provider(&t, 3);
    {
        mem_stream src = mem_stream_of(data, 3 * SEG);
        new_locator(loc);
        cr_assert_eq(seal_ref_new(t.v, "any", loc, 3 * SEG, &r), 0);
        cr_assert_eq(seal_put(t.v, &r, &src.base, &missing), 0, "quorum k, m down");
        cr_assert_eq(missing, 0xcu);
        cr_assert_eq(expect_blob(t.v, &r, data, "k of 2+2") & ~0xcu, 0);
    }
    free(data);
    tv_teardown(&t);
}

/* A source that fails midway fails the put, and no provider keeps anything:
 * posix puts are atomic and every writer sees the source's error. */
Test(quorum, source_fails)
{
    static const struct {
        const char *cls;
        size_t len;
    } cases[] = {{"plain", SEG / 2}, {"k2m2", SEG / 2}, {"k2m2", 10 * SEG + 1}, {"k4m2", 10 * SEG + 1}, {"k4m2", 1}};
    size_t size = 20 * SEG + 7;
    uint8_t *data = pattern(size, 23);
    tvault t;

    tv_init(&t, 6);
    tv_class(&t, "plain", "plain", 1, 0);
    tv_class(&t, "k2m2", "2+2", 4, 0);
    tv_class(&t, "k4m2", "4+2", 6, 0);
    tv_open(&t);
    for (size_t c = 0; c < CN_ARRAY_SIZE(cases); c++) {
        mem_stream failing = mem_stream_of(data, size), shorter = mem_stream_of(data, size - 1);
        uint32_t missing = 0;
        char loc[33];
        seal_ref r;

        failing.fail_at = cases[c].len;
        failing.fail_rc = -CN_ESHA256_MISMATCH;
        new_locator(loc);
        cr_assert_eq(seal_ref_new(t.v, cases[c].cls, loc, size, &r), 0);
        cr_assert_eq(seal_put(t.v, &r, &failing.base, &missing), -CN_ESHA256_MISMATCH, "%s after %zu", cases[c].cls,
                     cases[c].len);
        cr_assert_eq(total_objects(&t), 0, "%s after %zu: objects left by a failed put", cases[c].cls, cases[c].len);
        cr_assert_eq(seal_delete(t.v, &r), 0);

        cr_assert_neq(seal_put(t.v, &r, &shorter.base, &missing), 0, "%s: a short source", cases[c].cls);
        cr_assert_eq(total_objects(&t), 0, "%s: objects left by a short source", cases[c].cls);
    }
    free(data);
    tv_teardown(&t);
}

/* ==== 7. delete ==== */

Test(delete, idempotent_and_missing_shards)
{
    tvault t;
    seal_ref r, p;

    tv_init(&t, 3);
    tv_class(&t, "std", "2+1", 3, 0);
    tv_class(&t, "flat", "plain", 1, 0);
    tv_open(&t);

    free(put_blob(&t, "std", 2 * SEG, 30, &r));
    cr_assert_eq(total_objects(&t), 3);
    cr_assert_eq(seal_delete(t.v, &r), 0);
    cr_assert_eq(total_objects(&t), 0);
    cr_assert_eq(seal_delete(t.v, &r), 0, "again");

    free(put_blob(&t, "std", 2 * SEG, 31, &r));
    lose_shard(&t, &r, 1);
    cr_assert_eq(seal_delete(t.v, &r), 0, "one shard already gone");
    cr_assert_eq(total_objects(&t), 0);

    free(put_blob(&t, "flat", 10, 32, &p));
    cr_assert_eq(provider_count(t.path[0]), 1);
    cr_assert_eq(seal_delete(t.v, &p), 0);
    cr_assert_eq(seal_delete(t.v, &p), 0);
    cr_assert_eq(total_objects(&t), 0);
    tv_teardown(&t);
}

/* A provider that cannot delete fails the call (the caller keeps its row
 * for another try), but every other shard is still deleted. */
Test(delete, one_provider_failing)
{
    tvault t;
    seal_ref r;
    char data_dir[160], moved[168];

    tv_setup(&t, 4, "2+2", 0);
    free(put_blob(&t, "c", 3 * SEG, 33, &r));
    snprintf(data_dir, sizeof(data_dir), "%s/data", t.path[0]);
    snprintf(moved, sizeof(moved), "%s.away", data_dir);
    cr_assert_eq(rename(data_dir, moved), 0);
    file_write(data_dir, "x", 1); /* unlink under data/ now fails with ENOTDIR */
    cr_assert_eq(seal_delete(t.v, &r), -CN_EIO);
    for (size_t i = 1; i < 4; i++)
        cr_assert_eq(provider_count(t.path[i]), 0, "shard %zu left behind", i);
    cr_assert_eq(unlink(data_dir), 0);
    cr_assert_eq(rename(moved, data_dir), 0);
    cr_assert_eq(provider_count(t.path[0]), 1);
    cr_assert_eq(seal_delete(t.v, &r), 0, "the retry");
    cr_assert_eq(total_objects(&t), 0);
    tv_teardown(&t);
}

/* An unsealed blob of 0 bytes that is missing is found by seal_verify (a
 * 0-byte get checks presence; the last byte does not exist). */
Test(verify, plain_empty_blob_missing)
{
    tvault t;
    seal_ref r;
    seal_reader *rd = NULL;
    uint8_t one = 0;

    tv_setup(&t, 1, "plain", 0);
    free(put_blob(&t, "c", 0, 40, &r));
    cr_assert_eq(verify(&t, &r), 0);
    lose_shard(&t, &r, 0);
    cr_assert_eq(seal_reader_open(t.v, &r, &rd), 0);
    cr_assert_eq(seal_read(rd, 0, &one, 0), -CN_EIO, "reading the lost empty blob fails");
    cr_assert_eq(seal_reader_bad(rd), 1u);
    seal_reader_close(rd);
    cr_expect_eq(verify(&t, &r), 1u, "verify must report the lost empty blob too");
    tv_teardown(&t);
}

/* The wrapped blob key is bound to its locator: a layout copied onto
 * another blob's row opens nothing. */
Test(verify, key_bound_to_locator)
{
    tvault t;
    seal_ref a, b;
    seal_reader *rd = NULL;
    uint32_t bad = 0;
    uint8_t *data = NULL;

    tv_setup(&t, 3, "2+1", 0);
    data = put_blob(&t, "c", 100, 41, &a);
    free(put_blob(&t, "c", 100, 42, &b));
    memcpy(b.wrapped, a.wrapped, a.wrapped_len);
    b.wrapped_len = a.wrapped_len;
    cr_assert_neq(seal_reader_open(t.v, &b, &rd), 0);
    cr_assert_null(rd);
    cr_assert_neq(seal_verify(t.v, &b, &bad), 0);
    cr_assert_neq(seal_repair(t.v, &b, 1), 0);
    cr_assert_eq(expect_blob(t.v, &a, data, "the original"), 0);
    free(data);
    tv_teardown(&t);
}

/* ==== 8. the format, pinned ==== */

/* The value of key in the vector file (lines "key: value"), several lines
 * of one key concatenated. */
static void vec_str(const char *key, char *out, size_t cap)
{
    FILE *f = fopen(VEC_FILE, "r");
    char line[1024];
    size_t used = 0, klen = strlen(key);

    cr_assert_not_null(f, "cannot open %s (run from the repository root)", VEC_FILE);
    out[0] = '\0';
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || strncmp(line, key, klen) != 0 || strncmp(line + klen, ": ", 2) != 0)
            continue;
        used += (size_t)snprintf(out + used, cap - used, "%s", line + klen + 2);
        cr_assert_lt(used, cap);
    }
    fclose(f);
    cr_assert_neq(out[0], '\0', "%s: no %s", VEC_FILE, key);
}

static size_t vec_hex(const char *key, uint8_t *out, size_t cap)
{
    char text[8192];
    int n = 0;

    vec_str(key, text, sizeof(text));
    n = cn_unhex(out, cap, text, strlen(text));
    cr_assert_gt(n, 0, "%s: %s is not hex", VEC_FILE, key);
    return (size_t)n;
}

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
    uint8_t md[32];
    unsigned len = 0;

    cr_assert_eq(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
    cn_hex(out, md, sizeof(md));
}

Test(vector, shard_format_v1)
{
    char text[1024], loc[64], want[128], key[32], got[SEAL__NAME_LEN + 1], err[128];
    uint8_t ref_bytes[64], frag[4096], out[4096], pt_hdr[SEAL__HDR];
    cn_mkey *mk = NULL;
    seal__keys keys;
    seal_ref r;
    uint64_t size = 0;
    size_t n = 0;
    uint8_t *pt = NULL;
    tvault t;

    /* the layout text and the blob key under the master key */
    vec_str("master_key", text, sizeof(text));
    cr_assert_eq(cn_mkey_from_text(&mk, text, err, sizeof(err)), 0, "%s", err);
    vec_str("locator", loc, sizeof(loc));
    vec_str("size", want, sizeof(want));
    size = strtoull(want, NULL, 10);
    vec_str("layout", text, sizeof(text));
    cr_assert_eq(seal_ref_parse(&r, loc, size, text), 0);
    cr_assert(r.k == 2 && r.m == 1 && r.segment == 4096 && r.size == 5000 && !r.plain);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(r.id[i], i);
    {
        char again[SEAL_LAYOUT_MAX];
        cr_assert_eq(seal_ref_format(&r, again, sizeof(again)), 0);
        cr_assert_str_eq(again, text, "the layout text is pinned");
    }
    cr_assert_eq(seal__keys_open(mk, &r, &keys), 0);
    cr_assert_eq(vec_hex("enc_key", ref_bytes, sizeof(ref_bytes)), 32);
    cr_assert(memcmp(keys.enc, ref_bytes, 32) == 0, "encryption subkey");
    cr_assert_eq(vec_hex("name_key", ref_bytes, sizeof(ref_bytes)), 32);
    cr_assert(memcmp(keys.name, ref_bytes, 32) == 0, "naming subkey");
    {
        /* the same blob key wrapped anew (fresh nonce) opens to the same keys */
        seal_ref again = r;
        seal__keys k2;
        uint8_t blob_key[32];
        cr_assert_eq(vec_hex("blob_key", blob_key, sizeof(blob_key)), 32);
        cr_assert_eq(seal__wrap(mk, &again, blob_key), 0);
        cr_assert_neq(memcmp(again.wrapped, r.wrapped, r.wrapped_len), 0);
        cr_assert_eq(seal__keys_open(mk, &again, &k2), 0);
        cr_assert(memcmp(&k2, &keys, sizeof(keys)) == 0);
    }

    /* names and headers */
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof(key), "name%d", i);
        vec_str(key, want, sizeof(want));
        seal__shard_name(&keys, &r, i, got);
        cr_assert_str_eq(got, want, "name of shard %d", i);
        snprintf(key, sizeof(key), "header%d", i);
        cr_assert_eq(vec_hex(key, ref_bytes, sizeof(ref_bytes)), SEAL__HDR);
        cr_assert_eq(seal__header(&keys, &r, i, pt_hdr), 0);
        cr_assert(memcmp(pt_hdr, ref_bytes, SEAL__HDR) == 0, "header of shard %d", i);
        cr_assert_eq(seal__header_check(&keys, &r, i, ref_bytes), 0);
    }

    /* the first fragment of shard 0 */
    pt = malloc(size);
    cr_assert_not_null(pt);
    for (size_t x = 0; x < size; x++)
        pt[x] = (uint8_t)(x * 31 + 7);
    n = vec_hex("frag00", frag, sizeof(frag));
    cr_assert_eq(n, seal__flen(&r, 0) + SEAL__TAG);
    cr_assert_eq(seal__frag_seal(&keys, &r, 0, 0, pt, seal__flen(&r, 0), out), 0);
    cr_assert(memcmp(out, frag, n) == 0, "fragment (0, 0)");
    cr_assert_eq(seal__frag_open(&keys, &r, 0, 0, frag, seal__flen(&r, 0), out), 0);
    cr_assert(memcmp(out, pt, seal__flen(&r, 0)) == 0);

    /* the whole pipeline writes exactly those shards */
    tv_init(&t, 3);
    cn_mkey_destroy(t.mk);
    t.mk = mk;
    tv_class(&t, "std", "2+1", 3, 0);
    tv_open(&t);
    {
        mem_stream src = mem_stream_of(pt, size);
        uint32_t missing = 0;
        char path[PATH_MAX], sum[65];
        cr_assert_eq(seal_put(t.v, &r, &src.base, &missing), 0);
        cr_assert_eq(missing, 0);
        for (int i = 0; i < 3; i++) {
            fbytes b;
            shard_path(&t, &r, i, path, sizeof(path));
            b = file_read(path);
            snprintf(key, sizeof(key), "shard%d_size", i);
            vec_str(key, want, sizeof(want));
            cr_assert_eq(b.n, strtoull(want, NULL, 10), "size of shard %d", i);
            cr_assert_eq(b.n, seal__shard_size(&r));
            snprintf(key, sizeof(key), "shard%d_sha256", i);
            vec_str(key, want, sizeof(want));
            sha256_hex(b.p, b.n, sum);
            cr_assert_str_eq(sum, want, "bytes of shard %d", i);
            if (i == 0)
                cr_assert(memcmp(b.p + SEAL__HDR, frag, n) == 0);
            free(b.p);
        }
        cr_assert_eq(expect_blob(t.v, &r, pt, "vector blob"), 0);
    }
    seal__keys_wipe(&keys);
    free(pt);
    tv_teardown(&t); /* destroys mk */
}

/* A small fragment and a header: every single-bit flip fails to open, and
 * so do right bytes opened as another shard, segment, blob or scheme. */
Test(vector, single_bit_flips)
{
    seal__keys k;
    seal_ref r = {.k = 2, .m = 1, .segment = 4096, .size = 40}, o;
    uint8_t pt[20], ct[20 + SEAL__TAG], bad[sizeof(ct)], got[20], hdr[SEAL__HDR], hbad[SEAL__HDR];
    size_t flen = 0;

    for (int i = 0; i < 32; i++) {
        k.enc[i] = (uint8_t)i;
        k.name[i] = (uint8_t)(0x80 + i);
    }
    for (int i = 0; i < 16; i++)
        r.id[i] = (uint8_t)i;
    flen = seal__flen(&r, 0);
    cr_assert_eq(flen, sizeof(pt));
    for (size_t i = 0; i < sizeof(pt); i++)
        pt[i] = (uint8_t)(0x30 + i);
    cr_assert_eq(seal__frag_seal(&k, &r, 1, 0, pt, flen, ct), 0);
    cr_assert_eq(seal__frag_open(&k, &r, 1, 0, ct, flen, got), 0);
    cr_assert(memcmp(got, pt, flen) == 0);
    cr_assert_neq(memcmp(ct, pt, flen), 0);

    for (size_t bit = 0; bit < 8 * sizeof(ct); bit++) {
        memcpy(bad, ct, sizeof(ct));
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(got, 0xee, sizeof(got));
        cr_assert_eq(seal__frag_open(&k, &r, 1, 0, bad, flen, got), -CN_EIO, "bit %zu", bit);
        for (size_t i = 0; i < flen; i++)
            cr_assert_eq(got[i], 0, "bit %zu: output not wiped", bit);
    }
    cr_assert_eq(seal__frag_open(&k, &r, 0, 0, ct, flen, got), -CN_EIO, "as shard 0");
    cr_assert_eq(seal__frag_open(&k, &r, 2, 0, ct, flen, got), -CN_EIO, "as shard 2");
    cr_assert_eq(seal__frag_open(&k, &r, 1, 1, ct, flen, got), -CN_EIO, "as segment 1");
    o = r;
    o.id[15] ^= 1;
    cr_assert_eq(seal__frag_open(&k, &o, 1, 0, ct, flen, got), -CN_EIO, "another blob id");
    o = r;
    o.size = 41;
    cr_assert_eq(seal__frag_open(&k, &o, 1, 0, ct, flen, got), -CN_EIO, "another size");
    o = r;
    o.segment = 8192;
    cr_assert_eq(seal__frag_open(&k, &o, 1, 0, ct, flen, got), -CN_EIO, "another segment size");
    o = r;
    o.m = 2;
    cr_assert_eq(seal__frag_open(&k, &o, 1, 0, ct, flen, got), -CN_EIO, "another scheme");
    o = r;
    k.enc[0] ^= 1;
    cr_assert_eq(seal__frag_open(&k, &r, 1, 0, ct, flen, got), -CN_EIO, "another key");
    k.enc[0] ^= 1;

    cr_assert_eq(seal__header(&k, &r, 1, hdr), 0);
    cr_assert_eq(seal__header_check(&k, &r, 1, hdr), 0);
    cr_assert_eq(memcmp(hdr, SEAL__MAGIC, 8), 0);
    for (size_t bit = 0; bit < 8 * SEAL__HDR; bit++) {
        memcpy(hbad, hdr, sizeof(hdr));
        hbad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_eq(seal__header_check(&k, &r, 1, hbad), -CN_EIO, "header bit %zu", bit);
    }
    cr_assert_eq(seal__header_check(&k, &r, 0, hdr), -CN_EIO, "as shard 0");
    o.size = 41;
    cr_assert_eq(seal__header_check(&k, &o, 1, hdr), -CN_EIO, "another size");
    k.enc[31] ^= 1;
    cr_assert_eq(seal__header_check(&k, &r, 1, hdr), -CN_EIO, "another key");
}

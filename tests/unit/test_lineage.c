/*
 * Unit tests of lineage records (common/lineage.c, obj/lineage.c).
 *
 *  canon:  the canonical form is deterministic, starts with the format
 *          line, and changes when any covered field changes; known
 *          answers pin version 1 (unchanged bytes) and version 2 (sources).
 *  sig:    sign/verify round trip; a tampered field, a broken parent link,
 *          a wrong key and an unsigned record are each named.
 *  store:  every write (PUT, copy, delete marker, multipart is covered by
 *          the same obj__ver_insert) is signed in its transaction; the chain
 *          read back verifies; a row edited in SQLite is caught; a row
 *          without a record (an older store) is reported unsigned; the
 *          region key file is made 0600 and refused when group-readable;
 *          a multipart upload of copied parts gets a version 2 record naming
 *          its distinct sources, and an edited source hash is caught.
 */
#include <sqlite3.h>
#include <sys/stat.h>

#include "../../common/lineage.h"
#include "../../common/util.h"
#include "test_obj_helpers.h"

#define SEED_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define SEED_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static const cn_lin_extent ext2[2] = {
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 10},
    {"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 5, 7},
};

static cn_lin_record base_record(void)
{
    cn_lin_record r = {.bucket = "bkt",
                       .key = "a/b",
                       .key_len = 3,
                       .version_id = "v1",
                       .parent_hash = "",
                       .derived_hash = "",
                       .size = 17,
                       .etag = "\"e\"",
                       .created_ms = 1700000000123,
                       .region = "eu-test-1",
                       .ext = ext2,
                       .n_ext = 2};
    return r;
}

static void hash_of(const cn_lin_record *r, char hex[CN_LIN_HASH_HEX])
{
    cr_assert_eq(cn_lin_hash(r, hex), 0);
}

Test(canon, deterministic_with_format_line)
{
    cn_lin_record r = base_record();
    char h1[CN_LIN_HASH_HEX], h2[CN_LIN_HASH_HEX];
    cn_buf b;

    cn_buf_init(&b, 1 << 16);
    cr_assert_eq(cn_lin_canonical(&r, &b), 0);
    cr_expect_eq(strncmp(b.data, CN_LIN_FORMAT "\nbucket 3:bkt\nkey 3:a/b\n", 34), 0, "%s", b.data);
    cr_expect_neq(strstr(b.data, "extent 69:"
                                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0 10\n"),
                  NULL);
    cn_buf_dispose(&b);
    hash_of(&r, h1);
    hash_of(&r, h2);
    cr_expect_str_eq(h1, h2);
    cr_expect_eq(strlen(h1), 64);
}

#define SRC1 "1111111111111111111111111111111111111111111111111111111111111111"
#define SRC2 "2222222222222222222222222222222222222222222222222222222222222222"
#define KAT_TAIL                                                                                                       \
    "size 2:17\netag 3:\"e\"\ncreated_ms 13:1700000000123\ndelete_marker 1:0\nregion 9:eu-test-1\nextents 1:2\n"       \
    "extent 69:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0 10\n"                                \
    "extent 68:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 5 7\n"

static void expect_canonical(const cn_lin_record *r, const char *want, const char *want_hash)
{
    char h[CN_LIN_HASH_HEX];
    cn_buf b;

    cn_buf_init(&b, 1 << 16);
    cr_assert_eq(cn_lin_canonical(r, &b), 0);
    cr_expect_eq(b.len, strlen(want));
    cr_expect_eq(memcmp(b.data, want, b.len < strlen(want) ? b.len : strlen(want)), 0, "%.*s", (int)b.len, b.data);
    cn_buf_dispose(&b);
    hash_of(r, h);
    cr_expect_str_eq(h, want_hash);
}

/* Version 1 must not move by a byte: every record signed so far depends on it. */
Test(canon, known_answer_v1)
{
    cn_lin_record r = base_record();

    expect_canonical(
        &r, "cairn-lineage-v1\nbucket 3:bkt\nkey 3:a/b\nversion_id 2:v1\nparent 0:\nderived_from 0:\n" KAT_TAIL,
        "5747c7ec28fa76f42154073e7d7ab6b3041e37e7559161742800da48d3db6200");
}

Test(canon, known_answer_v2)
{
    static const char *const src[2] = {SRC1, SRC2};
    cn_lin_record r = base_record();

    r.sources = src;
    r.n_sources = 2;
    r.derived_hash = "ignored in version 2";
    expect_canonical(&r,
                     "cairn-lineage-v2\nbucket 3:bkt\nkey 3:a/b\nversion_id 2:v1\nparent 0:\nsources 1:2\n"
                     "derived_from 64:" SRC1 "\nderived_from 64:" SRC2 "\n" KAT_TAIL,
                     "de5bb4abb4e54b42478de8d8a9a10635aa72cdc7209b17177afc7b772bab9394");
}

/* One encoding per set of sources: out of order or repeated is refused. */
Test(canon, v2_sources_strictly_ascending)
{
    static const char *const down[2] = {SRC2, SRC1}, *const twice[2] = {SRC1, SRC1};
    cn_lin_record r = base_record();
    char h[CN_LIN_HASH_HEX];

    r.sources = down;
    r.n_sources = 2;
    cr_expect_eq(cn_lin_hash(&r, h), -CN_EINVALID_ARGUMENT);
    r.sources = twice;
    cr_expect_eq(cn_lin_hash(&r, h), -CN_EINVALID_ARGUMENT);
}

Test(canon, every_field_counts)
{
    cn_lin_extent e[2];
    char ref[CN_LIN_HASH_HEX], h[CN_LIN_HASH_HEX];
    cn_lin_record r = base_record();

    hash_of(&r, ref);
    for (int f = 0; f < 14; f++) {
        r = base_record();
        memcpy(e, ext2, sizeof(e));
        r.ext = e;
        switch (f) {
        case 0:
            r.bucket = "bkt2";
            break;
        case 1:
            r.key_len = 2;
            break; /* "a/" */
        case 2:
            r.version_id = "v2";
            break;
        case 3:
            r.parent_hash = "00";
            break;
        case 4:
            r.derived_hash = "00";
            break;
        case 5:
            r.size = 18;
            break;
        case 6:
            r.etag = "\"f\"";
            break;
        case 7:
            r.created_ms++;
            break;
        case 8:
            r.delete_marker = 1;
            break;
        case 9:
            r.region = "us-east-1";
            break;
        case 10:
            e[1].sha256[0] = 'c';
            break;
        case 11:
            e[0].off = 1;
            break;
        case 12:
            e[1].len = 8;
            break;
        case 13:
            r.n_ext = 1;
            break;
        }
        hash_of(&r, h);
        cr_expect_str_neq(h, ref, "field %d does not change the hash", f);
    }
    /* a byte moved between adjacent fields is not the same record */
    r = base_record();
    r.bucket = "bkta";
    r.key = "/b";
    r.key_len = 2;
    hash_of(&r, h);
    cr_expect_str_neq(h, ref);
}

typedef struct chain3 {
    cn_rkey *k;
    uint8_t pub[CN_LIN_PUB_LEN];
    cn_lin_record rec[3];
    char hash[3][CN_LIN_HASH_HEX];
    uint8_t sig[3][CN_LIN_SIG_LEN];
    cn_lin_entry e[3];
} chain3;

/* Three signed records, newest first, each the parent of the one before. */
static void make_chain(chain3 *c)
{
    static const char *const ids[3] = {"v3", "v2", "v1"};
    char err[200];

    cr_assert_eq(cn_rkey_from_text(&c->k, SEED_A, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cn_unhex(c->pub, sizeof(c->pub), cn_rkey_public_hex(c->k), 64), CN_LIN_PUB_LEN);
    for (int i = 2; i >= 0; i--) {
        c->rec[i] = base_record();
        c->rec[i].version_id = ids[i];
        c->rec[i].parent_hash = i == 2 ? "" : c->hash[i + 1];
        hash_of(&c->rec[i], c->hash[i]);
        cr_assert_eq(cn_rkey_sign(c->k, c->hash[i], c->sig[i]), 0);
        c->e[i] = (cn_lin_entry){.rec = c->rec[i], .record_hash = c->hash[i], .sig = c->sig[i], .sig_len = 64};
    }
}

Test(sig, round_trip_and_chain)
{
    chain3 c;
    size_t bad = 0;
    const char *why = NULL;

    make_chain(&c);
    cr_expect_eq(cn_lin_verify_sig(c.pub, c.hash[0], c.sig[0], 64), 0);
    cr_expect_eq(cn_lin_verify_chain(c.e, 3, c.pub, &bad, &why), 0, "%s", why);
    /* the oldest kept record may name a parent that was pruned */
    cr_expect_eq(cn_lin_verify_chain(c.e, 2, c.pub, &bad, &why), 0);
    cn_rkey_destroy(c.k);
}

/* A chain of a v2 record over a v1 record verifies; editing one of the v2
 * record's sources, or dropping them (read as v1), is an altered record. */
Test(sig, v1_and_v2_chain_and_tampered_source)
{
    static const char *const src[2] = {SRC1, SRC2};
    static const char *const edited[2] = {SRC1, "3333333333333333333333333333333333333333333333333333333333333333"};
    chain3 c;
    size_t bad = 9;
    const char *why = NULL;

    make_chain(&c);
    c.rec[0].sources = src;
    c.rec[0].n_sources = 2;
    hash_of(&c.rec[0], c.hash[0]);
    cr_assert_eq(cn_rkey_sign(c.k, c.hash[0], c.sig[0]), 0);
    c.e[0].rec = c.rec[0];
    cr_expect_eq(cn_lin_verify_chain(c.e, 3, c.pub, &bad, &why), 0, "%s", why);
    c.e[0].rec.sources = edited;
    cr_expect_eq(cn_lin_verify_chain(c.e, 3, c.pub, &bad, &why), -CN_ESIGNATURE);
    cr_expect_eq(bad, 0);
    cr_expect_neq(strstr(why, "altered"), NULL, "%s", why);
    c.e[0].rec.n_sources = 0;
    cr_expect_eq(cn_lin_verify_chain(c.e, 3, c.pub, &bad, &why), -CN_ESIGNATURE);
    cr_expect_eq(bad, 0);
    cn_rkey_destroy(c.k);
}

Test(sig, tampered_field_is_named)
{
    chain3 c;
    size_t bad = 9;
    const char *why = NULL;

    make_chain(&c);
    c.e[1].rec.size = 99;
    cr_expect_eq(cn_lin_verify_chain(c.e, 3, c.pub, &bad, &why), -CN_ESIGNATURE);
    cr_expect_eq(bad, 1);
    cr_expect_neq(strstr(why, "altered"), NULL, "%s", why);
    cn_rkey_destroy(c.k);
}

Test(sig, broken_parent_link_is_named)
{
    chain3 c;
    cn_lin_entry two[2];
    size_t bad = 9;
    const char *why = NULL;

    make_chain(&c);
    two[0] = c.e[0];
    two[1] = c.e[2]; /* v2 left out: v3's parent is not v1 */
    cr_expect_eq(cn_lin_verify_chain(two, 2, c.pub, &bad, &why), -CN_ESIGNATURE);
    cr_expect_eq(bad, 0);
    cr_expect_neq(strstr(why, "parent link"), NULL, "%s", why);
    cn_rkey_destroy(c.k);
}

/* A history written by two regions: record v2 is signed by region B's key;
 * it verifies with both keys given and not with A's alone. */
Test(sig, several_region_keys)
{
    chain3 c;
    cn_rkey *b = NULL;
    uint8_t pubs[2][CN_LIN_PUB_LEN];
    char err[200];
    size_t bad = 9;
    const char *why = NULL;

    make_chain(&c);
    cr_assert_eq(cn_rkey_from_text(&b, SEED_B, err, sizeof(err)), 0);
    cr_assert_eq(cn_rkey_sign(b, c.hash[1], c.sig[1]), 0);
    memcpy(pubs[0], c.pub, CN_LIN_PUB_LEN);
    cn_unhex(pubs[1], CN_LIN_PUB_LEN, cn_rkey_public_hex(b), 64);
    cr_expect_eq(cn_lin_verify_chain_keys(c.e, 3, (const uint8_t(*)[CN_LIN_PUB_LEN])pubs, 2, &bad, &why), 0, "%s", why);
    cr_expect_eq(cn_lin_verify_chain(c.e, 3, c.pub, &bad, &why), -CN_ESIGNATURE);
    cr_expect_eq(bad, 1);
    cn_rkey_destroy(b);
    cn_rkey_destroy(c.k);
}

Test(sig, wrong_key_and_unsigned)
{
    chain3 c;
    cn_rkey *other = NULL;
    uint8_t pub_b[CN_LIN_PUB_LEN];
    char err[200];
    size_t bad = 9;
    const char *why = NULL;

    make_chain(&c);
    cr_assert_eq(cn_rkey_from_text(&other, SEED_B, err, sizeof(err)), 0);
    cn_unhex(pub_b, sizeof(pub_b), cn_rkey_public_hex(other), 64);
    cr_expect_eq(cn_lin_verify_chain(c.e, 3, pub_b, &bad, &why), -CN_ESIGNATURE);
    cr_expect_eq(bad, 0);
    cr_expect_neq(strstr(why, "signature"), NULL, "%s", why);
    cr_expect_eq(cn_lin_verify_sig(pub_b, c.hash[0], c.sig[0], 64), -CN_ESIGNATURE);
    c.e[2].record_hash = NULL;
    c.e[2].sig = NULL;
    cr_expect_eq(cn_lin_verify_chain(c.e, 3, c.pub, &bad, &why), -CN_ESIGNATURE);
    cr_expect_eq(bad, 2);
    cr_expect_neq(strstr(why, "unsigned"), NULL, "%s", why);
    cn_rkey_destroy(other); /* before: a refused text leaves *out NULL */
    cr_expect_neq(cn_rkey_from_text(&other, "abc", err, sizeof(err)), 0);
    cr_expect_null(other);
    cn_rkey_destroy(c.k);
}

/* ---- the store ---- */

static obj_store *st;
static char dir[128];

static void setup(void)
{
    setup_test_store(&st, dir, sizeof(dir), NULL, 0, 0);
    cr_assert_eq(obj_bucket_versioning_set(st, "bkt", OBJ_VERSIONING_ENABLED), 0);
}

static void teardown(void)
{
    teardown_test_store(&st, dir);
}

static void put_text(const char *key, const char *text, obj_version *out)
{
    mem_stream m = mem_stream_of(text, strlen(text));
    obj_put_args a = {.bucket = "bkt", .key = key, .body = &m.base, .size = strlen(text), .owner = "alice"};

    cr_assert_eq(obj_put(st, &a, out), 0);
}

/* Reads key's chain and verifies it under the store's key. */
static int verify_key(const char *key, size_t *n_out, size_t *bad, const char **why)
{
    obj_region_key_info rk;
    obj_lineage_rec *v = NULL;
    cn_lin_entry e[16];
    uint8_t pub[CN_LIN_PUB_LEN];
    size_t n = 0;
    int trunc = 0, rc = 0;

    obj_store_region_key(st, &rk);
    cn_unhex(pub, sizeof(pub), rk.public_hex, 64);
    cr_assert_eq(obj_lineage_get(st, "bkt", key, &v, &n, &trunc), 0);
    cr_assert_leq(n, 16);
    for (size_t i = 0; i < n; i++) {
        obj_lineage_fields("bkt", &v[i], &e[i].rec);
        e[i].record_hash = v[i].record_hash[0] != '\0' ? v[i].record_hash : NULL;
        e[i].sig = v[i].sig_len != 0 ? v[i].sig : NULL;
        e[i].sig_len = v[i].sig_len;
    }
    rc = cn_lin_verify_chain(e, n, pub, bad, why);
    *n_out = n;
    obj_lineage_free(v, n);
    return rc;
}

static void sql(const char *stmt)
{
    char path[256];
    sqlite3 *db = NULL;

    snprintf(path, sizeof(path), "%s/meta.db", dir);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

Test(store, writes_are_signed_and_verify, .init = setup, .fini = teardown)
{
    obj_version v1, v2, cp;
    obj_copy_args ca = {.bucket = "bkt", .key = "k", .owner = "alice"};
    obj_delete_result dr;
    size_t n = 0, bad = 0;
    const char *why = NULL;

    put_text("k", "first", &v1);
    put_text("src", "source", &v2);
    ca.src = &v2;
    cr_assert_eq(obj_copy(st, &ca, &cp), 0);
    cr_assert_eq(obj_delete(st, "bkt", "k", NULL, &dr), 0);
    cr_expect_eq(verify_key("k", &n, &bad, &why), 0, "record %zu: %s", bad, why);
    cr_expect_eq(n, 3);
    obj_version_dispose(&v1);
    obj_version_dispose(&v2);
    obj_version_dispose(&cp);
}

Test(store, edited_row_and_unsigned_row_are_caught, .init = setup, .fini = teardown)
{
    obj_version v1, v2, v3;
    size_t n = 0, bad = 9;
    const char *why = NULL;
    obj_lineage_rec *v = NULL;
    int trunc = 0;

    put_text("k", "one", &v1);
    put_text("k", "two", &v2);
    put_text("k", "three", &v3);
    obj_store_close(st);
    /* the middle version ("two") */
    sql("UPDATE versions SET etag = '\"0\"' "
        "WHERE vid = (SELECT max(vid) - 1 FROM versions WHERE key = CAST('k' AS BLOB))");
    open_test_store(&st, dir, 0);
    cr_expect_eq(verify_key("k", &n, &bad, &why), -CN_ESIGNATURE);
    cr_expect_eq(bad, 1, "record %zu: %s", bad, why);
    cr_expect_neq(strstr(why, "altered"), NULL, "%s", why);
    /* a row from before lineage: NULL columns, reported as unsigned */
    obj_store_close(st);
    sql("UPDATE versions SET record_hash = NULL, signature = NULL "
        "WHERE vid = (SELECT min(vid) FROM versions WHERE key = CAST('k' AS BLOB))");
    open_test_store(&st, dir, 0);
    cr_assert_eq(obj_lineage_get(st, "bkt", "k", &v, &n, &trunc), 0);
    cr_expect_str_eq(v[2].record_hash, "");
    obj_lineage_free(v, n);
    cr_expect_eq(obj_lineage_get(st, "bkt", "nope", &v, &n, &trunc), -CN_ENO_KEY);
    cr_expect_eq(obj_lineage_get(st, "nobkt", "k", &v, &n, &trunc), -CN_ENO_BUCKET);
    obj_version_dispose(&v1);
    obj_version_dispose(&v2);
    obj_version_dispose(&v3);
}

Test(store, region_key_file, .init = setup, .fini = teardown)
{
    char path[256], pub[CN_LIN_HASH_HEX];
    obj_region_key_info rk;
    obj_config cfg = {.data_dir = dir, .region = "eu-test-1"};
    obj_store *other = NULL;
    struct stat sb;

    snprintf(path, sizeof(path), "%s/region.key", dir);
    cr_assert_eq(stat(path, &sb), 0);
    cr_expect_eq(sb.st_mode & 0777, 0600);
    cr_expect_eq(sb.st_size, 32);
    obj_store_region_key(st, &rk);
    cr_expect(rk.created);
    snprintf(pub, sizeof(pub), "%s", rk.public_hex);
    /* reopened: the same key, not a new one */
    obj_store_close(st);
    open_test_store(&st, dir, 0);
    obj_store_region_key(st, &rk);
    cr_expect_str_eq(rk.public_hex, pub);
    cr_expect_not(rk.created);
    obj_store_close(st);
    st = NULL;
    /* group-readable: refused */
    cr_assert_eq(chmod(path, 0640), 0);
    cr_expect_eq(obj_store_open(&other, &cfg), -CN_EACCESS);
    /* given as text: the file is not consulted */
    cfg.region_key = SEED_A;
    cr_assert_eq(obj_store_open(&st, &cfg), 0);
    obj_store_region_key(st, &rk);
    cr_expect_null(rk.file);
    cr_expect_str_neq(rk.public_hex, pub);
}

/* ---- multipart of copied parts: a version 2 record ---- */

#define MIB (1024u * 1024u)

static void put_big(const char *key, char fill, obj_version *out)
{
    char *p = malloc(5 * MIB);
    mem_stream m;
    obj_put_args a = {.bucket = "bkt", .key = key, .size = 5 * MIB, .owner = "alice"};

    cr_assert_not_null(p);
    memset(p, fill, 5 * MIB);
    m = mem_stream_of(p, 5 * MIB);
    a.body = &m.base;
    cr_assert_eq(obj_put(st, &a, out), 0);
    free(p);
}

/* Parts 1 and 2 copied from two versions of "src", part 3 uploaded. */
static void complete_from_copies(obj_version *a, obj_version *b)
{
    obj_mpu_create_args ca = {.bucket = "bkt", .key = "mp", .owner = "alice"};
    obj_part_ref refs[3] = {{.number = 1}, {.number = 2}, {.number = 3}};
    obj_part o[3];
    mem_stream m = mem_stream_of("tail", 4);
    char uid[64];
    obj_mpu_complete_args done = {.bucket = "bkt", .key = "mp", .upload_id = uid, .parts = refs, .n = 3};

    cr_assert_eq(obj_mpu_create(st, &ca, uid), 0);
    cr_assert_eq(obj_mpu_copy_part(st, "bkt", "mp", uid, 1, a, 0, 5 * MIB, &o[0]), 0);
    cr_assert_eq(obj_mpu_copy_part(st, "bkt", "mp", uid, 2, b, 0, 5 * MIB, &o[1]), 0);
    cr_assert_eq(obj_mpu_put_part(st, "bkt", "mp", uid, 3, &m.base, 4, NULL, NULL, &o[2]), 0);
    for (int i = 0; i < 3; i++)
        snprintf(refs[i].etag, sizeof(refs[i].etag), "%s", o[i].etag);
    cr_assert_eq(obj_mpu_complete(st, &done, NULL), 0);
}

static void source_hash(const char *key, size_t idx, char hex[CN_LIN_HASH_HEX])
{
    obj_lineage_rec *v = NULL;
    size_t n = 0;
    int trunc = 0;

    cr_assert_eq(obj_lineage_get(st, "bkt", key, &v, &n, &trunc), 0);
    cr_assert_gt(n, idx);
    snprintf(hex, CN_LIN_HASH_HEX, "%s", v[idx].record_hash);
    obj_lineage_free(v, n);
}

Test(store, multipart_of_copies_names_its_sources, .init = setup, .fini = teardown)
{
    obj_version a, b;
    obj_lineage_rec *v = NULL;
    char ha[CN_LIN_HASH_HEX], hb[CN_LIN_HASH_HEX];
    size_t n = 0, bad = 9;
    const char *why = NULL;
    int trunc = 0;

    put_big("src", 'a', &a);
    put_big("src", 'b', &b);
    source_hash("src", 1, ha);
    source_hash("src", 0, hb);
    complete_from_copies(&a, &b);
    cr_assert_eq(obj_lineage_get(st, "bkt", "mp", &v, &n, &trunc), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(v[0].n_sources, 2);
    cr_expect_str_eq(v[0].sources[0], strcmp(ha, hb) < 0 ? ha : hb);
    cr_expect_str_eq(v[0].sources[1], strcmp(ha, hb) < 0 ? hb : ha);
    obj_lineage_free(v, n);
    cr_expect_eq(verify_key("mp", &n, &bad, &why), 0, "record %zu: %s", bad, why);
    /* the sources survive their versions' deletion */
    cr_assert_eq(obj_delete(st, "bkt", "src", a.version_id, NULL), 0);
    cr_expect_eq(verify_key("mp", &n, &bad, &why), 0, "record %zu: %s", bad, why);
    obj_store_close(st);
    sql("UPDATE version_sources SET src_hash = CASE substr(src_hash, 1, 1) WHEN '0' THEN 'f' ELSE '0' END || "
        "substr(src_hash, 2) WHERE idx = 1");
    open_test_store(&st, dir, 0);
    cr_expect_eq(verify_key("mp", &n, &bad, &why), -CN_ESIGNATURE);
    obj_version_dispose(&a);
    obj_version_dispose(&b);
}

/*
 * Unit tests of the master key (common/masterkey.c) and of the access-key
 * secrets sealed under it (obj/keys.c), and of how the gateway picks the key
 * (gateway/bootstrap.c: $CAIRN_MASTER_KEY).
 *
 *  mkey:    the record format against an independent known answer
 *           (tests/vectors/masterkey/), round trips, every way a record can
 *           fail to open (wrong key, wrong additional data, any byte
 *           altered), the text forms, and the key file (created 0600,
 *           refused when open to group or others or not 32 bytes, never
 *           replaced).
 *  sealed:  the store: secrets sealed at rest, the key file made at first
 *           open and reused, a wrong key refused at open, a row opened under
 *           another key or moved onto another access key failing cleanly,
 *           and the sealing of the clear-text rows of an older store.
 *  gateway: CAIRN_MASTER_KEY wins over the file, and no file is made.
 *
 * Criterion runs every test in its own process, so umask() and setenv()
 * here touch no other test.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "../../common/masterkey.h"
#include "../../common/util.h"
#include "../../gateway/gwint.h"
#include "test_obj_helpers.h"

#define VEC_FILE "tests/vectors/masterkey/sealed-secret-v1"
#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_A_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static char dir[128];

static void setup(void)
{
    make_tmpdir(dir, sizeof(dir));
}

static void teardown(void)
{
    rm_rf(dir);
}

/* ---- helpers ---- */

static cn_mkey *key_of(const char *text)
{
    cn_mkey *k = NULL;
    char err[256] = "";

    cr_assert_eq(cn_mkey_from_text(&k, text, err, sizeof(err)), 0, "%s", err);
    return k;
}

static void write_file(const char *path, const void *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, p, n), (ssize_t)n);
    close(fd);
    cr_assert_eq(chmod(path, mode), 0);
}

/* Whole file (NULL if absent); *n its size. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long len = 0;

    *n = 0;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)len + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static int file_has(const char *path, const char *needle)
{
    size_t n = 0;
    uint8_t *b = slurp(path, &n);
    int found = b != NULL && memmem(b, n, needle, strlen(needle)) != NULL;

    free(b);
    return found;
}

static int exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0;
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

/* One "name: value" line of a vector file, into out. */
static void vec_field(const char *text, const char *name, char *out, size_t cap)
{
    char pat[64];
    const char *p = NULL, *end = NULL;

    snprintf(pat, sizeof(pat), "\n%s: ", name);
    p = strstr(text, pat);
    cr_assert_not_null(p, "vector has no %s", name);
    p += strlen(pat);
    end = strchr(p, '\n');
    cr_assert_not_null(end);
    cr_assert_lt((size_t)(end - p), cap);
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
}

/* ---- mkey: the record and the key ---- */

TestSuite(mkey, .init = setup, .fini = teardown);

Test(mkey, known_answer)
{
    size_t n = 0, len = 0;
    char *text = (char *)slurp(VEC_FILE, &n);
    char key[80], id[16], ak[64], secret[64], rec_hex[256], aad[128];
    uint8_t rec[128], out[64];
    int rn = 0;
    cn_mkey *k = NULL;

    cr_assert_not_null(text, "cannot read " VEC_FILE " (run from the repository root)");
    text[n] = '\0';
    vec_field(text, "master_key", key, sizeof(key));
    vec_field(text, "key_id", id, sizeof(id));
    vec_field(text, "access_key", ak, sizeof(ak));
    vec_field(text, "secret", secret, sizeof(secret));
    vec_field(text, "record", rec_hex, sizeof(rec_hex));
    free(text);
    rn = cn_unhex(rec, sizeof(rec), rec_hex, strlen(rec_hex));
    cr_assert_eq((size_t)rn, strlen(secret) + CN_MKEY_OVERHEAD);
    k = key_of(key);
    cr_assert_str_eq(cn_mkey_id(k), id);
    snprintf(aad, sizeof(aad), "cairn-secret-v1:%s", ak);
    cr_assert_eq(cn_mkey_open(k, aad, strlen(aad), rec, (size_t)rn, out, sizeof(out), &len), 0);
    cr_assert_eq(len, strlen(secret));
    cr_assert_eq(memcmp(out, secret, len), 0);
    cn_mkey_destroy(k);
}

Test(mkey, round_trip_and_fresh_nonces)
{
    cn_mkey *k = NULL;
    uint8_t r1[64], r2[64], out[32];
    size_t n1 = 0, n2 = 0, len = 0;

    cr_assert_eq(cn_mkey_generate(&k), 0);
    cr_assert_eq(strlen(cn_mkey_id(k)), 8);
    cr_assert_eq(cn_mkey_seal(k, "ad", 2, "hello", 5, r1, sizeof(r1), &n1), 0);
    cr_assert_eq(cn_mkey_seal(k, "ad", 2, "hello", 5, r2, sizeof(r2), &n2), 0);
    cr_assert_eq(n1, 5 + CN_MKEY_OVERHEAD);
    cr_assert_eq(r1[0], CN_MKEY_VERSION);
    cr_assert_neq(memcmp(r1, r2, n1), 0, "two seals of one secret must differ (random nonce)");
    cr_assert_eq(cn_mkey_open(k, "ad", 2, r1, n1, out, sizeof(out), &len), 0);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(out, "hello", 5), 0);
    /* empty plaintext and empty additional data */
    cr_assert_eq(cn_mkey_seal(k, NULL, 0, "", 0, r1, sizeof(r1), &n1), 0);
    cr_assert_eq(n1, CN_MKEY_OVERHEAD);
    cr_assert_eq(cn_mkey_open(k, NULL, 0, r1, n1, out, sizeof(out), &len), 0);
    cr_assert_eq(len, 0);
    /* buffers too small */
    cr_assert_eq(cn_mkey_seal(k, "ad", 2, "hello", 5, r1, 5 + CN_MKEY_OVERHEAD - 1, &n1), -CN_ETOOLARGE);
    cr_assert_eq(cn_mkey_seal(k, "ad", 2, "hello", 5, r1, sizeof(r1), &n1), 0);
    cr_assert_eq(cn_mkey_open(k, "ad", 2, r1, n1, out, 4, &len), -CN_ETOOLARGE);
    cn_mkey_destroy(k);
    cn_mkey_destroy(NULL);
}

Test(mkey, failures_open_nothing)
{
    cn_mkey *k = key_of(KEY_A), *other = key_of(KEY_B);
    uint8_t rec[64], bad[64], out[32];
    size_t n = 0, len = 99;

    cr_assert_eq(cn_mkey_seal(k, "cairn-secret-v1:A", 17, "s3cr3t", 6, rec, sizeof(rec), &n), 0);
    /* additional data of another access key */
    memset(out, 'X', sizeof(out));
    cr_assert_eq(cn_mkey_open(k, "cairn-secret-v1:B", 17, rec, n, out, sizeof(out), &len), -CN_EINTERNAL);
    cr_assert(all_zero(out, sizeof(out)), "a failed open must wipe its output");
    cr_assert_eq(len, 0);
    /* another key: told by the key id */
    memset(out, 'X', sizeof(out));
    cr_assert_eq(cn_mkey_open(other, "cairn-secret-v1:A", 17, rec, n, out, sizeof(out), &len), -CN_EACCESS);
    cr_assert(all_zero(out, sizeof(out)));
    /* another key's record that claims this key's id: GCM refuses it */
    {
        uint8_t r2[64];
        size_t n2 = 0;
        cr_assert_eq(cn_mkey_seal(other, "cairn-secret-v1:A", 17, "s3cr3t", 6, r2, sizeof(r2), &n2), 0);
        memcpy(r2 + 1, rec + 1, CN_MKEY_ID_LEN);
        cr_assert_eq(cn_mkey_open(k, "cairn-secret-v1:A", 17, r2, n2, out, sizeof(out), &len), -CN_EINTERNAL);
    }
    /* any single byte altered: version, key id, nonce, ciphertext or tag */
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, rec, n);
        bad[i] ^= 0x01;
        memset(out, 'X', sizeof(out));
        cr_assert_lt(cn_mkey_open(k, "cairn-secret-v1:A", 17, bad, n, out, sizeof(out), &len), 0, "byte %zu", i);
        cr_assert(all_zero(out, sizeof(out)), "byte %zu", i);
    }
    /* truncated, or extended */
    cr_assert_eq(cn_mkey_open(k, "cairn-secret-v1:A", 17, rec, n - 1, out, sizeof(out), &len), -CN_EINTERNAL);
    cr_assert_eq(cn_mkey_open(k, "cairn-secret-v1:A", 17, rec, CN_MKEY_OVERHEAD - 1, out, sizeof(out), &len),
                 -CN_EINTERNAL);
    memcpy(bad, rec, n);
    bad[n] = 0;
    cr_assert_eq(cn_mkey_open(k, "cairn-secret-v1:A", 17, bad, n + 1, out, sizeof(out), &len), -CN_EINTERNAL);
    /* still opens untouched */
    cr_assert_eq(cn_mkey_open(k, "cairn-secret-v1:A", 17, rec, n, out, sizeof(out), &len), 0);
    cr_assert_eq(len, 6);
    cn_mkey_destroy(k);
    cn_mkey_destroy(other);
}

Test(mkey, text_forms)
{
    static const char *const bad[] = {
        "",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",   /* 63 */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0", /* 65 */
        "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",  /* not hex */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",                      /* 31 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",                       /* unpadded */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    };
    cn_mkey *a = key_of(KEY_A), *b = key_of(KEY_A_B64), *upper = NULL, *k = NULL;
    char err[256];

    cr_assert_str_eq(cn_mkey_id(a), cn_mkey_id(b), "hex and base64 of one key are one key");
    upper = key_of("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    cr_assert_str_eq(cn_mkey_id(a), cn_mkey_id(upper));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        cr_assert_eq(cn_mkey_from_text(&k, bad[i], err, sizeof(err)), -CN_EINVALID_ARGUMENT, "case %zu", i);
        cr_assert_null(k);
        cr_assert_neq(err[0], '\0');
        cr_assert_null(strstr(err, "0102030405"), "the reason must not echo the key: %s", err);
    }
    cr_assert_eq(cn_mkey_from_text(&k, NULL, err, sizeof(err)), -CN_EINVALID_ARGUMENT);
    cn_mkey_destroy(a);
    cn_mkey_destroy(b);
    cn_mkey_destroy(upper);
}

Test(mkey, file_created_0600)
{
    char path[256], err[512] = "";
    struct stat sb;
    cn_mkey *k = NULL, *again = NULL;
    int created = 0;

    umask(0); /* the mode must not depend on the umask */
    snprintf(path, sizeof(path), "%s/master.key", dir);
    cr_assert_eq(cn_mkey_load_file(&k, path, 1, &created, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(created, 1);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert(S_ISREG(sb.st_mode));
    cr_assert_eq(sb.st_mode & 07777, 0600, "mode %o", (unsigned)(sb.st_mode & 07777));
    cr_assert_eq(sb.st_size, CN_MKEY_LEN);
    cr_assert_eq(dir_entries(dir), 1, "no temporary file may remain");
    /* the second load reads the same key */
    cr_assert_eq(cn_mkey_load_file(&again, path, 1, &created, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(created, 0);
    cr_assert_str_eq(cn_mkey_id(k), cn_mkey_id(again));
    cn_mkey_destroy(k);
    cn_mkey_destroy(again);
}

Test(mkey, file_open_to_others_refused)
{
    static const mode_t refused[] = {0644, 0640, 0604, 0660, 0602, 0620, 0610, 0601};
    static const mode_t accepted[] = {0600, 0400};
    uint8_t raw[CN_MKEY_LEN];
    char path[256], err[512];
    cn_mkey *k = NULL;

    memset(raw, 7, sizeof(raw));
    snprintf(path, sizeof(path), "%s/master.key", dir);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        write_file(path, raw, sizeof(raw), refused[i]);
        err[0] = '\0';
        cr_assert_eq(cn_mkey_load_file(&k, path, 1, NULL, err, sizeof(err)), -CN_EACCESS, "mode %o",
                     (unsigned)refused[i]);
        cr_assert_null(k);
        cr_assert_not_null(strstr(err, "chmod 600"), "%s", err);
        cr_assert_not_null(strstr(err, path), "the reason names the file: %s", err);
    }
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        cr_assert_eq(chmod(path, accepted[i]), 0);
        cr_assert_eq(cn_mkey_load_file(&k, path, 0, NULL, err, sizeof(err)), 0, "%s", err);
        cn_mkey_destroy(k);
    }
}

Test(mkey, file_wrong_length_refused)
{
    static const size_t sizes[] = {0, 31, 33, 64};
    uint8_t raw[64];
    char path[256], err[512], sub[256];
    cn_mkey *k = NULL;
    int created = 0;

    memset(raw, 'a', sizeof(raw)); /* 64 hex digits: the text form is not a key file */
    snprintf(path, sizeof(path), "%s/master.key", dir);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        write_file(path, raw, sizes[i], 0600);
        cr_assert_eq(cn_mkey_load_file(&k, path, 1, &created, err, sizeof(err)), -CN_EINVALID_ARGUMENT, "size %zu",
                     sizes[i]);
        cr_assert_eq(created, 0);
        cr_assert_null(k);
    }
    /* a directory is not a key file */
    snprintf(sub, sizeof(sub), "%s/keydir", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    cr_assert_eq(cn_mkey_load_file(&k, sub, 1, &created, err, sizeof(err)), -CN_EINVALID_ARGUMENT);
}

Test(mkey, missing_file_and_never_replaced)
{
    uint8_t raw[CN_MKEY_LEN];
    size_t n = 0;
    char path[256], err[512];
    cn_mkey *k = NULL, *fresh = NULL;
    uint8_t *back = NULL;

    snprintf(path, sizeof(path), "%s/master.key", dir);
    cr_assert_eq(cn_mkey_load_file(&k, path, 0, NULL, err, sizeof(err)), -CN_EIO);
    cr_assert(!exists(path), "a load without create must not create the file");
    memset(raw, 9, sizeof(raw));
    write_file(path, raw, sizeof(raw), 0600);
    cr_assert_eq(cn_mkey_generate(&fresh), 0);
    cr_assert_eq(cn_mkey_write_file(fresh, path, err, sizeof(err)), -CN_ECONFLICT);
    back = slurp(path, &n);
    cr_assert_eq(n, sizeof(raw));
    cr_assert_eq(memcmp(back, raw, n), 0, "an existing key file must never be replaced");
    cr_assert_eq(dir_entries(dir), 1, "no temporary file may remain");
    free(back);
    cn_mkey_destroy(fresh);
}

/* ---- sealed: access-key secrets in the store ---- */

TestSuite(sealed, .init = setup, .fini = teardown);

static int open_with(obj_store **s, const char *key_text, const char *key_file)
{
    obj_config cfg = {.data_dir = dir, .region = "eu-test-1", .master_key = key_text, .master_key_file = key_file};

    *s = NULL;
    return obj_store_open(s, &cfg);
}

static obj_store *must_open(const char *key_text, const char *key_file)
{
    obj_store *s = NULL;

    cr_assert_eq(open_with(&s, key_text, key_file), 0);
    return s;
}

static void db_path(char *out, size_t cap)
{
    snprintf(out, cap, "%s/meta.db", dir);
}

static void db_exec(const char *sql)
{
    char path[256];
    sqlite3 *db = NULL;
    char *msg = NULL;

    db_path(path, sizeof(path));
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_close(db);
}

/* A single text value from the database ("" when there is no row). */
static void db_value(const char *sql, char *out, size_t cap)
{
    char path[256];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    db_path(path, sizeof(path));
    out[0] = '\0';
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The sealed secret of access key ak, read into rec (*n bytes). */
static void row_get(const char *ak, uint8_t *rec, size_t cap, size_t *n)
{
    char path[256];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    db_path(path, sizeof(path));
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT secret FROM access_keys WHERE access_key = ?1", -1, &st, NULL),
                 SQLITE_OK);
    sqlite3_bind_text(st, 1, ak, -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_type(st, 0), SQLITE_BLOB);
    *n = (size_t)sqlite3_column_bytes(st, 0);
    cr_assert_leq(*n, cap);
    memcpy(rec, sqlite3_column_blob(st, 0), *n);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Stores rec[0..n) as the secret of access key ak, inserting the row (of
 * root, the user every store has) if needed. */
static void row_put(const char *ak, const uint8_t *rec, size_t n)
{
    char path[256];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    db_path(path, sizeof(path));
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "INSERT INTO access_keys(access_key, secret, principal, created) "
                                    "VALUES (?1, ?2, 'root', 0) ON CONFLICT(access_key) DO UPDATE SET secret = ?2",
                                    -1, &st, NULL),
                 SQLITE_OK);
    sqlite3_bind_text(st, 1, ak, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, rec, (int)n, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A key of user (created first if need be: keys belong to existing users). */
static int add_key(obj_store *s, const char *user, const char *ak, const char *sk)
{
    int rc = obj_user_create(s, user);

    cr_assert(rc == 0 || rc == -CN_EEXISTS);
    return obj_key_create(s, user, ak, sk);
}

static int lookup(obj_store *s, const char *ak, char *secret, size_t cap)
{
    char principal[64];

    return obj_key_lookup(s, ak, secret, cap, principal, sizeof(principal));
}

Test(sealed, round_trip_and_sealed_at_rest)
{
    obj_store *s = must_open(NULL, NULL);
    char secret[64], v[64], path[256];
    const char *sk = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    cr_assert_eq(add_key(s, "alice", "AKIDALICE", sk), 0);
    cr_assert_eq(lookup(s, "AKIDALICE", secret, sizeof(secret)), 0);
    cr_assert_str_eq(secret, sk);
    obj_store_close(s);
    db_value("SELECT typeof(secret) || ':' || length(secret) FROM access_keys", v, sizeof(v));
    snprintf(path, sizeof(path), "blob:%zu", strlen(sk) + CN_MKEY_OVERHEAD);
    cr_assert_str_eq(v, path);
    db_path(path, sizeof(path));
    cr_assert(!file_has(path, sk), "the secret is in the database in clear");
    /* reopened with the key file made at the first open */
    s = must_open(NULL, NULL);
    cr_assert_eq(lookup(s, "AKIDALICE", secret, sizeof(secret)), 0);
    cr_assert_str_eq(secret, sk);
    /* access keys longer than any stored one are simply unknown */
    cr_assert_eq(lookup(s, "", secret, sizeof(secret)), -CN_ENOKEY_ID);
    {
        char big[200];
        memset(big, 'K', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        cr_assert_eq(lookup(s, big, secret, sizeof(secret)), -CN_ENOKEY_ID);
        cr_assert_eq(add_key(s, "bob", big, "x"), -CN_EINVALID_ARGUMENT);
    }
    obj_store_close(s);
}

Test(sealed, key_file_created_0600_and_reused)
{
    obj_store *s = NULL;
    obj_master_key_info mi, again;
    char path[256], v[32];
    struct stat sb;

    umask(022);
    s = must_open(NULL, NULL);
    snprintf(path, sizeof(path), "%s/master.key", dir);
    obj_store_master_key(s, &mi);
    cr_assert_eq(mi.created, 1);
    cr_assert_str_eq(mi.file, path);
    cr_assert_eq(strlen(mi.id), 8);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 07777, 0600);
    cr_assert_eq(sb.st_size, 32);
    obj_store_close(s);
    db_value("SELECT v FROM meta_info WHERE k = 'master_key_id'", v, sizeof(v));
    cr_assert_str_eq(v, mi.id, "the store records the id of its key");
    s = must_open(NULL, NULL);
    obj_store_master_key(s, &again);
    cr_assert_eq(again.created, 0);
    cr_assert_str_eq(again.id, mi.id);
    obj_store_close(s);
}

Test(sealed, key_file_from_config)
{
    obj_store *s = NULL;
    obj_master_key_info mi;
    char path[256], def[256];

    snprintf(path, sizeof(path), "%s/elsewhere.key", dir);
    snprintf(def, sizeof(def), "%s/master.key", dir);
    s = must_open(NULL, path);
    obj_store_master_key(s, &mi);
    cr_assert_str_eq(mi.file, path);
    cr_assert_eq(mi.created, 1);
    cr_assert(exists(path));
    cr_assert(!exists(def));
    obj_store_close(s);
    /* "" means the default, as the gateway passes it */
    rm_rf(dir);
    cr_assert_eq(mkdir(dir, 0700), 0);
    s = must_open(NULL, "");
    cr_assert(exists(def));
    obj_store_close(s);
}

Test(sealed, key_file_open_to_others_refused)
{
    obj_store *s = must_open(NULL, NULL);
    char path[256];

    cr_assert_eq(add_key(s, "alice", "AKIDALICE", "s3cr3t"), 0);
    obj_store_close(s);
    snprintf(path, sizeof(path), "%s/master.key", dir);
    cr_assert_eq(chmod(path, 0644), 0);
    cr_assert_eq(open_with(&s, NULL, NULL), -CN_EACCESS);
    cr_assert_null(s);
    cr_assert_eq(chmod(path, 0600), 0);
    s = must_open(NULL, NULL);
    obj_store_close(s);
}

Test(sealed, key_text_wins_and_no_file)
{
    obj_store *s = NULL;
    obj_master_key_info mi;
    char secret[64], path[256];

    snprintf(path, sizeof(path), "%s/master.key", dir);
    s = must_open(KEY_A, NULL);
    obj_store_master_key(s, &mi);
    cr_assert_null(mi.file);
    cr_assert_eq(mi.created, 0);
    cr_assert_eq(add_key(s, "alice", "AKIDALICE", "s3cr3t"), 0);
    obj_store_close(s);
    cr_assert(!exists(path), "a key given as text must not create a key file");
    /* the same key in base64 */
    s = must_open(KEY_A_B64, NULL);
    cr_assert_eq(lookup(s, "AKIDALICE", secret, sizeof(secret)), 0);
    cr_assert_str_eq(secret, "s3cr3t");
    obj_store_close(s);
    /* another key is refused at open, not at the first request */
    cr_assert_eq(open_with(&s, KEY_B, NULL), -CN_EACCESS);
    cr_assert_eq(open_with(&s, "not a key", NULL), -CN_EINVALID_ARGUMENT);
    cr_assert_eq(open_with(&s, "", NULL), -CN_EINVALID_ARGUMENT);
    /* without the text, a sealed store never gets a new key file */
    cr_assert_eq(open_with(&s, NULL, NULL), -CN_EIO);
    cr_assert(!exists(path));
    /* a key file that holds the right key is fine */
    {
        cn_mkey *k = key_of(KEY_A);
        cr_assert_eq(cn_mkey_write_file(k, path, NULL, 0), 0);
        cn_mkey_destroy(k);
    }
    s = must_open(NULL, NULL);
    cr_assert_eq(lookup(s, "AKIDALICE", secret, sizeof(secret)), 0);
    obj_store_close(s);
}

Test(sealed, lost_key_file_not_recreated)
{
    obj_store *s = must_open(NULL, NULL);
    char path[256], moved[256];

    cr_assert_eq(add_key(s, "alice", "AKIDALICE", "s3cr3t"), 0);
    obj_store_close(s);
    snprintf(path, sizeof(path), "%s/master.key", dir);
    snprintf(moved, sizeof(moved), "%s/backup.key", dir);
    cr_assert_eq(rename(path, moved), 0);
    cr_assert_eq(open_with(&s, NULL, NULL), -CN_EIO);
    cr_assert(!exists(path), "a new key would orphan every sealed secret");
    s = must_open(NULL, moved);
    obj_store_close(s);
}

/* Store A's rows under another key: the open is refused (the store records
 * its key's id). A's row copied into store B (another key): the lookup fails
 * cleanly, also when the row's key id is forged to B's. */
Test(sealed, wrong_master_key_fails_cleanly)
{
    obj_store *s = must_open(KEY_A, NULL);
    char secret[64], principal[64];
    uint8_t rec[256];
    size_t n = 0;
    cn_mkey *kb = key_of(KEY_B);

    cr_assert_eq(add_key(s, "alice", "AKIDALICE", "s3cr3t"), 0);
    obj_store_close(s);
    row_get("AKIDALICE", rec, sizeof(rec), &n);
    cr_assert_eq(open_with(&s, KEY_B, NULL), -CN_EACCESS);
    cr_assert_null(s);

    rm_rf(dir);
    cr_assert_eq(mkdir(dir, 0700), 0);
    s = must_open(KEY_B, NULL);
    obj_store_close(s);
    row_put("AKIDALICE", rec, n);
    s = must_open(KEY_B, NULL);
    memset(secret, 'X', sizeof(secret));
    cr_assert_eq(obj_key_lookup(s, "AKIDALICE", secret, sizeof(secret), principal, sizeof(principal)), -CN_EINTERNAL);
    cr_assert(all_zero(secret, sizeof(secret)), "a failed lookup returns no byte of a secret");
    obj_store_close(s);

    cr_assert_eq(cn_unhex(rec + 1, CN_MKEY_ID_LEN, cn_mkey_id(kb), 2 * CN_MKEY_ID_LEN), CN_MKEY_ID_LEN);
    row_put("AKIDALICE", rec, n);
    s = must_open(KEY_B, NULL);
    memset(secret, 'X', sizeof(secret));
    cr_assert_eq(lookup(s, "AKIDALICE", secret, sizeof(secret)), -CN_EINTERNAL);
    cr_assert(all_zero(secret, sizeof(secret)));
    obj_store_close(s);
    cn_mkey_destroy(kb);
}

Test(sealed, row_moved_to_another_access_key_fails)
{
    obj_store *s = must_open(NULL, NULL);
    char secret[64];

    cr_assert_eq(add_key(s, "alice", "AKIDALICE", "alice-secret"), 0);
    cr_assert_eq(add_key(s, "mallory", "AKIDMALLORY", "mallory-secret"), 0);
    obj_store_close(s);
    db_exec("UPDATE access_keys SET secret = (SELECT secret FROM access_keys WHERE access_key = 'AKIDALICE') "
            "WHERE access_key = 'AKIDMALLORY'");
    s = must_open(NULL, NULL);
    memset(secret, 'X', sizeof(secret));
    cr_assert_eq(lookup(s, "AKIDMALLORY", secret, sizeof(secret)), -CN_EINTERNAL);
    cr_assert(all_zero(secret, sizeof(secret)));
    cr_assert_eq(lookup(s, "AKIDALICE", secret, sizeof(secret)), 0);
    cr_assert_str_eq(secret, "alice-secret");
    obj_store_close(s);
}

Test(sealed, tampered_row_fails)
{
    obj_store *s = must_open(NULL, NULL);
    char secret[64];
    uint8_t rec[256];
    size_t n = 0;

    cr_assert_eq(add_key(s, "alice", "AKIDALICE", "alice-secret"), 0);
    obj_store_close(s);
    row_get("AKIDALICE", rec, sizeof(rec), &n);
    for (size_t i = 0; i < n; i += 7) {
        rec[i] ^= 0x80;
        row_put("AKIDALICE", rec, n);
        s = must_open(NULL, NULL);
        memset(secret, 'X', sizeof(secret));
        cr_assert_eq(lookup(s, "AKIDALICE", secret, sizeof(secret)), -CN_EINTERNAL, "byte %zu", i);
        cr_assert(all_zero(secret, sizeof(secret)));
        obj_store_close(s);
        rec[i] ^= 0x80;
    }
    row_put("AKIDALICE", rec, n);
    s = must_open(NULL, NULL);
    cr_assert_eq(lookup(s, "AKIDALICE", secret, sizeof(secret)), 0);
    cr_assert_str_eq(secret, "alice-secret");
    obj_store_close(s);
}

/* The store as an older cairn left it: secrets in clear (TEXT), declared
 * TEXT, no master key id, schema 2. The next open seals them in place. */
Test(sealed, clear_text_rows_sealed_at_open)
{
    obj_store *s = must_open(NULL, NULL);
    char secret[64], v[64], path[256], wal[300], keyfile[256];
    obj_master_key_info mi;

    obj_store_close(s);
    snprintf(keyfile, sizeof(keyfile), "%s/master.key", dir);
    cr_assert_eq(unlink(keyfile), 0); /* an older store has no key */
    db_exec("DELETE FROM meta_info WHERE k = 'master_key_id';"
            "UPDATE meta_info SET v = 2 WHERE k = 'schema';"
            "DROP TABLE access_keys;"
            "CREATE TABLE access_keys(access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, principal TEXT NOT NULL,"
            "  created INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
            "INSERT INTO access_keys VALUES ('AKIDROOT', 'CLEARROOTSECRET0123456789', 'root', 0, 0);"
            "INSERT INTO access_keys VALUES ('AKIDBOB', 'CLEARBOBSECRET9876543210', 'bob', 0, 1);");
    db_path(path, sizeof(path));
    snprintf(wal, sizeof(wal), "%s-wal", path);
    cr_assert(file_has(path, "CLEARROOTSECRET"), "the test must start from a clear-text row");

    s = must_open(NULL, NULL);
    obj_store_master_key(s, &mi);
    cr_assert_eq(mi.created, 1, "an unsealed store gets a key");
    cr_assert_eq(lookup(s, "AKIDROOT", secret, sizeof(secret)), 0);
    cr_assert_str_eq(secret, "CLEARROOTSECRET0123456789");
    cr_assert_eq(lookup(s, "AKIDBOB", secret, sizeof(secret)), -CN_ENOKEY_ID); /* disabled stays disabled */
    cr_assert_eq(add_key(s, "carol", "AKIDCAROL", "carol-secret"), 0);
    db_value("SELECT group_concat(typeof(secret)) FROM access_keys", v, sizeof(v));
    cr_assert_str_eq(v, "blob,blob,blob");
    db_value("SELECT v FROM meta_info WHERE k = 'master_key_id'", v, sizeof(v));
    cr_assert_str_eq(v, mi.id);
    /* the clear text is gone from the database file and its WAL */
    cr_assert(!file_has(path, "CLEARROOTSECRET"), "clear text left in %s", path);
    cr_assert(!file_has(path, "CLEARBOBSECRET"), "clear text left in %s", path);
    cr_assert(!file_has(wal, "CLEARROOTSECRET"), "clear text left in %s", wal);
    obj_store_close(s);

    /* a reopen does nothing more; the enabled flag of bob is intact */
    s = must_open(NULL, NULL);
    cr_assert_eq(lookup(s, "AKIDROOT", secret, sizeof(secret)), 0);
    obj_store_close(s);
    db_exec("UPDATE access_keys SET disabled = 0 WHERE access_key = 'AKIDBOB'");
    s = must_open(NULL, NULL);
    cr_assert_eq(lookup(s, "AKIDBOB", secret, sizeof(secret)), 0);
    cr_assert_str_eq(secret, "CLEARBOBSECRET9876543210");
    obj_store_close(s);
}

/* Once a store is sealed, a clear-text row is refused, and is not sealed by
 * a later open: anyone able to write the database could otherwise plant a
 * credential. */
Test(sealed, clear_text_row_in_sealed_store_refused)
{
    obj_store *s = must_open(NULL, NULL);
    char secret[64], v[32];

    obj_store_close(s);
    db_exec("INSERT INTO access_keys(access_key, secret, principal, created) VALUES ('AKIDEVE', 'planted', 'root', 0)");
    s = must_open(NULL, NULL);
    memset(secret, 'X', sizeof(secret));
    cr_assert_eq(lookup(s, "AKIDEVE", secret, sizeof(secret)), -CN_EINTERNAL);
    cr_assert(all_zero(secret, sizeof(secret)));
    obj_store_close(s);
    db_value("SELECT typeof(secret) FROM access_keys WHERE access_key = 'AKIDEVE'", v, sizeof(v));
    cr_assert_str_eq(v, "text");
}

/* The known-answer record, planted as a row: the store's additional data
 * ("cairn-secret-v1:" + access key) is the one the format document states. */
Test(sealed, known_answer_row)
{
    size_t n = 0;
    char *text = (char *)slurp(VEC_FILE, &n);
    char key[80], ak[64], sk[64], rec[256], sql[512], secret[64];
    obj_store *s = NULL;

    cr_assert_not_null(text);
    text[n] = '\0';
    vec_field(text, "master_key", key, sizeof(key));
    vec_field(text, "access_key", ak, sizeof(ak));
    vec_field(text, "secret", sk, sizeof(sk));
    vec_field(text, "record", rec, sizeof(rec));
    free(text);
    s = must_open(key, NULL);
    obj_store_close(s);
    snprintf(sql, sizeof(sql),
             "INSERT INTO access_keys(access_key, secret, principal, created) VALUES ('%s', x'%s', 'root', 0)", ak,
             rec);
    db_exec(sql);
    s = must_open(key, NULL);
    cr_assert_eq(lookup(s, ak, secret, sizeof(secret)), 0);
    cr_assert_str_eq(secret, sk);
    obj_store_close(s);
}

/* ---- gateway: where the key comes from ---- */

TestSuite(gateway, .init = setup, .fini = teardown);

static int bootstrap_in(gw_config *c)
{
    gw_config_init(c);
    free(c->data_dir);
    c->data_dir = strdup(dir);
    return gw_bootstrap(c);
}

Test(gateway, env_key_used_and_no_file)
{
    gw_config c;
    obj_master_key_info mi;
    cn_mkey *k = key_of(KEY_A);
    char path[256];
    int n = 0;

    cr_assert_eq(setenv("CAIRN_MASTER_KEY", KEY_A, 1), 0);
    cr_assert_eq(bootstrap_in(&c), 0);
    obj_store_master_key(gw__state.store, &mi);
    cr_assert_null(mi.file);
    cr_assert_str_eq(mi.id, cn_mkey_id(k));
    cr_assert_eq(obj_key_count(gw__state.store, &n), 0);
    cr_assert_eq(n, 1, "root credentials were made and sealed");
    snprintf(path, sizeof(path), "%s/master.key", dir);
    cr_assert(!exists(path), "CAIRN_MASTER_KEY set: no key file may be created");
    obj_store_close(gw__state.store);
    gw__state.store = NULL;
    gw_config_dispose(&c);
    cn_mkey_destroy(k);
}

Test(gateway, env_key_invalid_refused)
{
    gw_config c;

    cr_assert_eq(setenv("CAIRN_MASTER_KEY", "", 1), 0);
    cr_assert_eq(bootstrap_in(&c), -1);
    gw_config_dispose(&c);
}

Test(gateway, file_key_by_default)
{
    gw_config c;
    obj_master_key_info mi;
    char path[256];
    struct stat sb;

    unsetenv("CAIRN_MASTER_KEY");
    cr_assert_eq(bootstrap_in(&c), 0);
    obj_store_master_key(gw__state.store, &mi);
    snprintf(path, sizeof(path), "%s/master.key", dir);
    cr_assert_str_eq(mi.file, path);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 077, 0);
    obj_store_close(gw__state.store);
    gw__state.store = NULL;
    gw_config_dispose(&c);
}

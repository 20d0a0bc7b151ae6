/*
 * keys: access keys of users (the secret half of SigV4), and the store's
 * master key, which seals their secrets.
 *
 * SigV4 needs the secret itself to compute its HMACs, so it cannot be
 * hashed: it is sealed (AES-256-GCM, common/masterkey.h) with the
 * additional data "cairn-secret-v1:" + access key, so that a sealed secret
 * copied onto another access key's row does not open.
 *
 * Opening a store (obj__keys_open(), from obj_store_open()):
 *
 *   meta_info 'master_key_id'   key given?         result
 *   -------------------------   ----------         ------
 *   absent (new or older store) text               use it
 *                               file exists        read it (0600, 32 bytes)
 *                               file missing       create it (0600)
 *                               then, in one write transaction: seal every
 *                               clear-text (TEXT) secret, record the key's id
 *   present                     any                the key's id must match,
 *                                                  else the open fails; a
 *                                                  missing file is never
 *                                                  re-created
 *
 * Never creating a key for a sealed store is what keeps a lost or misplaced
 * key file from silently orphaning every access key.
 *
 * A key belongs to a user (obj/users.c) or to a capability (obj/caps.c,
 * principal "cap:<id>"): obj_key_create() refuses one for a user or
 * capability that does not exist, and the lookup one whose owner is gone.
 *
 * Invariants: neither the master key nor a secret is ever logged or put in
 * an error message (obj__sqlerr() logs statement text and SQLite's message,
 * never bound values); a plaintext secret held here is wiped after use; a
 * secret that does not open is an error (-CN_EINTERNAL, logged with the
 * access key only), never returned.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

#define SECRET_MAX 128
#define AAD_LABEL "cairn-secret-v1:"
#define AAD_MAX (sizeof(AAD_LABEL) - 1 + SECRET_MAX)
#define REC_MAX (SECRET_MAX + CN_MKEY_OVERHEAD)

typedef struct key_ctx {
    const cn_mkey *mkey;
    const char *access_key, *principal;
    const uint8_t *rec; /* sealed secret to insert */
    size_t rec_len;
    char *secret_out, *principal_out;
    size_t secret_cap, principal_cap;
    int count;
} key_ctx;

/* The additional data that binds a sealed secret to its access key. */
static size_t secret_aad(uint8_t out[AAD_MAX], const char *access_key, size_t len)
{
    memcpy(out, AAD_LABEL, sizeof(AAD_LABEL) - 1);
    memcpy(out + sizeof(AAD_LABEL) - 1, access_key, len);
    return sizeof(AAD_LABEL) - 1 + len;
}

static int seal_secret(const cn_mkey *k, const char *access_key, const char *secret, uint8_t rec[REC_MAX],
                       size_t *rec_len)
{
    uint8_t aad[AAD_MAX];
    size_t ak_len = strlen(access_key), n = strlen(secret);

    if (ak_len > SECRET_MAX || n > SECRET_MAX)
        return -CN_EINVALID_ARGUMENT;
    return cn_mkey_seal(k, aad, secret_aad(aad, access_key, ak_len), secret, n, rec, REC_MAX, rec_len);
}

static int copy_out(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    const unsigned char *v = sqlite3_column_text(st, col);

    if (dst == NULL)
        return 0;
    if (v == NULL || n >= cap)
        return -CN_ETOOLARGE;
    memcpy(dst, v, n + 1);
    return 0;
}

/* Opens the sealed secret in column col into k->secret_out. */
static int open_secret(key_ctx *k, sqlite3_stmt *st, int col)
{
    uint8_t aad[AAD_MAX], pt[SECRET_MAX];
    const uint8_t *rec = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col), len = 0;
    char had[2 * CN_MKEY_ID_LEN + 1] = "?";
    int rc = 0;

    if (sqlite3_column_type(st, col) != SQLITE_BLOB) {
        fprintf(stderr, "obj: access key %s: secret is stored in clear in a sealed store; refused\n", k->access_key);
        return -CN_EINTERNAL;
    }
    rc =
        cn_mkey_open(k->mkey, aad, secret_aad(aad, k->access_key, strlen(k->access_key)), rec, n, pt, sizeof(pt), &len);
    if (rc == -CN_EACCESS) {
        cn_hex(had, rec + 1, CN_MKEY_ID_LEN); /* the record's key id, not a key */
        fprintf(stderr, "obj: access key %s: secret sealed under master key %s, not this store's %s\n", k->access_key,
                had, cn_mkey_id(k->mkey));
        return -CN_EINTERNAL;
    }
    if (rc != 0) {
        fprintf(stderr, "obj: access key %s: sealed secret does not open (corrupt, or moved from another key)\n",
                k->access_key);
        return -CN_EINTERNAL;
    }
    if (k->secret_out != NULL) {
        if (len >= k->secret_cap) {
            rc = -CN_ETOOLARGE;
        } else {
            memcpy(k->secret_out, pt, len);
            k->secret_out[len] = '\0';
        }
    }
    OPENSSL_cleanse(pt, sizeof(pt));
    return rc;
}

static int lookup_read(obj__conn *c, void *arg)
{
    key_ctx *k = arg;
    sqlite3_stmt *st = NULL;
    /* A key outliving its user cannot happen (users.c deletes both at
     * once); the join refuses one all the same (schema.c, note 9). */
    int rc = obj__stmt(c,
                       "SELECT secret, principal FROM access_keys WHERE access_key = ?1 AND disabled = 0 "
                       "AND (EXISTS (SELECT 1 FROM users WHERE name = access_keys.principal) OR "
                       "(access_keys.principal LIKE 'cap:%' AND "
                       "EXISTS (SELECT 1 FROM caps WHERE caps.id = substr(access_keys.principal, 5))))",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, k->access_key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_ENOKEY_ID : obj__sqlerr(c, rc, "access key lookup");
    rc = open_secret(k, st, 0);
    if (rc == 0)
        rc = copy_out(st, 1, k->principal_out, k->principal_cap);
    return rc;
}

int obj_key_lookup(void *store, const char *access_key, char *secret, size_t secret_cap, char *principal,
                   size_t principal_cap)
{
    obj_store *s = store;
    key_ctx k = {.mkey = s->mkey,
                 .access_key = access_key,
                 .secret_out = secret,
                 .secret_cap = secret_cap,
                 .principal_out = principal,
                 .principal_cap = principal_cap};
    int rc = 0;

    if (access_key == NULL || access_key[0] == '\0' || strlen(access_key) > SECRET_MAX)
        rc = -CN_ENOKEY_ID; /* longer access keys are never created */
    else
        rc = obj__meta_read(s->meta, lookup_read, &k);
    if (rc != 0 && secret != NULL && secret_cap > 0)
        OPENSSL_cleanse(secret, secret_cap);
    return rc;
}

static int create_commit(obj__conn *c, void *arg)
{
    key_ctx *k = arg;
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    int rc = strncmp(k->principal, "cap:", 4) == 0 ? obj__cap_exists(c, k->principal + 4)
                                                   : obj__user_exists(c, k->principal);

    if (rc == 0)
        rc = obj__count(c, "SELECT count(*) FROM access_keys WHERE principal = ?1", k->principal, &n);
    if (rc == 0 && n >= OBJ_USER_MAX_KEYS)
        rc = -CN_ETOOLARGE;
    if (rc == 0)
        rc = obj__stmt(c,
                       "INSERT INTO access_keys(access_key, secret, principal, created) VALUES (?1, ?2, ?3, ?4) "
                       "ON CONFLICT(access_key) DO NOTHING",
                       &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, k->access_key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, k->rec, (int)k->rec_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->principal, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)cn_now());
    rc = obj__step_done(c, st);
    if (rc == 0 && sqlite3_changes(obj__db(c)) != 1)
        rc = -CN_ECONFLICT; /* access key already exists */
    return rc;
}

int obj_key_create(obj_store *s, const char *principal, const char *access_key, const char *secret_key)
{
    uint8_t rec[REC_MAX];
    key_ctx k = {.access_key = access_key, .principal = principal, .rec = rec};
    int rc = 0;

    if (principal == NULL || access_key == NULL || secret_key == NULL || access_key[0] == '\0' ||
        secret_key[0] == '\0' || strlen(access_key) > SECRET_MAX || strlen(secret_key) > SECRET_MAX)
        return -CN_EINVALID_ARGUMENT;
    /* sealed here, on the caller's thread, not on the committer's */
    rc = seal_secret(s->mkey, access_key, secret_key, rec, &k.rec_len);
    if (rc == 0)
        rc = obj__meta_write(s->meta, create_commit, &k);
    return rc;
}

static int count_read(obj__conn *c, void *arg)
{
    key_ctx *k = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT count(*) FROM access_keys", &st);

    if (rc != 0)
        return rc;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return obj__sqlerr(c, rc, "access key count");
    k->count = sqlite3_column_int(st, 0);
    return 0;
}

int obj_key_count(obj_store *s, int *count)
{
    key_ctx k = {0};
    int rc = obj__meta_read(s->meta, count_read, &k);

    *count = rc == 0 ? k.count : 0;
    return rc;
}

/* ---- opening the store: the master key and the sealing of old rows ---- */

typedef struct seal_ctx {
    const cn_mkey *mkey;
    char recorded[2 * CN_MKEY_ID_LEN + 1]; /* meta_info 'master_key_id', "" if absent */
    int sealed;                            /* clear-text rows sealed */
} seal_ctx;

static int recorded_id(obj__conn *c, seal_ctx *o)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT v FROM meta_info WHERE k = 'master_key_id'", &st);

    o->recorded[0] = '\0';
    if (rc != 0)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        obj__col_copy(st, 0, o->recorded, sizeof(o->recorded));
    else if (rc != SQLITE_DONE)
        return obj__sqlerr(c, rc, "master key id");
    sqlite3_reset(st);
    return 0;
}

static int recorded_read(obj__conn *c, void *arg)
{
    return recorded_id(c, arg);
}

typedef struct clear_row {
    char *access_key, *secret;
} clear_row;

static void clear_rows_free(clear_row *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].access_key);
        if (v[i].secret != NULL)
            OPENSSL_cleanse(v[i].secret, strlen(v[i].secret));
        free(v[i].secret);
    }
    free(v);
}

/* Reads every clear-text secret first: rows are not updated while a SELECT
 * over their table is still stepping. */
static int clear_rows(obj__conn *c, clear_row **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    clear_row *v = NULL;
    size_t cap = 0;
    int step = SQLITE_ROW;
    int rc = obj__stmt(c, "SELECT access_key, secret FROM access_keys WHERE typeof(secret) <> 'blob'", &st);

    *out = NULL;
    *n = 0;
    while (rc == 0) {
        step = sqlite3_step(st);
        if (step != SQLITE_ROW)
            break;
        if (cn_grow(&v, &cap, *n, sizeof(*v), 8) != 0) {
            rc = -CN_ENOMEM;
            break;
        }
        v[*n].access_key = obj__col_dup(st, 0);
        v[*n].secret = obj__col_dup(st, 1);
        if (v[*n].access_key == NULL || v[*n].secret == NULL)
            rc = -CN_ENOMEM;
        (*n)++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = obj__sqlerr(c, step, "clear-text access keys");
    if (st != NULL)
        sqlite3_reset(st);
    if (rc != 0) {
        clear_rows_free(v, *n);
        v = NULL;
        *n = 0;
    }
    *out = v;
    return rc;
}

/* Sets PRAGMA secure_delete on this connection; *was gets the old setting. */
static int secure_delete(obj__conn *c, int on, int *was)
{
    sqlite3 *db = obj__db(c);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA secure_delete", -1, &st, NULL);

    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        *was = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, on ? "PRAGMA secure_delete = 1" : "PRAGMA secure_delete = 0", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : obj__sqlerr(c, rc, "secure_delete");
}

static int seal_commit(obj__conn *c, void *arg)
{
    seal_ctx *o = arg;
    sqlite3_stmt *up = NULL, *ins = NULL;
    clear_row *rows = NULL;
    uint8_t rec[REC_MAX];
    size_t n = 0, len = 0;
    int was = -1, ignored = 0, rc = recorded_id(c, o);

    if (rc != 0 || o->recorded[0] != '\0')
        return rc; /* sealed already (the caller compares the ids) */
    rc = clear_rows(c, &rows, &n);
    /* The clear text must not outlive its row in the database file's free
     * space: zero what the updates free (this connection only, restored below). */
    if (rc == 0 && n > 0)
        rc = secure_delete(c, 1, &was);
    if (rc == 0 && n > 0)
        rc = obj__stmt(c, "UPDATE access_keys SET secret = ?2 WHERE access_key = ?1", &up);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = seal_secret(o->mkey, rows[i].access_key, rows[i].secret, rec, &len);
        if (rc != 0) {
            fprintf(stderr, "obj: access key %s: cannot seal its clear-text secret\n", rows[i].access_key);
            break;
        }
        sqlite3_reset(up);
        sqlite3_bind_text(up, 1, rows[i].access_key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(up, 2, rec, (int)len, SQLITE_STATIC);
        rc = obj__step_done(c, up);
    }
    if (was == 0)
        secure_delete(c, 0, &ignored);
    if (rc == 0)
        rc = obj__stmt(c, "INSERT INTO meta_info(k, v) VALUES ('master_key_id', ?1)", &ins);
    if (rc == 0) {
        sqlite3_bind_text(ins, 1, cn_mkey_id(o->mkey), -1, SQLITE_STATIC);
        rc = obj__step_done(c, ins);
    }
    if (rc == 0)
        o->sealed = (int)n;
    clear_rows_free(rows, n);
    return rc;
}

/* Moves the WAL's frames into the database file and empties the WAL, so the
 * pages that held clear-text secrets are overwritten now, not at some later
 * checkpoint. Best effort: the rows are sealed either way. */
static void checkpoint(const char *db_path)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        if (sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
            fprintf(stderr, "obj: checkpoint after sealing secrets: %s\n", sqlite3_errmsg(db));
    }
    sqlite3_close(db);
}

/* A rotation that committed but crashed before renaming <file>.new over
 * the key file (rotate.c): the store names the new key, which is in .new. */
static int finish_rotation(obj_store *s, const char *recorded)
{
    char pending[PATH_MAX + 8], err[PATH_MAX + 160];
    cn_mkey *k = NULL;

    snprintf(pending, sizeof(pending), "%s.new", s->mkey_file);
    if (cn_mkey_load_file(&k, pending, 0, NULL, err, sizeof(err)) != 0)
        return 0; /* none: the caller reports the mismatch */
    if (strcmp(cn_mkey_id(k), recorded) != 0 || rename(pending, s->mkey_file) != 0) {
        cn_mkey_destroy(k);
        return 0;
    }
    fprintf(stderr, "obj: finished the rotation to master key %s (%s)\n", recorded, s->mkey_file);
    cn_mkey_destroy(s->mkey);
    s->mkey = k;
    return 0;
}

int obj__keys_open(obj_store *s, const obj_config *cfg, const char *db_path)
{
    char err[PATH_MAX + 160] = "", path[PATH_MAX];
    seal_ctx o = {0};
    int rc = obj__meta_read(s->meta, recorded_read, &o);

    if (rc != 0)
        return rc;
    if (cfg->master_key != NULL) {
        rc = cn_mkey_from_text(&s->mkey, cfg->master_key, err, sizeof(err));
    } else {
        if (cfg->master_key_file != NULL && cfg->master_key_file[0] != '\0')
            snprintf(path, sizeof(path), "%s", cfg->master_key_file);
        else
            snprintf(path, sizeof(path), "%s/master.key", cfg->data_dir);
        s->mkey_file = strdup(path);
        if (s->mkey_file == NULL)
            return -CN_ENOMEM;
        rc = cn_mkey_load_file(&s->mkey, path, o.recorded[0] == '\0', &s->mkey_created, err, sizeof(err));
    }
    if (rc != 0) {
        fprintf(stderr, "obj: master key: %s\n", err);
        if (o.recorded[0] != '\0')
            fprintf(stderr, "obj: the access keys of this store are sealed under master key %s\n", o.recorded);
        return rc;
    }
    if (rc == 0 && s->mkey_file != NULL && o.recorded[0] != '\0' && strcmp(o.recorded, cn_mkey_id(s->mkey)) != 0)
        rc = finish_rotation(s, o.recorded);
    o.mkey = s->mkey;
    if (o.recorded[0] == '\0')
        rc = obj__meta_write(s->meta, seal_commit, &o); /* may find the id recorded meanwhile */
    if (rc == 0 && o.recorded[0] != '\0' && strcmp(o.recorded, cn_mkey_id(s->mkey)) != 0) {
        fprintf(stderr,
                "obj: master key %s is not this store's: its access keys are sealed under master key %s "
                "(restore that key's file, or give that key)\n",
                cn_mkey_id(s->mkey), o.recorded);
        rc = -CN_EACCESS;
    }
    if (rc == 0 && o.sealed > 0) {
        fprintf(stderr, "obj: sealed the clear-text secrets of %d access keys under master key %s\n", o.sealed,
                cn_mkey_id(s->mkey));
        checkpoint(db_path);
    }
    return rc;
}

void obj_store_master_key(obj_store *s, obj_master_key_info *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", cn_mkey_id(s->mkey));
    out->file = s->mkey_file;
    out->created = s->mkey_created;
}

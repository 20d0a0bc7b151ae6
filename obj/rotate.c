/*
 * rotate: `cairn key rotate`, a new master key for a store, without
 * rewriting any data: only what the master key seals is re-sealed, the
 * access-key secrets and the blob keys in blobs.layout.
 *
 *   1. a new key is written to <key file>.new (0600, fsync'd; with a key
 *      given as text, to the file the operator names)
 *   2. one write transaction: every secret and every blob key opened with
 *      the old key and sealed with the new; meta_info 'master_key_id' set
 *      to the new key's id
 *   3. <key file>.new renamed over <key file>, directory fsync'd
 *
 * A crash before 2 commits leaves the store on the old key (the stale .new
 * is removed by the next rotation); a crash between 2 and 3 leaves the
 * store on the new key with the new key in .new, which obj__keys_open()
 * finds by its id and finishes renaming. The gateway must not run during a
 * rotation (the caller holds the data directory's lock): it would go on
 * wrapping new blob keys with the old key.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "../common/keyfile.h"
#include "obj_int.h"

typedef struct rot_ctx {
    const cn_mkey *old_k, *new_k;
    size_t secrets, blobs;
} rot_ctx;

#define ROT_SECRET_MAX 256

static int rot_secret(rot_ctx *r, obj__conn *c, sqlite3_stmt *up, const char *ak, const uint8_t *rec, size_t n)
{
    char aad[ROT_SECRET_MAX + 32];
    uint8_t pt[ROT_SECRET_MAX], out[ROT_SECRET_MAX + CN_MKEY_OVERHEAD];
    size_t len = 0, olen = 0;
    int rc = 0;

    snprintf(aad, sizeof(aad), "cairn-secret-v1:%s", ak);
    rc = cn_mkey_open(r->old_k, aad, strlen(aad), rec, n, pt, sizeof(pt), &len);
    if (rc == 0)
        rc = cn_mkey_seal(r->new_k, aad, strlen(aad), pt, len, out, sizeof(out), &olen);
    OPENSSL_cleanse(pt, sizeof(pt));
    if (rc != 0)
        return rc;
    sqlite3_reset(up);
    sqlite3_bind_text(up, 1, ak, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(up, 2, out, (int)olen, SQLITE_TRANSIENT);
    r->secrets++;
    return obj__step_done(c, up);
}

/* Every row of sql (text, blob) read into memory first: updating a table
 * while a SELECT over it steps may show the SELECT an updated row again
 * (a WITHOUT ROWID table reorders), which would re-seal it twice. */
typedef struct rows {
    char **a;
    uint8_t **b;
    size_t *blen, n, cap;
} rows;

static void rows_free(rows *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->a[i]);
        if (v->b[i] != NULL)
            OPENSSL_cleanse(v->b[i], v->blen[i]);
        free(v->b[i]);
    }
    free(v->a);
    free(v->b);
    free(v->blen);
}

static int rows_load(obj__conn *c, const char *sql, rows *v)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, sql, &st), step = 0;

    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t cap = v->cap, cap2 = v->cap;
        if (cn_grow(&v->a, &cap, v->n, sizeof(*v->a), 16) != 0 || cn_grow(&v->b, &cap2, v->n, sizeof(*v->b), 16) != 0 ||
            cn_grow(&v->blen, &v->cap, v->n, sizeof(*v->blen), 16) != 0)
            rc = -CN_ENOMEM;
        if (rc != 0)
            break;
        v->a[v->n] = obj__col_dup(st, 0);
        v->blen[v->n] = (size_t)sqlite3_column_bytes(st, 1);
        v->b[v->n] = (uint8_t *)obj__col_dup(st, 1);
        v->n++;
        if (v->a[v->n - 1] == NULL || v->b[v->n - 1] == NULL)
            rc = -CN_ENOMEM;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = obj__sqlerr(c, step, "rotate: read");
    if (st != NULL)
        sqlite3_reset(st);
    return rc;
}

static int rot_secrets(obj__conn *c, rot_ctx *r)
{
    sqlite3_stmt *up = NULL;
    rows v = {0};
    int rc = rows_load(c, "SELECT access_key, secret FROM access_keys", &v);

    if (rc == 0)
        rc = obj__stmt(c, "UPDATE access_keys SET secret = ?2 WHERE access_key = ?1", &up);
    for (size_t i = 0; rc == 0 && i < v.n; i++)
        rc = rot_secret(r, c, up, v.a[i], v.b[i], v.blen[i]);
    rows_free(&v);
    return rc;
}

/* One blob row: "bid locator size" and its layout. */
static int rot_blob(rot_ctx *r, obj__conn *c, sqlite3_stmt *up, const char *row, const char *layout)
{
    char loc[40], text[SEAL_LAYOUT_MAX];
    long long bid = 0;
    unsigned long long size = 0;
    seal_ref ref;
    int rc = sscanf(row, "%lld %39s %llu", &bid, loc, &size) == 3 ? 0 : -CN_EINTERNAL;

    if (rc == 0)
        rc = seal_ref_parse(&ref, loc, size, layout);
    if (rc == 0 && ref.plain)
        return 0;
    if (rc == 0)
        rc = seal_ref_rewrap(&ref, r->old_k, r->new_k);
    if (rc == 0)
        rc = seal_ref_format(&ref, text, sizeof(text));
    if (rc != 0)
        return rc;
    sqlite3_reset(up);
    sqlite3_bind_int64(up, 1, bid);
    sqlite3_bind_text(up, 2, text, -1, SQLITE_TRANSIENT);
    r->blobs++;
    return obj__step_done(c, up);
}

static int rot_blobs(obj__conn *c, rot_ctx *r)
{
    sqlite3_stmt *up = NULL;
    rows v = {0};
    int rc =
        rows_load(c, "SELECT bid || ' ' || locator || ' ' || size, layout FROM blobs WHERE layout IS NOT NULL", &v);

    if (rc == 0)
        rc = obj__stmt(c, "UPDATE blobs SET layout = ?2 WHERE bid = ?1", &up);
    for (size_t i = 0; rc == 0 && i < v.n; i++)
        rc = rot_blob(r, c, up, v.a[i], (const char *)v.b[i]);
    rows_free(&v);
    return rc;
}

static int rot_commit(obj__conn *c, void *arg)
{
    rot_ctx *r = arg;
    sqlite3_stmt *st = NULL;
    int rc = rot_secrets(c, r);

    if (rc == 0)
        rc = rot_blobs(c, r);
    if (rc == 0)
        rc = obj__stmt(c, "UPDATE meta_info SET v = ?1 WHERE k = 'master_key_id'", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, cn_mkey_id(r->new_k), -1, SQLITE_STATIC);
    return obj__step_done(c, st);
}

int obj_master_key_rotate(obj_store *s, const char *new_key_file, obj_rotate_report *out)
{
    char pending[PATH_MAX + 8], err[PATH_MAX + 160] = "";
    rot_ctx r = {.old_k = s->mkey};
    cn_mkey *nk = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (s->mkey_file == NULL && new_key_file == NULL)
        return -CN_EINVALID_ARGUMENT; /* a key given as text: the new one needs a file to go to */
    snprintf(pending, sizeof(pending), "%s", new_key_file != NULL ? new_key_file : "");
    if (new_key_file == NULL) {
        snprintf(pending, sizeof(pending), "%s.new", s->mkey_file);
        unlink(pending); /* a stale one from a rotation that never committed */
    }
    rc = cn_mkey_generate(&nk);
    if (rc == 0)
        rc = cn_mkey_write_file(nk, pending, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "obj: key rotate: %s\n", err[0] ? err : cn_err_info(rc)->message);
        cn_mkey_destroy(nk);
        return rc;
    }
    r.new_k = nk;
    rc = obj__meta_write(s->meta, rot_commit, &r);
    if (rc != 0) {
        unlink(pending); /* nothing was sealed under it */
        cn_mkey_destroy(nk);
        return rc;
    }
    if (new_key_file == NULL && (rename(pending, s->mkey_file) != 0 || cn_fsync_parent(s->mkey_file) != 0))
        rc = -CN_EIO; /* committed: the next open finishes the rename */
    out->secrets = r.secrets;
    out->blobs = r.blobs;
    snprintf(out->old_id, sizeof(out->old_id), "%s", cn_mkey_id(s->mkey));
    snprintf(out->new_id, sizeof(out->new_id), "%s", cn_mkey_id(nk));
    cn_mkey_destroy(s->mkey);
    s->mkey = nk;
    seal_vault_set_master(s->vault, nk);
    return rc;
}

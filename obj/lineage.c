/*
 * lineage: signing each new version's canonical record inside its commit
 * transaction, and reading a key's chain back (obj.h; docs/LINEAGE.md).
 *
 * Invariants:
 *  1. A version's record_hash, signature, parent_hash and derived_hash are
 *     written in the same transaction as its row (obj__ver_insert() calls
 *     obj__lineage_sign()), so no committed version lacks them, and the
 *     parent's hash is read under the same write lock that chose the parent.
 *  2. The parent and copy-source hashes are copied into the row: those rows
 *     may be deleted later, and the record must still recompute.
 *  3. Rows from before schema version 4 stay unsigned (schema.c, note 7).
 *  4. A version with sources (a multipart upload of copied parts) gets a
 *     version 2 record; its sources go to version_sources in the same
 *     transaction, and are read back in their stored (ascending) order.
 *
 * Not done here: verification (common/lineage.c does it, offline).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

int obj__lineage_open(obj_store *s, const obj_config *cfg)
{
    char err[PATH_MAX + 160] = "", path[PATH_MAX];
    int rc = 0;

    if (cfg->region_key != NULL) {
        rc = cn_rkey_from_text(&s->rkey, cfg->region_key, err, sizeof(err));
    } else {
        if (cfg->region_key_file != NULL && cfg->region_key_file[0] != '\0')
            snprintf(path, sizeof(path), "%s", cfg->region_key_file);
        else
            snprintf(path, sizeof(path), "%s/region.key", cfg->data_dir);
        s->rkey_file = strdup(path);
        if (s->rkey_file == NULL)
            return -CN_ENOMEM;
        rc = cn_rkey_load_file(&s->rkey, path, 1, &s->rkey_created, err, sizeof(err));
    }
    if (rc != 0)
        fprintf(stderr, "obj: region key: %s\n", err);
    return rc;
}

void obj_store_region_key(obj_store *s, obj_region_key_info *out)
{
    memset(out, 0, sizeof(*out));
    out->public_hex = cn_rkey_public_hex(s->rkey);
    out->file = s->rkey_file;
    out->created = s->rkey_created;
}

/* The record hash of vid into hex ("" if vid is 0, gone or unsigned). */
int obj__lineage_hash(obj__conn *c, int64_t vid, char hex[CN_LIN_HASH_HEX])
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    hex[0] = '\0';
    if (vid == 0)
        return 0;
    rc = obj__stmt(c, "SELECT record_hash FROM versions WHERE vid = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        obj__col_copy(st, 0, hex, CN_LIN_HASH_HEX);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "lineage parent hash");
}

/* The content addresses of vid's extents, in order. *out is malloc'd. */
static int extents_of(obj__conn *c, int64_t vid, cn_lin_extent **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    cn_lin_extent *v = NULL;
    size_t cap = 0;
    int rc = obj__stmt(c,
                       "SELECT b.sha256, e.off, e.len FROM extents e LEFT JOIN blobs b ON b.bid = e.bid "
                       "WHERE e.vid = ?1 ORDER BY e.idx",
                       &st);

    *out = NULL;
    *n = 0;
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cn_grow(&v, &cap, *n, sizeof(*v), 4) != 0) {
            rc = -CN_ENOMEM;
            break;
        }
        obj__col_copy(st, 0, v[*n].sha256, sizeof(v[*n].sha256));
        v[*n].off = (uint64_t)sqlite3_column_int64(st, 1);
        v[*n].len = (uint64_t)sqlite3_column_int64(st, 2);
        (*n)++;
    }
    sqlite3_reset(st);
    rc = rc == SQLITE_DONE ? 0 : rc < 0 ? rc : obj__sqlerr(c, rc, "lineage extents");
    if (rc != 0) {
        free(v);
        v = NULL;
        *n = 0;
    }
    *out = v;
    return rc;
}

static int store_sig(obj__conn *c, int64_t vid, const char *hash, const uint8_t *sig, const cn_lin_record *r)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "UPDATE versions SET record_hash = ?2, signature = ?3, parent_hash = ?4, derived_hash = ?5 "
                       "WHERE vid = ?1",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, sig, CN_LIN_SIG_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->parent_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->derived_hash, -1, SQLITE_STATIC);
    return obj__step_done(c, st);
}

static int store_sources(obj__conn *c, int64_t vid, const obj__source *src, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = obj__stmt(c, "INSERT INTO version_sources(vid, idx, src_vid, src_hash) VALUES (?1, ?2, ?3, ?4)", &st);
        if (rc != 0)
            break;
        sqlite3_bind_int64(st, 1, vid);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_int64(st, 3, src[i].vid);
        sqlite3_bind_text(st, 4, src[i].hash, -1, SQLITE_STATIC);
        rc = obj__step_done(c, st);
    }
    return rc;
}

/* nv's source hashes as the record's list (pointing into nv). */
static int source_list(const obj__newver *nv, const char ***out)
{
    const char **v = NULL;

    *out = NULL;
    if (nv->n_sources == 0)
        return 0;
    v = calloc(nv->n_sources, sizeof(*v));
    if (v == NULL)
        return -CN_ENOMEM;
    for (size_t i = 0; i < nv->n_sources; i++)
        v[i] = nv->sources[i].hash;
    *out = v;
    return 0;
}

int obj__lineage_sign(obj__conn *c, const obj__newver *nv, const char *version_id, int64_t vid, int64_t parent)
{
    char parent_hash[CN_LIN_HASH_HEX], derived_hash[CN_LIN_HASH_HEX], hash[CN_LIN_HASH_HEX];
    uint8_t sig[CN_LIN_SIG_LEN];
    cn_lin_extent *ext = NULL;
    const char **src = NULL;
    cn_lin_record r = {0};
    int rc = obj__lineage_hash(c, parent, parent_hash);

    if (rc == 0)
        rc = obj__lineage_hash(c, nv->derived_from, derived_hash);
    if (rc == 0)
        rc = source_list(nv, &src);
    if (rc == 0)
        rc = store_sources(c, vid, nv->sources, nv->n_sources);
    /* read back rather than from nv->ext: the stored rows are what a
     * reader will see, and the blob's address is only known here */
    if (rc == 0)
        rc = extents_of(c, vid, &ext, &r.n_ext);
    if (rc != 0)
        goto out;
    r.bucket = nv->bucket;
    r.key = nv->key;
    r.key_len = strlen(nv->key);
    r.version_id = version_id;
    r.parent_hash = parent_hash;
    r.derived_hash = derived_hash;
    r.sources = src;
    r.n_sources = nv->n_sources;
    r.size = nv->delete_marker ? 0 : nv->size;
    r.etag = nv->etag != NULL ? nv->etag : "";
    r.created_ms = nv->now_ms;
    r.delete_marker = nv->delete_marker != 0;
    r.region = nv->region != NULL ? nv->region : "";
    r.ext = ext;
    rc = cn_lin_hash(&r, hash);
    if (rc == 0)
        rc = cn_rkey_sign(nv->rkey, hash, sig);
    if (rc == 0)
        rc = store_sig(c, vid, hash, sig, &r);
out:
    free(ext);
    free(src);
    return rc;
}

/* ---- reading a chain ---- */

typedef struct chain_ctx {
    const char *bucket, *key;
    obj_lineage_rec *v;
    size_t n;
    int truncated;
} chain_ctx;

static void rec_from_row(sqlite3_stmt *st, obj_lineage_rec *r)
{
    const void *sig = sqlite3_column_blob(st, 11);
    size_t sig_len = (size_t)sqlite3_column_bytes(st, 11);

    obj__col_copy(st, 1, r->version_id, sizeof(r->version_id));
    obj__col_copy(st, 2, r->parent_hash, sizeof(r->parent_hash));
    obj__col_copy(st, 3, r->derived_hash, sizeof(r->derived_hash));
    r->size = (uint64_t)sqlite3_column_int64(st, 4);
    obj__col_copy(st, 5, r->etag, sizeof(r->etag));
    r->created_ms = sqlite3_column_int64(st, 6);
    r->delete_marker = sqlite3_column_int(st, 7);
    obj__col_copy(st, 8, r->region, sizeof(r->region));
    obj__col_copy(st, 10, r->record_hash, sizeof(r->record_hash));
    if (sig != NULL && sig_len == CN_LIN_SIG_LEN) {
        memcpy(r->sig, sig, CN_LIN_SIG_LEN);
        r->sig_len = CN_LIN_SIG_LEN;
    }
}

static int chain_rows(obj__conn *c, chain_ctx *x, int64_t *vids)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "SELECT vid, version_id, parent_hash, derived_hash, size, etag, created_ms, delete_marker, "
                       "region, key, record_hash, signature FROM versions WHERE bucket = ?1 AND key = ?2 "
                       "ORDER BY vid DESC LIMIT ?3",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, x->bucket, -1, SQLITE_STATIC);
    obj__bind_key(st, 2, x->key, strlen(x->key));
    sqlite3_bind_int(st, 3, OBJ_LINEAGE_MAX + 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        obj_lineage_rec *r = &x->v[x->n];
        if (x->n == OBJ_LINEAGE_MAX) {
            x->truncated = 1;
            break;
        }
        vids[x->n++] = sqlite3_column_int64(st, 0);
        rec_from_row(st, r);
        r->key = obj__col_dup(st, 9);
        r->key_len = (size_t)sqlite3_column_bytes(st, 9);
        if (r->key == NULL) {
            rc = -CN_ENOMEM;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : rc < 0 ? rc : obj__sqlerr(c, rc, "lineage chain");
}

/* vid's source hashes (version_sources), in their stored order. */
static int sources_of(obj__conn *c, int64_t vid, obj_lineage_rec *r)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = obj__stmt(c, "SELECT src_hash FROM version_sources WHERE vid = ?1 ORDER BY idx", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cn_grow(&r->sources, &cap, r->n_sources, sizeof(*r->sources), 4) != 0) {
            rc = -CN_ENOMEM;
            break;
        }
        r->sources[r->n_sources] = obj__col_dup(st, 0);
        if (r->sources[r->n_sources] == NULL) {
            rc = -CN_ENOMEM;
            break;
        }
        r->n_sources++;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : rc < 0 ? rc : obj__sqlerr(c, rc, "lineage sources");
}

static int chain_read(obj__conn *c, void *arg)
{
    chain_ctx *x = arg;
    int64_t *vids = calloc(OBJ_LINEAGE_MAX + 1, sizeof(*vids));
    int rc = vids != NULL ? obj__bucket_exists(c, x->bucket) : -CN_ENOMEM;

    if (rc == 0) {
        x->v = calloc(OBJ_LINEAGE_MAX + 1, sizeof(*x->v));
        rc = x->v != NULL ? chain_rows(c, x, vids) : -CN_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < x->n; i++)
        rc = extents_of(c, vids[i], &x->v[i].ext, &x->v[i].n_ext);
    for (size_t i = 0; rc == 0 && i < x->n; i++)
        rc = sources_of(c, vids[i], &x->v[i]);
    if (rc == 0 && x->n == 0)
        rc = -CN_ENO_KEY;
    free(vids);
    return rc;
}

int obj_lineage_get(obj_store *s, const char *bucket, const char *key, obj_lineage_rec **out, size_t *n, int *truncated)
{
    chain_ctx x = {.bucket = bucket, .key = key};
    int rc = obj_key_valid(key, key != NULL ? strlen(key) : 0);

    *out = NULL;
    *n = 0;
    *truncated = 0;
    if (rc == 0)
        rc = obj__meta_read(s->meta, chain_read, &x);
    if (rc != 0) {
        obj_lineage_free(x.v, x.n);
        return rc;
    }
    *out = x.v;
    *n = x.n;
    *truncated = x.truncated;
    return 0;
}

void obj_lineage_free(obj_lineage_rec *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].ext);
        for (size_t j = 0; j < v[i].n_sources; j++)
            free(v[i].sources[j]);
        free(v[i].sources);
    }
    free(v);
}

void obj_lineage_fields(const char *bucket, const obj_lineage_rec *r, cn_lin_record *out)
{
    memset(out, 0, sizeof(*out));
    out->bucket = bucket;
    out->key = r->key;
    out->key_len = r->key_len;
    out->version_id = r->version_id;
    out->parent_hash = r->parent_hash;
    out->derived_hash = r->derived_hash;
    out->sources = (const char *const *)r->sources;
    out->n_sources = r->n_sources;
    out->size = r->size;
    out->etag = r->etag;
    out->created_ms = r->created_ms;
    out->delete_marker = r->delete_marker;
    out->region = r->region;
    out->ext = r->ext;
    out->n_ext = r->n_ext;
}

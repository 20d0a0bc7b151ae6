/*
 * version: inserting, finding and releasing version rows (inside metadata
 * transactions), and the obj_version result type. The extent-row helpers
 * (obj__extents_*) serve a part's extents as well (multipart.c).
 *
 * Invariants kept here:
 *  1. At most one version per (bucket, key) has is_latest = 1; the old
 *     latest is cleared before the new one is inserted.
 *  2. A new version references its extents' blobs *before* the replaced
 *     "null" version releases its own, so copying a key onto itself or
 *     completing an upload whose parts share blobs never drops a blob to 0
 *     in between (a DEAD blob can never be revived).
 *  3. Releasing a version drops one reference per extent row and deletes the
 *     rows; blob bytes are removed later by obj_gc().
 *
 *  4. In a bucket with versioning enabled a new version gets a fresh id and
 *     nothing is released; otherwise (never enabled, suspended) it is the
 *     "null" version and replaces the key's null version, wherever that
 *     sits in the history (S3's rule). A delete marker is a version without
 *     extents.
 *  5. "Newest" is the highest vid: rows are only ever appended, so the
 *     order of vids is the order of writes within this gateway.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

int obj__bucket_exists(obj__conn *c, const char *bucket)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT 1 FROM buckets WHERE name = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? -CN_ENO_BUCKET : obj__sqlerr(c, rc, "bucket exists");
}

int obj__ver_find(obj__conn *c, const char *bucket, const char *key, const char *version_id, int64_t *vid,
                  int *delete_marker)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    *vid = 0;
    if (version_id == NULL)
        rc = obj__stmt(c, "SELECT vid, delete_marker FROM versions WHERE bucket = ?1 AND key = ?2 AND is_latest = 1",
                       &st);
    else
        rc = obj__stmt(c, "SELECT vid, delete_marker FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
                       &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    obj__bind_key(st, 2, key, strlen(key));
    if (version_id != NULL)
        sqlite3_bind_text(st, 3, version_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *vid = sqlite3_column_int64(st, 0);
        if (delete_marker != NULL)
            *delete_marker = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "version find");
}

int obj__ver_lookup(obj__conn *c, const char *bucket, const char *key, const char *version_id, int64_t *vid)
{
    int marker = 0;
    int rc = obj__bucket_exists(c, bucket);

    if (rc == 0)
        rc = obj__ver_find(c, bucket, key, version_id, vid, &marker);
    if (rc == 0 && *vid == 0)
        rc = version_id != NULL ? -CN_ENO_VERSION : -CN_ENO_KEY;
    if (rc == 0 && marker) /* S3: 405 for a marker named by id, 404 for a latest marker */
        rc = version_id != NULL ? -CN_EMETHOD_NOT_ALLOWED : -CN_ENO_KEY;
    return rc;
}

int obj__ver_from_row(sqlite3_stmt *st, const char *bucket, int with_attrs, obj_version *out)
{
    const char *tags = (const char *)sqlite3_column_text(st, 11);
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->vid = sqlite3_column_int64(st, 0);
    out->bucket = strdup(bucket);
    out->key = obj__col_dup(st, 1);
    if (out->bucket == NULL || out->key == NULL) {
        rc = -CN_ENOMEM;
        goto out;
    }
    obj__col_copy(st, 2, out->version_id, sizeof(out->version_id));
    out->mtime_ms = sqlite3_column_int64(st, 3);
    out->delete_marker = sqlite3_column_int(st, 4);
    out->size = (uint64_t)sqlite3_column_int64(st, 5);
    obj__col_copy(st, 6, out->etag, sizeof(out->etag));
    out->parts_count = sqlite3_column_int(st, 7);
    obj__col_copy(st, 8, out->storage_class, sizeof(out->storage_class));
    obj__col_copy(st, 9, out->owner, sizeof(out->owner));
    out->n_tags = obj__tags_count(tags);
    out->is_latest = sqlite3_column_int(st, 12);
    if (with_attrs)
        rc = obj__attrs_decode((const char *)sqlite3_column_text(st, 10), &out->attrs, &out->n_attrs);
out:
    if (rc != 0)
        obj_version_dispose(out);
    return rc;
}

static int ver_load(obj__conn *c, int64_t vid, const char *bucket, obj_version *out)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT " OBJ__VCOLS " FROM versions WHERE vid = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = obj__ver_from_row(st, bucket, 1, out);
    else
        rc = rc == SQLITE_DONE ? -CN_EINTERNAL : obj__sqlerr(c, rc, "version load");
    sqlite3_reset(st);
    return rc;
}

static const obj__extent_table ver_extents = {
    .select = "SELECT bid, off, len FROM extents WHERE vid = ?1 ORDER BY idx",
    .insert = "INSERT INTO extents(vid, idx, bid, off, len) VALUES (?1, ?2, ?3, ?4, ?5)",
    .remove = "DELETE FROM extents WHERE vid = ?1",
    .what = "extents",
};

int obj__exec_id(obj__conn *c, const char *sql, int64_t id)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, sql, &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    return obj__step_done(c, st);
}

int obj__extents_load(obj__conn *c, const obj__extent_table *t, int64_t id, obj__extent **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    obj__extent *v = NULL;
    size_t cap = 0;
    int rc = obj__stmt(c, t->select, &st);

    *out = NULL;
    *n = 0;
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cn_grow(&v, &cap, *n, sizeof(*v), 4) != 0) {
            rc = -CN_ENOMEM;
            goto out;
        }
        v[*n].bid = sqlite3_column_int64(st, 0);
        v[*n].off = (uint64_t)sqlite3_column_int64(st, 1);
        v[*n].len = (uint64_t)sqlite3_column_int64(st, 2);
        (*n)++;
    }
    rc = rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, t->what);
out:
    if (rc != 0) {
        free(v);
        v = NULL;
        *n = 0;
    }
    *out = v;
    return rc;
}

int obj__extents_insert(obj__conn *c, const obj__extent_table *t, int64_t id, const obj__extent *e, size_t n)
{
    sqlite3_stmt *st = NULL;
    size_t i = 0;
    int rc = 0;

    for (i = 0; rc == 0 && i < n; i++) {
        rc = obj__stmt(c, t->insert, &st);
        if (rc != 0)
            break;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_int64(st, 3, e[i].bid);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)e[i].off);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)e[i].len);
        rc = obj__step_done(c, st);
    }
    return rc;
}

int obj__extents_release(obj__conn *c, const obj__extent_table *t, int64_t id, int64_t now_ms)
{
    obj__extent *e = NULL;
    size_t n = 0, i = 0;
    int rc = obj__extents_load(c, t, id, &e, &n);

    for (i = 0; rc == 0 && i < n; i++)
        rc = obj__blob_unref(c, e[i].bid, now_ms);
    free(e);
    if (rc == 0)
        rc = obj__exec_id(c, t->remove, id);
    return rc;
}

int obj__ver_extents(obj__conn *c, int64_t vid, obj__extent **out, size_t *n)
{
    return obj__extents_load(c, &ver_extents, vid, out, n);
}

/* References every blob first (invariant 2), then the rows. */
static int extents_insert(obj__conn *c, int64_t vid, const obj__extent *e, size_t n)
{
    size_t i = 0;
    int rc = 0;

    for (i = 0; rc == 0 && i < n; i++)
        rc = obj__blob_ref(c, e[i].bid);
    if (rc == 0)
        rc = obj__extents_insert(c, &ver_extents, vid, e, n);
    return rc;
}

static int row_insert(obj__conn *c, const obj__newver *nv, const char *version_id, int64_t parent, int64_t *vid)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "INSERT INTO versions(bucket, key, version_id, created_ms, is_latest, delete_marker, size,"
                       " etag, parts_count, storage_class, owner, region, attrs, tags, parent_vid, derived_from, acl) "
                       "VALUES (?1, ?2, ?14, ?3, 1, ?15, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?16)",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, nv->bucket, -1, SQLITE_STATIC);
    obj__bind_key(st, 2, nv->key, strlen(nv->key));
    sqlite3_bind_int64(st, 3, nv->now_ms);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)nv->size);
    sqlite3_bind_text(st, 5, nv->etag, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, nv->parts_count);
    sqlite3_bind_text(st, 7, nv->storage_class != NULL ? nv->storage_class : "STANDARD", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, nv->owner != NULL ? nv->owner : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, nv->region != NULL ? nv->region : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, nv->attrs_json, -1, SQLITE_STATIC); /* NULL binds NULL */
    sqlite3_bind_text(st, 11, nv->tags_json, -1, SQLITE_STATIC);
    if (parent != 0)
        sqlite3_bind_int64(st, 12, parent);
    if (nv->derived_from != 0)
        sqlite3_bind_int64(st, 13, nv->derived_from);
    sqlite3_bind_text(st, 14, version_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 15, nv->delete_marker != 0);
    if (nv->acl != NULL && nv->acl[0] != '\0') /* private stays NULL */
        sqlite3_bind_text(st, 16, nv->acl, -1, SQLITE_STATIC);
    rc = obj__step_done(c, st);
    if (rc == 0)
        *vid = sqlite3_last_insert_rowid(obj__db(c));
    return rc;
}

int obj__ver_insert(obj__conn *c, const obj__newver *nv, obj_version *out)
{
    int64_t latest = 0, null_vid = 0, vid = 0;
    char version_id[40] = "null";
    int state = 0;
    int rc = obj__bucket_versioning(c, nv->bucket, &state);

    if (rc == 0 && state == OBJ_VERSIONING_ENABLED)
        rc = obj__version_id_new(version_id);
    if (rc == 0)
        rc = obj__ver_find(c, nv->bucket, nv->key, NULL, &latest, NULL);
    /* Only a null write replaces the null version (invariant 4). */
    if (rc == 0 && state != OBJ_VERSIONING_ENABLED)
        rc = obj__ver_find(c, nv->bucket, nv->key, "null", &null_vid, NULL);
    if (rc == 0 && latest != 0)
        rc = obj__exec_id(c, "UPDATE versions SET is_latest = 0 WHERE vid = ?1", latest);
    /* The null version's version_id must be free before the new row takes it
     * (unique per key), and the old row is released only after that. */
    if (rc == 0 && null_vid != 0)
        rc = obj__exec_id(c, "UPDATE versions SET version_id = 'replaced-' || vid WHERE vid = ?1", null_vid);
    if (rc == 0)
        rc = row_insert(c, nv, version_id, latest, &vid);
    if (rc == 0)
        rc = extents_insert(c, vid, nv->ext, nv->n_ext);
    if (rc == 0 && nv->rkey != NULL)
        rc = obj__lineage_sign(c, nv, version_id, vid, latest);
    if (rc == 0 && null_vid != 0)
        rc = obj__ver_release(c, null_vid, nv->now_ms);
    if (rc == 0 && out != NULL)
        rc = ver_load(c, vid, nv->bucket, out);
    return rc;
}

/* Makes the newest remaining version of a key its latest. */
static int promote(obj__conn *c, const char *bucket, const char *key, size_t key_len)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "UPDATE versions SET is_latest = 1 WHERE vid = "
                       "(SELECT max(vid) FROM versions WHERE bucket = ?1 AND key = ?2)",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    obj__bind_key(st, 2, key, key_len);
    return obj__step_done(c, st);
}

typedef struct ver_ident {
    char *bucket, *key;
    size_t key_len;
    int is_latest;
} ver_ident;

static int ident_load(obj__conn *c, int64_t vid, ver_ident *id)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT bucket, key, is_latest FROM versions WHERE vid = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? -CN_ENO_VERSION : obj__sqlerr(c, rc, "version ident");
    }
    id->bucket = obj__col_dup(st, 0);
    id->key = obj__col_dup(st, 1);
    id->key_len = (size_t)sqlite3_column_bytes(st, 1);
    id->is_latest = sqlite3_column_int(st, 2);
    sqlite3_reset(st);
    return id->bucket != NULL && id->key != NULL ? 0 : -CN_ENOMEM;
}

int obj__ver_release(obj__conn *c, int64_t vid, int64_t now_ms)
{
    ver_ident id = {0};
    int rc = ident_load(c, vid, &id);

    if (rc == 0)
        rc = obj__extents_release(c, &ver_extents, vid, now_ms);
    if (rc == 0)
        rc = obj__exec_id(c, "DELETE FROM versions WHERE vid = ?1", vid);
    if (rc == 0)
        rc = obj__exec_id(c, "DELETE FROM version_sources WHERE vid = ?1", vid);
    if (rc == 0 && id.is_latest)
        rc = promote(c, id.bucket, id.key, id.key_len);
    free(id.bucket);
    free(id.key);
    return rc;
}

void obj_version_dispose(obj_version *v)
{
    size_t i = 0;

    if (v == NULL)
        return;
    for (i = 0; i < v->n_attrs; i++) {
        free(v->attrs[i].name);
        free(v->attrs[i].value);
    }
    free(v->attrs);
    free(v->bucket);
    free(v->key);
    memset(v, 0, sizeof(*v));
}

const char *obj_version_attr(const obj_version *v, const char *name)
{
    size_t i = 0;

    for (i = 0; i < v->n_attrs; i++)
        if (strcmp(v->attrs[i].name, name) == 0)
            return v->attrs[i].value;
    return NULL;
}

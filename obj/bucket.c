/*
 * bucket: CreateBucket, HeadBucket, DeleteBucket, ListBuckets.
 *
 * Bucket names are global to the store (as in S3, one namespace). A bucket
 * can only be deleted when no version and no multipart upload refers to it;
 * the check and the delete happen in one transaction, so a racing put either
 * commits first (and the delete fails) or finds the bucket gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

/* What bucket_from_row() reads, in its order. */
#define BUCKET_COLS "name, owner, region, created, versioning, acl, policy_gen"

typedef struct bucket_ctx {
    const char *name, *owner, *region;
    obj_bucket *out;
} bucket_ctx;

static int create_commit(obj__conn *c, void *arg)
{
    bucket_ctx *b = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT owner FROM buckets WHERE name = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return strcmp((const char *)sqlite3_column_text(st, 0), b->owner) == 0 ? -CN_EBUCKET_EXISTS : -CN_EBUCKET_TAKEN;
    if (rc != SQLITE_DONE)
        return obj__sqlerr(c, rc, "bucket lookup");
    rc = obj__stmt(c, "INSERT INTO buckets(name, owner, region, created) VALUES (?1, ?2, ?3, ?4)", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, b->region, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)cn_now());
    return obj__step_done(c, st);
}

int obj_bucket_create(obj_store *s, const char *name, const char *owner, const char *region)
{
    bucket_ctx b = {.name = name, .owner = owner != NULL ? owner : "", .region = region};
    int rc = obj_bucket_name_valid(name);

    if (rc != 0)
        return rc;
    if (b.region == NULL || b.region[0] == '\0')
        b.region = s->region;
    return obj__meta_write(s->meta, create_commit, &b);
}

static void bucket_from_row(sqlite3_stmt *st, obj_bucket *out)
{
    memset(out, 0, sizeof(*out));
    obj__col_copy(st, 0, out->name, sizeof(out->name));
    obj__col_copy(st, 1, out->owner, sizeof(out->owner));
    obj__col_copy(st, 2, out->region, sizeof(out->region));
    out->created = (time_t)sqlite3_column_int64(st, 3);
    out->versioning = sqlite3_column_int(st, 4);
    obj__col_copy(st, 5, out->acl, sizeof(out->acl));
    out->policy_gen = sqlite3_column_int64(st, 6); /* NULL reads as 0: no policy */
}

static int get_read(obj__conn *c, void *arg)
{
    bucket_ctx *b = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT " BUCKET_COLS " FROM buckets WHERE name = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        bucket_from_row(st, b->out);
        return 0;
    }
    return rc == SQLITE_DONE ? -CN_ENO_BUCKET : obj__sqlerr(c, rc, "bucket get");
}

int obj_bucket_get(obj_store *s, const char *name, obj_bucket *out)
{
    bucket_ctx b = {.name = name, .out = out};

    memset(out, 0, sizeof(*out));
    if (name == NULL)
        return -CN_ENO_BUCKET;
    return obj__meta_read(s->meta, get_read, &b);
}

static int exists_in(obj__conn *c, const char *sql, const char *bucket, int *found)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, sql, &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, sql);
}

static int delete_commit(obj__conn *c, void *arg)
{
    bucket_ctx *b = arg;
    sqlite3_stmt *st = NULL;
    int found = 0;
    int rc = obj__bucket_exists(c, b->name);

    if (rc == 0)
        rc = exists_in(c, "SELECT 1 FROM versions WHERE bucket = ?1 LIMIT 1", b->name, &found);
    if (rc == 0 && !found)
        rc = exists_in(c, "SELECT 1 FROM uploads WHERE bucket = ?1 LIMIT 1", b->name, &found);
    if (rc == 0 && found)
        rc = -CN_EBUCKET_NOT_EMPTY;
    if (rc == 0)
        rc = obj__stmt(c, "DELETE FROM buckets WHERE name = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    return obj__step_done(c, st);
}

int obj_bucket_delete(obj_store *s, const char *name)
{
    bucket_ctx b = {.name = name};

    if (name == NULL)
        return -CN_ENO_BUCKET;
    return obj__meta_write(s->meta, delete_commit, &b);
}

typedef struct blist_ctx {
    const char *owner;
    obj_bucket *v;
    size_t n, cap;
} blist_ctx;

static int list_read(obj__conn *c, void *arg)
{
    blist_ctx *l = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "SELECT " BUCKET_COLS " FROM buckets "
                       "WHERE ?1 IS NULL OR owner = ?1 ORDER BY name",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, l->owner, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cn_grow(&l->v, &l->cap, l->n, sizeof(l->v[0]), 16) != 0)
            return -CN_ENOMEM;
        bucket_from_row(st, &l->v[l->n++]);
    }
    return rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "bucket list");
}

int obj_bucket_list(obj_store *s, const char *owner, obj_bucket **out, size_t *n)
{
    blist_ctx l = {.owner = owner};
    int rc = obj__meta_read(s->meta, list_read, &l);

    *out = NULL;
    *n = 0;
    if (rc != 0) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

static int placement_write(obj__conn *c, void *arg)
{
    const char *const *a = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "UPDATE buckets SET placement = ?2 WHERE name = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, a[0], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a[1], -1, SQLITE_STATIC);
    rc = obj__step_done(c, st);
    return rc == 0 && sqlite3_changes(obj__db(c)) != 1 ? -CN_ENO_BUCKET : rc;
}

int obj_bucket_placement_set(obj_store *s, const char *name, const char *cls)
{
    const char *a[2] = {name, cls};
    int rc = cls != NULL && strcmp(cls, "STANDARD") != 0 ? obj__storage_class_valid(s, cls) : 0;

    if (rc == 0 && cls != NULL && strcmp(cls, "STANDARD") == 0)
        a[1] = NULL;
    return rc != 0 ? rc : obj__meta_write(s->meta, placement_write, (void *)a);
}

int obj_storage_class_valid(const obj_store *s, const char *cls)
{
    return obj__storage_class_valid(s, cls);
}

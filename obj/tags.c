/*
 * tags: object tagging (GetObjectTagging, PutObjectTagging,
 * DeleteObjectTagging) and bucket tagging.
 *
 * Tags are the one mutable part of a version: replacing them rewrites the
 * version's tags column in place and leaves bytes, ETag and mtime alone, as
 * S3 does. Object tag sets hold at most 10 tags, bucket tag sets 50.
 * An object without tags has an empty set; a bucket without tags has none
 * (-CN_ENO_TAGSET), which is how S3 answers the two.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

#define MAX_OBJECT_TAGS 10
#define MAX_BUCKET_TAGS 50

typedef struct tag_ctx {
    const char *bucket, *key, *version_id;
    const char *json; /* to store; NULL removes */
    obj_tags *out;
} tag_ctx;

/* sql (a string literal) with ?1 bound to the version t names. */
static int version_stmt(obj__conn *c, tag_ctx *t, const char *sql, sqlite3_stmt **st)
{
    int64_t vid = 0;
    int rc = obj__ver_lookup(c, t->bucket, t->key, t->version_id, &vid);

    if (rc == 0)
        rc = obj__stmt(c, sql, st);
    if (rc == 0)
        sqlite3_bind_int64(*st, 1, vid);
    return rc;
}

static int obj_tags_read(obj__conn *c, void *arg)
{
    tag_ctx *t = arg;
    sqlite3_stmt *st = NULL;
    int rc = version_stmt(c, t, "SELECT tags FROM versions WHERE vid = ?1", &st);

    if (rc != 0)
        return rc;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return obj__sqlerr(c, rc, "tags get");
    return obj__tags_decode((const char *)sqlite3_column_text(st, 0), t->out);
}

static int obj_tags_write(obj__conn *c, void *arg)
{
    tag_ctx *t = arg;
    sqlite3_stmt *st = NULL;
    int rc = version_stmt(c, t, "UPDATE versions SET tags = ?2 WHERE vid = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 2, t->json, -1, SQLITE_STATIC);
    return obj__step_done(c, st);
}

static int key_args(const char *bucket, const char *key)
{
    if (bucket == NULL)
        return -CN_EINVALID_ARGUMENT;
    return obj_key_valid(key, key != NULL ? strlen(key) : 0);
}

int obj_tags_get(obj_store *s, const char *bucket, const char *key, const char *version_id, obj_tags *out)
{
    tag_ctx t = {.bucket = bucket, .key = key, .version_id = version_id, .out = out};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    rc = key_args(bucket, key);
    if (rc == 0)
        rc = obj__meta_read(s->meta, obj_tags_read, &t);
    if (rc != 0)
        obj_tags_dispose(out);
    return rc;
}

int obj_tags_put(obj_store *s, const char *bucket, const char *key, const char *version_id, const obj_tags *tags)
{
    tag_ctx t = {.bucket = bucket, .key = key, .version_id = version_id};
    char *json = NULL;
    int rc = key_args(bucket, key);

    if (rc == 0)
        rc = obj__tags_encode(tags, MAX_OBJECT_TAGS, &json);
    t.json = json;
    if (rc == 0)
        rc = obj__meta_write(s->meta, obj_tags_write, &t);
    free(json);
    return rc;
}

int obj_tags_delete(obj_store *s, const char *bucket, const char *key, const char *version_id)
{
    tag_ctx t = {.bucket = bucket, .key = key, .version_id = version_id};
    int rc = key_args(bucket, key);

    if (rc == 0)
        rc = obj__meta_write(s->meta, obj_tags_write, &t);
    return rc;
}

static int bucket_tags_read(obj__conn *c, void *arg)
{
    tag_ctx *t = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT tags FROM buckets WHERE name = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, t->bucket, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_ENO_BUCKET : obj__sqlerr(c, rc, "bucket tags get");
    if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        return -CN_ENO_TAGSET;
    return obj__tags_decode((const char *)sqlite3_column_text(st, 0), t->out);
}

static int bucket_tags_write(obj__conn *c, void *arg)
{
    tag_ctx *t = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__bucket_exists(c, t->bucket);

    if (rc == 0)
        rc = obj__stmt(c, "UPDATE buckets SET tags = ?2 WHERE name = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, t->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->json, -1, SQLITE_STATIC);
    return obj__step_done(c, st);
}

int obj_bucket_tags_get(obj_store *s, const char *bucket, obj_tags *out)
{
    tag_ctx t = {.bucket = bucket, .out = out};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (bucket == NULL)
        return -CN_ENO_BUCKET;
    rc = obj__meta_read(s->meta, bucket_tags_read, &t);
    if (rc != 0)
        obj_tags_dispose(out);
    return rc;
}

int obj_bucket_tags_put(obj_store *s, const char *bucket, const obj_tags *tags)
{
    tag_ctx t = {.bucket = bucket};
    char *json = NULL;
    int rc = 0;

    if (bucket == NULL)
        return -CN_ENO_BUCKET;
    rc = obj__tags_encode(tags, MAX_BUCKET_TAGS, &json);
    /* An empty set is still a set: store "[]" so that get answers it. */
    t.json = json != NULL ? json : "[]";
    if (rc == 0)
        rc = obj__meta_write(s->meta, bucket_tags_write, &t);
    free(json);
    return rc;
}

int obj_bucket_tags_delete(obj_store *s, const char *bucket)
{
    tag_ctx t = {.bucket = bucket};

    if (bucket == NULL)
        return -CN_ENO_BUCKET;
    return obj__meta_write(s->meta, bucket_tags_write, &t);
}

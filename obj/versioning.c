/*
 * versioning: a bucket's versioning state (PutBucketVersioning) and the
 * version ids of new versions.
 *
 * The state is one column of the bucket row, read by obj__ver_insert() and
 * obj_delete() inside their own write transactions, so a write never sees a
 * state other than the one in force when it commits. A bucket goes from
 * "never enabled" to enabled or suspended, and between those two, but never
 * back: S3 has no way to ask for it, and the null version's meaning depends
 * on it.
 *
 * Version ids are 24 random bytes in URL-safe base64 (32 characters): opaque,
 * unique in practice, safe in a query string without escaping, and never
 * "null". They carry no order; the order of versions is their row order
 * (version.c, invariant 5).
 */
#include <stdio.h>
#include <string.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

#define VID_RAW 24

int obj__bucket_versioning(obj__conn *c, const char *bucket, int *state)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT versioning FROM buckets WHERE name = ?1", &st);

    *state = OBJ_VERSIONING_OFF;
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *state = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? -CN_ENO_BUCKET : obj__sqlerr(c, rc, "bucket versioning");
}

int obj__version_id_new(char out[40])
{
    uint8_t raw[VID_RAW];
    char b64[4 * (VID_RAW / 3) + 1];
    size_t i = 0, n = 0;

    if (cn_random(raw, sizeof(raw)) != 0)
        return -CN_EINTERNAL;
    n = cn_base64(b64, raw, sizeof(raw)); /* 24 bytes: no padding */
    for (i = 0; i < n; i++)
        b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    snprintf(out, 40, "%.*s", (int)n, b64);
    return 0;
}

typedef struct vset_ctx {
    const char *name;
    int state;
} vset_ctx;

static int set_commit(obj__conn *c, void *arg)
{
    vset_ctx *v = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__bucket_exists(c, v->name);

    if (rc == 0)
        rc = obj__stmt(c, "UPDATE buckets SET versioning = ?2 WHERE name = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, v->state);
    return obj__step_done(c, st);
}

int obj_bucket_versioning_set(obj_store *s, const char *name, obj_versioning state)
{
    vset_ctx v = {.name = name, .state = (int)state};

    if (name == NULL)
        return -CN_ENO_BUCKET;
    if (state != OBJ_VERSIONING_ENABLED && state != OBJ_VERSIONING_SUSPENDED)
        return -CN_EINVALID_ARGUMENT;
    return obj__meta_write(s->meta, set_commit, &v);
}

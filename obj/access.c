/*
 * access: what access control stores in the metadata - a bucket's policy
 * document, and the canned ACLs of buckets and versions (schema.c, note 9).
 *
 * The object layer keeps these as opaque text: s3api validates a policy
 * before storing it (auth/policy.c) and gives the ACL names their meaning
 * (s3api/acl.c, s3api/authz_acl.c). What this file guarantees:
 *  1. A policy is returned byte for byte as it was stored.
 *  2. Every write of a policy takes a new generation from meta_info
 *     'policy_gen' in the same transaction, so (bucket, policy_gen) names
 *     one document forever and s3api may cache its parsed form under it.
 *  3. An ACL is changed in place on its row, like tags (tags.c): it is not
 *     a new version and not part of the signed lineage record.
 * It does not decide anything: who may read or change these is s3api's.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

int obj__acl_valid(const char *acl)
{
    return acl == NULL || strlen(acl) < OBJ_ACL_MAX ? 0 : -CN_EINVALID_ARGUMENT;
}

/* "" and NULL are both private, stored as NULL. */
static const char *acl_column(const char *acl)
{
    return acl != NULL && acl[0] != '\0' ? acl : NULL;
}

/* ---- bucket ACL ---- */

typedef struct bacl_ctx {
    const char *name, *acl;
} bacl_ctx;

static int bucket_acl_write(obj__conn *c, void *arg)
{
    bacl_ctx *a = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "UPDATE buckets SET acl = ?2 WHERE name = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, acl_column(a->acl), -1, SQLITE_STATIC);
    rc = obj__step_done(c, st);
    return rc == 0 && sqlite3_changes(obj__db(c)) != 1 ? -CN_ENO_BUCKET : rc;
}

int obj_bucket_acl_set(obj_store *s, const char *name, const char *acl)
{
    bacl_ctx a = {.name = name, .acl = acl};
    int rc = obj__acl_valid(acl);

    if (name == NULL)
        return -CN_ENO_BUCKET;
    return rc != 0 ? rc : obj__meta_write(s->meta, bucket_acl_write, &a);
}

/* ---- bucket policy ---- */

typedef struct policy_ctx {
    const char *name;
    const char *json; /* to store; NULL removes */
    size_t len;
    char *out; /* read */
    size_t out_len;
    int64_t gen;
} policy_ctx;

static int policy_read(obj__conn *c, void *arg)
{
    policy_ctx *p = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT policy, policy_gen FROM buckets WHERE name = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_ENO_BUCKET : obj__sqlerr(c, rc, "bucket policy get");
    if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        return 0;
    p->out = obj__col_dup(st, 0);
    p->out_len = (size_t)sqlite3_column_bytes(st, 0);
    p->gen = sqlite3_column_int64(st, 1);
    return p->out != NULL ? 0 : -CN_ENOMEM;
}

int obj_bucket_policy_get(obj_store *s, const char *name, char **json, size_t *len, int64_t *gen)
{
    policy_ctx p = {.name = name};
    int rc = name != NULL ? obj__meta_read(s->meta, policy_read, &p) : -CN_ENO_BUCKET;

    if (rc != 0) {
        free(p.out);
        p.out = NULL;
        p.out_len = 0;
        p.gen = 0;
    }
    *json = p.out;
    *len = p.out_len;
    if (gen != NULL)
        *gen = p.gen;
    return rc;
}

/* Note 2: the store-wide counter, bumped and read in the caller's transaction. */
static int next_gen(obj__conn *c, int64_t *gen)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "INSERT INTO meta_info(k, v) VALUES ('policy_gen', 1) "
                       "ON CONFLICT(k) DO UPDATE SET v = v + 1",
                       &st);

    if (rc == 0)
        rc = obj__step_done(c, st);
    if (rc == 0)
        rc = obj__stmt(c, "SELECT v FROM meta_info WHERE k = 'policy_gen'", &st);
    if (rc != 0)
        return rc;
    rc = sqlite3_step(st);
    *gen = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : obj__sqlerr(c, rc, "policy generation");
}

static int policy_write(obj__conn *c, void *arg)
{
    policy_ctx *p = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__bucket_exists(c, p->name);

    if (rc == 0 && p->json != NULL)
        rc = next_gen(c, &p->gen);
    if (rc == 0)
        rc = obj__stmt(c, "UPDATE buckets SET policy = ?2, policy_gen = ?3 WHERE name = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
    if (p->json != NULL) {
        sqlite3_bind_text(st, 2, p->json, (int)p->len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, p->gen);
    } else {
        sqlite3_bind_null(st, 2);
        sqlite3_bind_null(st, 3);
    }
    return obj__step_done(c, st);
}

int obj_bucket_policy_set(obj_store *s, const char *name, const char *json, size_t len)
{
    policy_ctx p = {.name = name, .json = json, .len = len};

    if (name == NULL)
        return -CN_ENO_BUCKET;
    /* s3api caps documents far below this; the check keeps the int cast honest. */
    if (json != NULL && len > (1u << 30))
        return -CN_EINVALID_ARGUMENT;
    return obj__meta_write(s->meta, policy_write, &p);
}

/* ---- version ACLs ---- */

typedef struct vacl_ctx {
    const char *bucket, *key, *version_id;
    const char *acl; /* to store */
    char *out;       /* OBJ_ACL_MAX bytes, read */
} vacl_ctx;

static int version_acl_read(obj__conn *c, void *arg)
{
    vacl_ctx *a = arg;
    sqlite3_stmt *st = NULL;
    int64_t vid = 0;
    int rc = obj__ver_lookup(c, a->bucket, a->key, a->version_id, &vid);

    if (rc == 0)
        rc = obj__stmt(c, "SELECT acl FROM versions WHERE vid = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        obj__col_copy(st, 0, a->out, OBJ_ACL_MAX);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : obj__sqlerr(c, rc, "version acl get");
}

static int version_acl_write(obj__conn *c, void *arg)
{
    vacl_ctx *a = arg;
    sqlite3_stmt *st = NULL;
    int64_t vid = 0;
    int rc = obj__ver_lookup(c, a->bucket, a->key, a->version_id, &vid);

    if (rc == 0)
        rc = obj__stmt(c, "UPDATE versions SET acl = ?2 WHERE vid = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    sqlite3_bind_text(st, 2, acl_column(a->acl), -1, SQLITE_STATIC);
    return obj__step_done(c, st);
}

static int version_args(const char *bucket, const char *key)
{
    if (bucket == NULL)
        return -CN_ENO_BUCKET;
    return obj_key_valid(key, key != NULL ? strlen(key) : 0);
}

int obj_version_acl_get(obj_store *s, const char *bucket, const char *key, const char *version_id,
                        char acl[OBJ_ACL_MAX])
{
    vacl_ctx a = {.bucket = bucket, .key = key, .version_id = version_id, .out = acl};
    int rc = version_args(bucket, key);

    acl[0] = '\0';
    if (rc == 0)
        rc = obj__meta_read(s->meta, version_acl_read, &a);
    if (rc != 0)
        acl[0] = '\0';
    return rc;
}

int obj_version_acl_set(obj_store *s, const char *bucket, const char *key, const char *version_id, const char *acl)
{
    vacl_ctx a = {.bucket = bucket, .key = key, .version_id = version_id, .acl = acl};
    int rc = version_args(bucket, key);

    if (rc == 0)
        rc = obj__acl_valid(acl);
    if (rc == 0)
        rc = obj__meta_write(s->meta, version_acl_write, &a);
    return rc;
}

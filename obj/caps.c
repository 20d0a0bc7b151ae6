/*
 * caps: capabilities, revocable grants on part of one bucket, each with an
 * ordinary access key pair (principal "cap:<id>") from which clients sign
 * requests and presign URLs.
 *
 *   user (bucket owner) --obj_cap_create--> cap A (parent NULL, grantor user)
 *   cap A's key         --obj_cap_create--> cap B (parent A, narrower)  ...
 *   obj_cap_revoke(A) --> A.revoked_ms set: A, B and every descendant are
 *   refused on their next request (obj_cap_chain() walks to the root and
 *   the caller refuses if any link is revoked or expired).
 *
 * Design notes:
 *  1. A child is never wider than its parent (cap_narrower()): same bucket,
 *     a scope inside the parent's, a subset of its permissions, an expiry
 *     no later, a time window inside the parent's, the parent's source
 *     range (a child may not drop it). Checked when the child is made; the
 *     whole chain is still checked on every request, so revoking or
 *     expiring any ancestor ends the child.
 *  2. Revocation is a row update in one transaction: it takes effect for
 *     the next request, whatever presigned URLs exist, because presigned
 *     URLs are verified against the capability's key, whose principal
 *     leads here.
 *  3. The row is written before the key: a crash between them leaves a
 *     capability without a key, which nothing can use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

#define CAP_COLS                                                                                                       \
    "id, parent, grantor, bucket, kind, target, version_id, perms, expires_ms, cidr, not_before_ms, not_after_ms, "    \
    "access_key, created_ms, revoked_ms"

static void col_i64(sqlite3_stmt *st, int col, int64_t *out)
{
    *out = sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, col);
}

static int cap_from_row(sqlite3_stmt *st, obj_cap *c)
{
    memset(c, 0, sizeof(*c));
    obj__col_copy(st, 0, c->id, sizeof(c->id));
    obj__col_copy(st, 1, c->parent, sizeof(c->parent));
    obj__col_copy(st, 2, c->grantor, sizeof(c->grantor));
    obj__col_copy(st, 3, c->bucket, sizeof(c->bucket));
    c->kind = sqlite3_column_int(st, 4);
    c->target_len = (size_t)sqlite3_column_bytes(st, 5);
    if (c->target_len > OBJ_MAX_KEY)
        return -CN_EINTERNAL;
    memcpy(c->target, sqlite3_column_blob(st, 5) != NULL ? sqlite3_column_blob(st, 5) : "", c->target_len);
    c->target[c->target_len] = '\0';
    obj__col_copy(st, 6, c->version_id, sizeof(c->version_id));
    c->perms = (unsigned)sqlite3_column_int(st, 7);
    col_i64(st, 8, &c->expires_ms);
    obj__col_copy(st, 9, c->cidr, sizeof(c->cidr));
    col_i64(st, 10, &c->not_before_ms);
    col_i64(st, 11, &c->not_after_ms);
    obj__col_copy(st, 12, c->access_key, sizeof(c->access_key));
    col_i64(st, 13, &c->created_ms);
    col_i64(st, 14, &c->revoked_ms);
    return 0;
}

static int cap_get(obj__conn *c, const char *id, obj_cap *out)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT " CAP_COLS " FROM caps WHERE id = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = cap_from_row(st, out);
    else
        rc = rc == SQLITE_DONE ? -CN_ENOT_FOUND : obj__sqlerr(c, rc, "capability");
    sqlite3_reset(st);
    return rc;
}

int obj__cap_exists(obj__conn *c, const char *id)
{
    obj_cap cap;

    return cap_get(c, id, &cap);
}

/* ---- the chain of a capability, for every request ---- */

typedef struct chain_ctx {
    const char *id;
    obj_cap *chain;
    size_t n;
} chain_ctx;

static int chain_read(obj__conn *c, void *arg)
{
    chain_ctx *x = arg;
    char next[sizeof(x->chain[0].id)];

    snprintf(next, sizeof(next), "%s", x->id);
    for (x->n = 0; next[0] != '\0'; x->n++) {
        int rc = 0;
        if (x->n == OBJ_CAP_MAX_DEPTH)
            return -CN_EINTERNAL; /* deeper than creation allows: a corrupt chain */
        rc = cap_get(c, next, &x->chain[x->n]);
        if (rc != 0)
            return rc;
        snprintf(next, sizeof(next), "%s", x->chain[x->n].parent);
    }
    return 0;
}

int obj_cap_chain(obj_store *s, const char *id, obj_cap chain[OBJ_CAP_MAX_DEPTH], size_t *n)
{
    chain_ctx x = {.id = id, .chain = chain};
    int rc = obj__meta_read(s->meta, chain_read, &x);

    *n = rc == 0 ? x.n : 0;
    return rc;
}

/* ---- creation ---- */

static int window_inside(int64_t lo, int64_t hi, int64_t plo, int64_t phi)
{
    return (plo == 0 || (lo != 0 && lo >= plo)) && (phi == 0 || (hi != 0 && hi <= phi));
}

static int scope_inside(const obj_cap *c, const obj_cap *p)
{
    if (strcmp(c->bucket, p->bucket) != 0)
        return 0;
    switch (p->kind) {
    case OBJ_CAP_BUCKET:
        return 1;
    case OBJ_CAP_PREFIX:
        return c->kind != OBJ_CAP_BUCKET && c->target_len >= p->target_len &&
               memcmp(c->target, p->target, p->target_len) == 0;
    case OBJ_CAP_HISTORY:
        return (c->kind == OBJ_CAP_HISTORY || c->kind == OBJ_CAP_VERSION) && c->target_len == p->target_len &&
               memcmp(c->target, p->target, p->target_len) == 0;
    default:
        return c->kind == OBJ_CAP_VERSION && c->target_len == p->target_len &&
               memcmp(c->target, p->target, p->target_len) == 0 && strcmp(c->version_id, p->version_id) == 0;
    }
}

/* Note 1: c is no wider than its parent p in any respect. */
static int cap_narrower(const obj_cap *c, const obj_cap *p)
{
    return scope_inside(c, p) && (c->perms & ~p->perms) == 0 &&
           (p->expires_ms == 0 || (c->expires_ms != 0 && c->expires_ms <= p->expires_ms)) &&
           window_inside(c->not_before_ms, c->not_after_ms, p->not_before_ms, p->not_after_ms) &&
           (p->cidr[0] == '\0' || strcmp(c->cidr, p->cidr) == 0);
}

static int cap_valid(const obj_cap *c)
{
    if (c->bucket[0] == '\0' || c->perms == 0 || (c->perms & ~OBJ_CAP_PERMS_ALL) != 0 || c->kind < OBJ_CAP_BUCKET ||
        c->kind > OBJ_CAP_VERSION)
        return 0;
    if (c->kind != OBJ_CAP_BUCKET && c->kind != OBJ_CAP_PREFIX && obj_key_valid(c->target, c->target_len) != 0)
        return 0;
    if ((c->kind == OBJ_CAP_VERSION) != (c->version_id[0] != '\0'))
        return 0;
    /* one version is read-only: it cannot be written or listed */
    if (c->kind == OBJ_CAP_VERSION && (c->perms & ~OBJ_CAP_READ) != 0)
        return 0;
    return c->not_after_ms == 0 || c->not_after_ms > c->not_before_ms;
}

typedef struct create_ctx {
    obj_cap *c;
    const char *creator;
    int64_t now_ms;
} create_ctx;

/* Who may grant: the bucket's owner, or a live capability (derivation). */
static int grant_check(obj__conn *c, create_ctx *x)
{
    obj_cap parent;
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (strncmp(x->creator, "cap:", 4) == 0) {
        rc = cap_get(c, x->creator + 4, &parent);
        if (rc != 0)
            return rc == -CN_ENOT_FOUND ? -CN_EACCESS : rc;
        if (parent.revoked_ms != 0 || (parent.expires_ms != 0 && parent.expires_ms <= x->now_ms) ||
            !cap_narrower(x->c, &parent))
            return -CN_EACCESS;
        snprintf(x->c->parent, sizeof(x->c->parent), "%s", parent.id);
        snprintf(x->c->grantor, sizeof(x->c->grantor), "%s", parent.grantor);
        return 0;
    }
    rc = obj__stmt(c, "SELECT owner = ?2 FROM buckets WHERE name = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, x->c->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x->creator, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_ROW    ? (sqlite3_column_int(st, 0) ? 0 : -CN_EACCESS)
         : rc == SQLITE_DONE ? -CN_ENO_BUCKET
                             : -CN_EIO;
    sqlite3_reset(st);
    x->c->parent[0] = '\0';
    snprintf(x->c->grantor, sizeof(x->c->grantor), "%s", x->creator);
    return rc;
}

static void bind_opt_i64(sqlite3_stmt *st, int i, int64_t v)
{
    if (v != 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static int create_commit(obj__conn *c, void *arg)
{
    create_ctx *x = arg;
    sqlite3_stmt *st = NULL;
    int rc = grant_check(c, x);

    if (rc == 0)
        rc = obj__stmt(c,
                       "INSERT INTO caps(" CAP_COLS ") VALUES (?1, NULLIF(?2, ''), ?3, ?4, ?5, ?6, NULLIF(?7, ''), ?8, "
                       "?9, NULLIF(?10, ''), ?11, ?12, ?13, ?14, NULL)",
                       &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, x->c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x->c->parent, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, x->c->grantor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, x->c->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, x->c->kind);
    sqlite3_bind_blob(st, 6, x->c->target, (int)x->c->target_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, x->c->version_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, (int)x->c->perms);
    bind_opt_i64(st, 9, x->c->expires_ms);
    sqlite3_bind_text(st, 10, x->c->cidr, -1, SQLITE_STATIC);
    bind_opt_i64(st, 11, x->c->not_before_ms);
    bind_opt_i64(st, 12, x->c->not_after_ms);
    sqlite3_bind_text(st, 13, x->c->access_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 14, x->now_ms);
    return obj__step_done(c, st);
}

static int random_text(char *out, size_t n, const char *alphabet)
{
    uint8_t r[64];
    size_t k = strlen(alphabet);
    int rc = cn_random(r, n);

    for (size_t i = 0; rc == 0 && i < n; i++)
        out[i] = alphabet[r[i] % k];
    out[n] = '\0';
    OPENSSL_cleanse(r, sizeof(r));
    return rc;
}

int obj_cap_create(obj_store *s, const char *creator, obj_cap *c, char secret[OBJ_CAP_SECRET_LEN + 1])
{
    create_ctx x = {.c = c, .creator = creator, .now_ms = obj__now_ms()};
    char principal[8 + sizeof(c->id)];
    uint8_t id[8];
    int rc = cap_valid(c) ? 0 : -CN_EINVALID_ARGUMENT;

    /* a grant that could never be used is a mistake, not a capability */
    if (rc == 0 &&
        ((c->expires_ms != 0 && c->expires_ms <= x.now_ms) || (c->not_after_ms != 0 && c->not_after_ms <= x.now_ms)))
        rc = -CN_EINVALID_ARGUMENT;
    if (rc == 0)
        rc = cn_random(id, sizeof(id));
    if (rc != 0)
        return rc;
    cn_hex(c->id, id, sizeof(id));
    snprintf(c->access_key, sizeof(c->access_key), "CAP");
    rc = random_text(c->access_key + 3, 17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    if (rc == 0)
        rc =
            random_text(secret, OBJ_CAP_SECRET_LEN, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    c->created_ms = x.now_ms;
    if (rc == 0)
        rc = obj__meta_write(s->meta, create_commit, &x);
    snprintf(principal, sizeof(principal), "cap:%s", c->id);
    if (rc == 0)
        rc = obj_key_create(s, principal, c->access_key, secret);
    if (rc != 0)
        OPENSSL_cleanse(secret, OBJ_CAP_SECRET_LEN + 1);
    return rc;
}

/* ---- revocation and listing ---- */

typedef struct revoke_ctx {
    const char *id, *by;
    int64_t now_ms;
} revoke_ctx;

/* by may revoke id if it granted the root of id's chain (a user), or if it
 * is a capability on id's chain above id (an ancestor), or id itself. */
static int may_revoke(obj__conn *c, const revoke_ctx *x)
{
    char next[OBJ_CAP_ID_LEN + 1];
    obj_cap cap;
    int rc = cap_get(c, x->id, &cap), depth = 0;

    if (rc != 0)
        return rc;
    if (strcmp(cap.grantor, x->by) == 0)
        return 0;
    if (strncmp(x->by, "cap:", 4) != 0)
        return -CN_EACCESS;
    snprintf(next, sizeof(next), "%s", cap.id);
    while (next[0] != '\0' && depth++ < OBJ_CAP_MAX_DEPTH) {
        if (strcmp(next, x->by + 4) == 0)
            return 0;
        if ((rc = cap_get(c, next, &cap)) != 0)
            return rc;
        snprintf(next, sizeof(next), "%s", cap.parent);
    }
    return -CN_EACCESS;
}

static int revoke_commit(obj__conn *c, void *arg)
{
    revoke_ctx *x = arg;
    sqlite3_stmt *st = NULL;
    int rc = may_revoke(c, x);

    if (rc == 0)
        rc = obj__stmt(c, "UPDATE caps SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, x->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, x->now_ms);
    return obj__step_done(c, st);
}

int obj_cap_revoke(obj_store *s, const char *id, const char *by)
{
    revoke_ctx x = {.id = id, .by = by, .now_ms = obj__now_ms()};

    return obj__meta_write(s->meta, revoke_commit, &x);
}

typedef struct list_ctx {
    const char *by;
    obj_cap *out;
    size_t n, cap;
} list_ctx;

/* A user sees every capability whose chain it granted; a capability sees
 * itself and its descendants (found by walking down level by level). */
static int list_read(obj__conn *c, void *arg)
{
    list_ctx *x = arg;
    sqlite3_stmt *st = NULL;
    int cap_by = strncmp(x->by, "cap:", 4) == 0, rc = 0;

    rc = obj__stmt(c,
                   cap_by ? "WITH RECURSIVE t(id) AS (SELECT ?1 UNION SELECT caps.id FROM caps JOIN t ON caps.parent = "
                            "t.id) SELECT " CAP_COLS " FROM caps WHERE id IN t ORDER BY created_ms, id"
                          : "SELECT " CAP_COLS " FROM caps WHERE grantor = ?1 ORDER BY created_ms, id",
                   &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, cap_by ? x->by + 4 : x->by, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cn_grow(&x->out, &x->cap, x->n, sizeof(*x->out), 8) != 0)
            return -CN_ENOMEM;
        if ((rc = cap_from_row(st, &x->out[x->n])) != 0)
            return rc;
        x->n++;
    }
    return rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "capability list");
}

int obj_cap_list(obj_store *s, const char *by, obj_cap **out, size_t *n)
{
    list_ctx x = {.by = by};
    int rc = obj__meta_read(s->meta, list_read, &x);

    if (rc != 0) {
        free(x.out);
        x.out = NULL;
        x.n = 0;
    }
    *out = x.out;
    *n = x.n;
    return rc;
}

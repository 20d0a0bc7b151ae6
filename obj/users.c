/*
 * users: the users of a store and their access keys (the admin API's
 * /users and /keys; obj.h has the contracts). Groups and memberships are in
 * groups.c; sealing secrets and looking keys up stay in keys.c.
 *
 * Design notes:
 *  1. A user is a row of users (schema.c, note 9); a key is a row of
 *     access_keys naming it. Every change is one write transaction, so a
 *     deleted user's keys and memberships go in the same commit as the user
 *     and no request can authenticate in between.
 *  2. "root" is made by the schema at every open and is never deleted: it
 *     is the one principal that can always reach the admin API. For the
 *     same reason its last enabled key can be neither disabled nor deleted
 *     (-CN_ECONFLICT): without it, nobody could make a new one short of
 *     editing the database by hand.
 *  3. Users and groups share one shape (a name and a creation time), so the
 *     create/get/list code below serves both, each table described by an
 *     obj__ptable of string literals (statements are cached by address).
 *  4. A user who owns a bucket cannot be deleted: buckets would be left to
 *     nobody, and to whoever is next created under that name. The check and
 *     the delete are one transaction; a CreateBucket already past
 *     authorization when the user goes can still commit after it (buckets
 *     do not reference users), which this file does not prevent.
 *  5. Random keys come from obj_key_generate(): "AKIA" and 16 symbols of
 *     [A-Z0-9] (82 bits), secrets 40 of [A-Za-z0-9] (238 bits). A clash with
 *     an existing id is retried, not reported.
 *  6. Nothing here returns or logs a secret except obj_user_key_create(),
 *     once, to its caller.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

#define KEY_ID_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define SECRET_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define KEY_CREATE_TRIES 4

const obj__ptable obj__users_table = {
    .insert = "INSERT INTO users(name, created) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
    .get = "SELECT name, created FROM users WHERE name = ?1",
    .list = "SELECT name, created FROM users ORDER BY name",
    .missing = -CN_ENO_USER,
};

int obj_principal_name_valid(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > OBJ_NAME_MAX)
        return -CN_EINVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                 ch == '.' || ch == '@' || ch == '-';
        if (!ok)
            return -CN_EINVALID_ARGUMENT;
    }
    return 0;
}

/* ---- helpers shared with groups.c and keys.c ---- */

int obj__count(obj__conn *c, const char *sql, const char *arg, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, sql, &st);

    *out = 0;
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return obj__sqlerr(c, rc, sql);
    *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

int obj__exec1(obj__conn *c, const char *sql, const char *arg)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, sql, &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    return obj__step_done(c, st);
}

int obj__user_exists(obj__conn *c, const char *name)
{
    int64_t n = 0;
    int rc = obj__count(c, "SELECT count(*) FROM users WHERE name = ?1", name, &n);

    return rc != 0 ? rc : (n > 0 ? 0 : -CN_ENO_USER);
}

/* ---- users and groups alike (note 3) ---- */

typedef struct pt_ctx {
    const obj__ptable *t;
    const char *name;
    obj_principal *one;
    obj_principal *v; /* list */
    size_t n, cap;
} pt_ctx;

static void principal_from_row(sqlite3_stmt *st, obj_principal *out)
{
    memset(out, 0, sizeof(*out));
    obj__col_copy(st, 0, out->name, sizeof(out->name));
    out->created = (time_t)sqlite3_column_int64(st, 1);
}

static int pt_create_commit(obj__conn *c, void *arg)
{
    pt_ctx *p = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, p->t->insert, &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)cn_now());
    rc = obj__step_done(c, st);
    if (rc == 0 && sqlite3_changes(obj__db(c)) != 1)
        rc = -CN_EEXISTS;
    return rc;
}

int obj__principal_create(obj_store *s, const obj__ptable *t, const char *name)
{
    pt_ctx p = {.t = t, .name = name};
    int rc = obj_principal_name_valid(name);

    return rc != 0 ? rc : obj__meta_write(s->meta, pt_create_commit, &p);
}

static int pt_get_read(obj__conn *c, void *arg)
{
    pt_ctx *p = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, p->t->get, &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return p->t->missing;
    if (rc != SQLITE_ROW)
        return obj__sqlerr(c, rc, p->t->get);
    principal_from_row(st, p->one);
    sqlite3_reset(st);
    return 0;
}

int obj__principal_get(obj_store *s, const obj__ptable *t, const char *name, obj_principal *out)
{
    pt_ctx p = {.t = t, .name = name, .one = out};

    memset(out, 0, sizeof(*out));
    if (obj_principal_name_valid(name) != 0)
        return t->missing; /* no such name can exist */
    return obj__meta_read(s->meta, pt_get_read, &p);
}

static int pt_list_read(obj__conn *c, void *arg)
{
    pt_ctx *p = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, p->t->list, &st), step = SQLITE_ROW;

    while (rc == 0) {
        step = sqlite3_step(st);
        if (step != SQLITE_ROW)
            break;
        if (cn_grow(&p->v, &p->cap, p->n, sizeof(*p->v), 16) != 0)
            rc = -CN_ENOMEM;
        else
            principal_from_row(st, &p->v[p->n++]);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = obj__sqlerr(c, step, p->t->list);
    if (st != NULL)
        sqlite3_reset(st);
    return rc;
}

int obj__principal_list(obj_store *s, const obj__ptable *t, obj_principal **out, size_t *n)
{
    pt_ctx p = {.t = t};
    int rc = obj__meta_read(s->meta, pt_list_read, &p);

    if (rc != 0) {
        free(p.v);
        p.v = NULL;
        p.n = 0;
    }
    *out = p.v;
    *n = p.n;
    return rc;
}

/* ---- users ---- */

int obj_user_create(obj_store *s, const char *name)
{
    return obj__principal_create(s, &obj__users_table, name);
}

int obj_user_get(obj_store *s, const char *name, obj_user *out)
{
    return obj__principal_get(s, &obj__users_table, name, out);
}

int obj_user_list(obj_store *s, obj_user **out, size_t *n)
{
    return obj__principal_list(s, &obj__users_table, out, n);
}

static int user_delete_commit(obj__conn *c, void *arg)
{
    const char *name = arg;
    int64_t owned = 0;
    int rc = obj__user_exists(c, name);

    if (rc == 0 && strcmp(name, OBJ_ROOT_USER) == 0)
        rc = -CN_ECONFLICT; /* note 2 */
    if (rc == 0)
        rc = obj__count(c, "SELECT count(*) FROM (SELECT 1 FROM buckets WHERE owner = ?1 LIMIT 1)", name, &owned);
    if (rc == 0 && owned > 0)
        rc = -CN_ECONFLICT; /* note 4 */
    if (rc == 0)
        rc = obj__exec1(c, "DELETE FROM access_keys WHERE principal = ?1", name);
    if (rc == 0)
        rc = obj__exec1(c, "DELETE FROM memberships WHERE user = ?1", name);
    if (rc == 0)
        rc = obj__exec1(c, "DELETE FROM users WHERE name = ?1", name);
    return rc;
}

int obj_user_delete(obj_store *s, const char *name)
{
    if (obj_principal_name_valid(name) != 0)
        return -CN_ENO_USER;
    return obj__meta_write(s->meta, user_delete_commit, (void *)name);
}

/* ---- access keys of users ---- */

int obj_key_generate(char access_key[OBJ_ACCESS_KEY_LEN + 1], char secret_key[OBJ_SECRET_KEY_LEN + 1])
{
    int rc = 0;

    memcpy(access_key, "AKIA", 4);
    rc = cn_random_token(access_key + 4, OBJ_ACCESS_KEY_LEN - 4, KEY_ID_ALPHABET);
    if (rc == 0)
        rc = cn_random_token(secret_key, OBJ_SECRET_KEY_LEN, SECRET_ALPHABET);
    return rc;
}

int obj_user_key_create(obj_store *s, const char *user, char access_key[OBJ_ACCESS_KEY_LEN + 1],
                        char secret_key[OBJ_SECRET_KEY_LEN + 1])
{
    int rc = -CN_ECONFLICT;

    for (int i = 0; i < KEY_CREATE_TRIES && rc == -CN_ECONFLICT; i++) {
        rc = obj_key_generate(access_key, secret_key);
        if (rc == 0)
            rc = obj_key_create(s, user, access_key, secret_key);
    }
    if (rc != 0) {
        OPENSSL_cleanse(secret_key, OBJ_SECRET_KEY_LEN + 1);
        access_key[0] = '\0';
    }
    return rc;
}

typedef struct key_list_ctx {
    const char *user, *access_key;
    int disabled, remove; /* key_change_commit */
    obj_key_info *v;
    size_t n, cap;
} key_list_ctx;

static void key_from_row(sqlite3_stmt *st, obj_key_info *out)
{
    memset(out, 0, sizeof(*out));
    obj__col_copy(st, 0, out->access_key, sizeof(out->access_key));
    obj__col_copy(st, 1, out->user, sizeof(out->user));
    out->created = (time_t)sqlite3_column_int64(st, 2);
    out->disabled = sqlite3_column_int(st, 3) != 0;
}

static int key_list_read(obj__conn *c, void *arg)
{
    key_list_ctx *k = arg;
    sqlite3_stmt *st = NULL;
    int step = SQLITE_ROW, rc = k->user != NULL ? obj__user_exists(c, k->user) : 0;

    if (rc == 0 && k->user != NULL)
        rc = obj__stmt(c,
                       "SELECT access_key, principal, created, disabled FROM access_keys WHERE principal = ?1 "
                       "ORDER BY created, access_key",
                       &st);
    else if (rc == 0)
        rc = obj__stmt(
            c,
            "SELECT access_key, principal, created, disabled FROM access_keys ORDER BY principal, created, access_key",
            &st);
    if (rc == 0 && k->user != NULL)
        sqlite3_bind_text(st, 1, k->user, -1, SQLITE_STATIC);
    while (rc == 0) {
        step = sqlite3_step(st);
        if (step != SQLITE_ROW)
            break;
        if (cn_grow(&k->v, &k->cap, k->n, sizeof(*k->v), 8) != 0)
            rc = -CN_ENOMEM;
        else
            key_from_row(st, &k->v[k->n++]);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = obj__sqlerr(c, step, "access key list");
    if (st != NULL)
        sqlite3_reset(st);
    return rc;
}

int obj_key_list(obj_store *s, const char *user, obj_key_info **out, size_t *n)
{
    key_list_ctx k = {.user = user};
    int rc =
        user != NULL && obj_principal_name_valid(user) != 0 ? -CN_ENO_USER : obj__meta_read(s->meta, key_list_read, &k);

    if (rc != 0) {
        free(k.v);
        k.v = NULL;
        k.n = 0;
    }
    *out = k.v;
    *n = k.n;
    return rc;
}

/* The row of k->access_key into *out: -CN_ENOKEY_ID if there is none. */
static int key_row(obj__conn *c, const char *access_key, obj_key_info *out)
{
    sqlite3_stmt *st = NULL;
    int rc =
        obj__stmt(c, "SELECT access_key, principal, created, disabled FROM access_keys WHERE access_key = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, access_key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return -CN_ENOKEY_ID;
    if (rc != SQLITE_ROW)
        return obj__sqlerr(c, rc, "access key get");
    key_from_row(st, out);
    sqlite3_reset(st);
    return 0;
}

static int key_get_read(obj__conn *c, void *arg)
{
    key_list_ctx *k = arg;

    return key_row(c, k->access_key, k->v);
}

int obj_key_get(obj_store *s, const char *access_key, obj_key_info *out)
{
    key_list_ctx k = {.access_key = access_key, .v = out};

    memset(out, 0, sizeof(*out));
    if (access_key == NULL || access_key[0] == '\0' || strlen(access_key) >= sizeof(out->access_key))
        return -CN_ENOKEY_ID;
    return obj__meta_read(s->meta, key_get_read, &k);
}

/* Disabling or deleting an enabled key of root that is its last (note 2). */
static int guard_root(obj__conn *c, const obj_key_info *cur)
{
    int64_t enabled = 0;
    int rc = 0;

    if (cur->disabled || strcmp(cur->user, OBJ_ROOT_USER) != 0)
        return 0;
    rc = obj__count(c, "SELECT count(*) FROM access_keys WHERE principal = ?1 AND disabled = 0", OBJ_ROOT_USER,
                    &enabled);
    return rc != 0 ? rc : (enabled <= 1 ? -CN_ECONFLICT : 0);
}

static int key_change_commit(obj__conn *c, void *arg)
{
    key_list_ctx *k = arg;
    obj_key_info cur;
    sqlite3_stmt *st = NULL;
    int rc = key_row(c, k->access_key, &cur);

    if (rc == 0 && (k->remove || k->disabled))
        rc = guard_root(c, &cur);
    if (rc != 0)
        return rc;
    if (k->remove)
        return obj__exec1(c, "DELETE FROM access_keys WHERE access_key = ?1", k->access_key);
    rc = obj__stmt(c, "UPDATE access_keys SET disabled = ?2 WHERE access_key = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, k->access_key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, k->disabled ? 1 : 0);
    return obj__step_done(c, st);
}

static int key_change(obj_store *s, const char *access_key, int disabled, int remove)
{
    key_list_ctx k = {.access_key = access_key, .disabled = disabled, .remove = remove};

    if (access_key == NULL || access_key[0] == '\0' || strlen(access_key) > 128)
        return -CN_ENOKEY_ID;
    return obj__meta_write(s->meta, key_change_commit, &k);
}

int obj_key_set_disabled(obj_store *s, const char *access_key, int disabled)
{
    return key_change(s, access_key, disabled, 0);
}

int obj_key_delete(obj_store *s, const char *access_key)
{
    return key_change(s, access_key, 1, 1);
}

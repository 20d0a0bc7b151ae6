/*
 * keys: access keys of users (the secret half of SigV4).
 *
 * The secret is stored as given for now; issue 5 wraps it with the gateway
 * master key. Either way it must never be logged or put in an error message:
 * nothing in this file prints it, and obj__sqlerr() logs statement text and
 * SQLite's message, never bound values.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

typedef struct key_ctx {
    const char *access_key, *secret, *principal;
    char *secret_out, *principal_out;
    size_t secret_cap, principal_cap;
    int count;
} key_ctx;

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

static int lookup_read(obj__conn *c, void *arg)
{
    key_ctx *k = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT secret, principal FROM access_keys WHERE access_key = ?1 AND disabled = 0", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, k->access_key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_ENOKEY_ID : obj__sqlerr(c, rc, "access key lookup");
    rc = copy_out(st, 0, k->secret_out, k->secret_cap);
    if (rc == 0)
        rc = copy_out(st, 1, k->principal_out, k->principal_cap);
    return rc;
}

int obj_key_lookup(void *store, const char *access_key, char *secret, size_t secret_cap, char *principal,
                   size_t principal_cap)
{
    obj_store *s = store;
    key_ctx k = {.access_key = access_key,
                 .secret_out = secret,
                 .secret_cap = secret_cap,
                 .principal_out = principal,
                 .principal_cap = principal_cap};
    int rc = 0;

    if (access_key == NULL || access_key[0] == '\0')
        return -CN_ENOKEY_ID;
    rc = obj__meta_read(s->meta, lookup_read, &k);
    if (rc != 0 && secret != NULL && secret_cap > 0)
        memset(secret, 0, secret_cap);
    return rc;
}

static int create_commit(obj__conn *c, void *arg)
{
    key_ctx *k = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "INSERT INTO access_keys(access_key, secret, principal, created) VALUES (?1, ?2, ?3, ?4) "
                       "ON CONFLICT(access_key) DO NOTHING",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, k->access_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->secret, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->principal, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)cn_now());
    rc = obj__step_done(c, st);
    if (rc == 0 && sqlite3_changes(obj__db(c)) != 1)
        rc = -CN_ECONFLICT; /* access key already exists */
    return rc;
}

int obj_key_create(obj_store *s, const char *principal, const char *access_key, const char *secret_key)
{
    key_ctx k = {.access_key = access_key, .secret = secret_key, .principal = principal};

    if (principal == NULL || access_key == NULL || secret_key == NULL || access_key[0] == '\0' ||
        secret_key[0] == '\0' || strlen(access_key) > 128 || strlen(secret_key) > 128)
        return -CN_EINVALID_ARGUMENT;
    return obj__meta_write(s->meta, create_commit, &k);
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

/*
 * groups: groups of users and who belongs to them (obj.h has the
 * contracts). Bucket policies name groups (auth/policy.h takes a user's
 * groups, from obj_user_groups()); the admin API admits members of
 * "admins".
 *
 * Design notes:
 *  1. A membership is a row (grp, user) of memberships, keyed both ways
 *     (schema.c, note 9). Deleting a group or a user deletes its rows in
 *     the same transaction, so no membership ever names a missing group or
 *     user.
 *  2. Adding a member twice is not an error (PUT is idempotent); removing
 *     a non-member is, so that a typo in a name does not pass silently.
 *  3. A user is in at most OBJ_USER_MAX_GROUPS groups: policy evaluation
 *     takes every group of the user on every request.
 *  4. No group is built in: "admins" means something to the admin API only
 *     once root has created it.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

static const obj__ptable groups_table = {
    .insert = "INSERT INTO groups(name, created) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
    .get = "SELECT name, created FROM groups WHERE name = ?1",
    .list = "SELECT name, created FROM groups ORDER BY name",
    .missing = -CN_ENO_GROUP,
};

typedef struct group_ctx {
    const char *group, *user;
    int member;
    char **names;
    size_t n;
} group_ctx;

void obj_names_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

int obj__names(obj__conn *c, const char *sql, const char *arg, char ***out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int step = SQLITE_ROW, rc = obj__stmt(c, sql, &st);

    *out = NULL;
    *n = 0;
    if (rc == 0)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    while (rc == 0) {
        step = sqlite3_step(st);
        if (step != SQLITE_ROW)
            break;
        rc =
            obj__strv_push(out, n, &cap, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = obj__sqlerr(c, step, sql);
    if (st != NULL)
        sqlite3_reset(st);
    if (rc != 0) {
        obj_names_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int group_exists(obj__conn *c, const char *name)
{
    int64_t n = 0;
    int rc = obj__count(c, "SELECT count(*) FROM groups WHERE name = ?1", name, &n);

    return rc != 0 ? rc : (n > 0 ? 0 : -CN_ENO_GROUP);
}

static int is_member(obj__conn *c, const char *group, const char *user, int *member)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT 1 FROM memberships WHERE grp = ?1 AND user = ?2", &st);

    *member = 0;
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *member = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "membership");
}

/* 0 when both names are valid; else what a lookup of them would answer. */
static int names_valid(const char *group, const char *user)
{
    if (obj_principal_name_valid(group) != 0)
        return -CN_ENO_GROUP;
    return user != NULL && obj_principal_name_valid(user) != 0 ? -CN_ENO_USER : 0;
}

/* ---- groups ---- */

int obj_group_create(obj_store *s, const char *name)
{
    return obj__principal_create(s, &groups_table, name);
}

int obj_group_get(obj_store *s, const char *name, obj_group *out)
{
    return obj__principal_get(s, &groups_table, name, out);
}

int obj_group_list(obj_store *s, obj_group **out, size_t *n)
{
    return obj__principal_list(s, &groups_table, out, n);
}

static int group_delete_commit(obj__conn *c, void *arg)
{
    group_ctx *g = arg;
    int rc = group_exists(c, g->group);

    if (rc == 0)
        rc = obj__exec1(c, "DELETE FROM memberships WHERE grp = ?1", g->group);
    if (rc == 0)
        rc = obj__exec1(c, "DELETE FROM groups WHERE name = ?1", g->group);
    return rc;
}

int obj_group_delete(obj_store *s, const char *name)
{
    group_ctx g = {.group = name};
    int rc = names_valid(name, NULL);

    return rc != 0 ? rc : obj__meta_write(s->meta, group_delete_commit, &g);
}

/* ---- membership ---- */

static int members_read(obj__conn *c, void *arg)
{
    group_ctx *g = arg;
    int rc = group_exists(c, g->group);

    if (rc == 0)
        rc = obj__names(c, "SELECT user FROM memberships WHERE grp = ?1 ORDER BY user", g->group, &g->names, &g->n);
    return rc;
}

int obj_group_members(obj_store *s, const char *group, char ***users, size_t *n)
{
    group_ctx g = {.group = group};
    int rc = names_valid(group, NULL);

    if (rc == 0)
        rc = obj__meta_read(s->meta, members_read, &g);
    *users = g.names;
    *n = g.n;
    return rc;
}

static int user_groups_read(obj__conn *c, void *arg)
{
    group_ctx *g = arg;
    int rc = obj__user_exists(c, g->user);

    if (rc == 0)
        rc = obj__names(c, "SELECT grp FROM memberships WHERE user = ?1 ORDER BY grp", g->user, &g->names, &g->n);
    return rc;
}

int obj_user_groups(obj_store *s, const char *user, char ***groups, size_t *n)
{
    group_ctx g = {.user = user};
    int rc = obj_principal_name_valid(user) != 0 ? -CN_ENO_USER : obj__meta_read(s->meta, user_groups_read, &g);

    *groups = g.names;
    *n = g.n;
    return rc;
}

static int in_group_read(obj__conn *c, void *arg)
{
    group_ctx *g = arg;

    return is_member(c, g->group, g->user, &g->member);
}

int obj_user_in_group(obj_store *s, const char *user, const char *group, int *member)
{
    group_ctx g = {.group = group, .user = user};
    int rc = names_valid(group, user) != 0 ? 0 : obj__meta_read(s->meta, in_group_read, &g);

    *member = rc == 0 && g.member;
    return rc;
}

static int add_commit(obj__conn *c, void *arg)
{
    group_ctx *g = arg;
    int64_t n = 0;
    int member = 0, rc = group_exists(c, g->group);

    if (rc == 0)
        rc = obj__user_exists(c, g->user);
    if (rc == 0)
        rc = is_member(c, g->group, g->user, &member);
    if (rc != 0 || member)
        return rc; /* note 2 */
    rc = obj__count(c, "SELECT count(*) FROM memberships WHERE user = ?1", g->user, &n);
    if (rc == 0 && n >= OBJ_USER_MAX_GROUPS)
        rc = -CN_ETOOLARGE; /* note 3 */
    if (rc == 0) {
        sqlite3_stmt *st = NULL;
        rc = obj__stmt(c, "INSERT INTO memberships(grp, user) VALUES (?1, ?2)", &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, g->group, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, g->user, -1, SQLITE_STATIC);
            rc = obj__step_done(c, st);
        }
    }
    return rc;
}

int obj_group_add(obj_store *s, const char *group, const char *user)
{
    group_ctx g = {.group = group, .user = user};
    int rc = names_valid(group, user);

    return rc != 0 ? rc : obj__meta_write(s->meta, add_commit, &g);
}

static int remove_commit(obj__conn *c, void *arg)
{
    group_ctx *g = arg;
    sqlite3_stmt *st = NULL;
    int rc = group_exists(c, g->group);

    if (rc == 0)
        rc = obj__user_exists(c, g->user);
    if (rc == 0)
        rc = obj__stmt(c, "DELETE FROM memberships WHERE grp = ?1 AND user = ?2", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, g->group, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, g->user, -1, SQLITE_STATIC);
    rc = obj__step_done(c, st);
    if (rc == 0 && sqlite3_changes(obj__db(c)) != 1)
        rc = -CN_ENO_USER; /* not a member: note 2 */
    return rc;
}

int obj_group_remove(obj_store *s, const char *group, const char *user)
{
    group_ctx g = {.group = group, .user = user};
    int rc = names_valid(group, user);

    return rc != 0 ? rc : obj__meta_write(s->meta, remove_commit, &g);
}

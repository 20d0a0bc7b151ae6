/*
 * users: the resource /_cairn/admin/users (docs/ADMIN.md).
 *
 *   POST   users           {"name"}   create           201 {"name", "created"}
 *   GET    users                      list             200 {"users": [...]}
 *   GET    users/NAME                 show             200 {"name", "created", "groups", "keys", "buckets"}
 *   DELETE users/NAME                 delete           200 {"user", "deleted": true}
 *
 * A user's keys are under keys.c, its memberships under groups.c. What may
 * be deleted is the object layer's rule (obj/users.c): not root, not the
 * owner of a bucket; this file only says why, naming the buckets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admint.h"

/* Names shown in a "owns buckets" message, at most. */
#define NAMED_BUCKETS 5

static int no_user(admin__op *op, int rc, const char *name)
{
    return rc == -CN_ENO_USER ? admin__fail(op, rc, "user %s does not exist", name) : rc;
}

int admin__user_create(admin__op *op)
{
    char name[OBJ_NAME_MAX + 1];
    obj_user u;
    int rc = admin__body_name(op, name);

    if (rc == 0)
        rc = obj_user_create(op->ctx->store, name);
    if (rc == -CN_EEXISTS)
        return admin__fail(op, rc, "user %s already exists", name);
    if (rc == 0)
        rc = obj_user_get(op->ctx->store, name, &u);
    if (rc != 0)
        return rc;
    admin__log(op, "created user %s", name);
    return admin__reply(op, 201, admin__principal(&u));
}

int admin__user_list(admin__op *op)
{
    obj_user *v = NULL;
    size_t n = 0;
    json_t *a = NULL;
    int rc = obj_user_list(op->ctx->store, &v, &n);

    if (rc == 0)
        a = json_array();
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (a == NULL || json_array_append_new(a, admin__principal(&v[i])) != 0)
            rc = -CN_ENOMEM;
    free(v);
    if (rc != 0) {
        json_decref(a);
        return rc;
    }
    return admin__reply(op, 200, json_pack("{s:o}", "users", a));
}

static json_t *keys_of(const obj_key_info *k, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, admin__key(&k[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

static json_t *bucket_names(const obj_bucket *b, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, json_string(b[i].name)) != 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

int admin__user_show(admin__op *op)
{
    const char *name = op->seg[1];
    obj_user u;
    char **groups = NULL;
    obj_key_info *keys = NULL;
    obj_bucket *buckets = NULL;
    size_t n_groups = 0, n_keys = 0, n_buckets = 0;
    json_t *v = NULL;
    int rc = obj_user_get(op->ctx->store, name, &u);

    if (rc == 0)
        rc = obj_user_groups(op->ctx->store, name, &groups, &n_groups);
    if (rc == 0)
        rc = obj_key_list(op->ctx->store, name, &keys, &n_keys);
    if (rc == 0)
        rc = obj_bucket_list(op->ctx->store, name, &buckets, &n_buckets);
    if (rc == 0)
        v = json_pack("{s:s, s:o, s:o, s:o, s:o}", "name", u.name, "created", admin__time(u.created), "groups",
                      admin__strings(groups, n_groups), "keys", keys_of(keys, n_keys), "buckets",
                      bucket_names(buckets, n_buckets));
    obj_names_free(groups, n_groups);
    free(keys);
    free(buckets);
    return rc != 0 ? no_user(op, rc, name) : admin__reply(op, 200, v);
}

/* Why the object layer refused to delete name (-CN_ECONFLICT). */
static int explain_conflict(admin__op *op, const char *name)
{
    obj_bucket *b = NULL;
    size_t n = 0, used = 0;
    int rc = 0;

    if (strcmp(name, OBJ_ROOT_USER) == 0)
        return admin__fail(op, -CN_ECONFLICT, "the user root cannot be deleted");
    rc = obj_bucket_list(op->ctx->store, name, &b, &n);
    if (rc != 0 || n == 0) {
        free(b);
        return admin__fail(op, -CN_ECONFLICT, "user %s owns buckets: delete them first", name);
    }
    used = (size_t)snprintf(op->msg, sizeof(op->msg), "user %s owns %zu bucket%s (", name, n, n > 1 ? "s" : "");
    for (size_t i = 0; i < n && i < NAMED_BUCKETS && used < sizeof(op->msg); i++)
        used += (size_t)snprintf(op->msg + used, sizeof(op->msg) - used, "%s%s", i > 0 ? ", " : "", b[i].name);
    if (used < sizeof(op->msg))
        snprintf(op->msg + used, sizeof(op->msg) - used, "%s): delete them first", n > NAMED_BUCKETS ? ", ..." : "");
    free(b);
    return -CN_ECONFLICT;
}

int admin__user_delete(admin__op *op)
{
    const char *name = op->seg[1];
    int rc = obj_user_delete(op->ctx->store, name);

    if (rc == -CN_ECONFLICT)
        return explain_conflict(op, name);
    if (rc != 0)
        return no_user(op, rc, name);
    admin__log(op, "deleted user %s with its keys and memberships", name);
    return admin__reply(op, 200, json_pack("{s:s, s:b}", "user", name, "deleted", 1));
}

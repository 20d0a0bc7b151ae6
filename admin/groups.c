/*
 * groups: the resource /_cairn/admin/groups and its members (docs/ADMIN.md).
 *
 *   POST   groups                    {"name"}  create  201 {"name", "created", "members"}
 *   GET    groups                              list    200 {"groups": [{"name", "created", "members"}]}
 *   GET    groups/NAME                         show    200 {"name", "created", "members"}
 *   DELETE groups/NAME                         delete  200 {"group", "deleted": true}
 *   PUT    groups/NAME/members/USER            add     200 {"group", "user", "member": true}
 *   DELETE groups/NAME/members/USER            remove  200 {"group", "user", "member": false}
 *
 * Deleting a group takes its memberships with it; adding a member twice is
 * harmless, removing a non-member is 404 (obj/groups.c, note 2). Members of
 * ADMIN_GROUP may use this API (handle.c), so changes to it are logged like
 * every other change.
 */
#include <stdlib.h>
#include <string.h>

#include "admint.h"

static int explain(admin__op *op, int rc, const char *group, const char *user)
{
    if (rc == -CN_ENO_GROUP)
        return admin__fail(op, rc, "group %s does not exist", group);
    if (rc == -CN_ENO_USER)
        return admin__fail(op, rc, "user %s does not exist", user);
    if (rc == -CN_ETOOLARGE)
        return admin__fail(op, rc, "user %s is in %d groups already", user, OBJ_USER_MAX_GROUPS);
    return rc;
}

/* {"name", "created", "members"} of g. */
static int group_json(admin__op *op, const obj_group *g, json_t **out)
{
    char **members = NULL;
    size_t n = 0;
    int rc = obj_group_members(op->ctx->store, g->name, &members, &n);

    *out = NULL;
    if (rc == 0)
        *out = json_pack("{s:s, s:o, s:o}", "name", g->name, "created", admin__time(g->created), "members",
                         admin__strings(members, n));
    obj_names_free(members, n);
    return rc != 0 ? rc : (*out == NULL ? -CN_ENOMEM : 0);
}

int admin__group_create(admin__op *op)
{
    char name[OBJ_NAME_MAX + 1];
    obj_group g;
    json_t *v = NULL;
    int rc = admin__body_name(op, name);

    if (rc == 0)
        rc = obj_group_create(op->ctx->store, name);
    if (rc == -CN_EEXISTS)
        return admin__fail(op, rc, "group %s already exists", name);
    if (rc == 0)
        rc = obj_group_get(op->ctx->store, name, &g);
    if (rc == 0)
        rc = group_json(op, &g, &v);
    if (rc != 0)
        return rc;
    admin__log(op, "created group %s", name);
    return admin__reply(op, 201, v);
}

int admin__group_list(admin__op *op)
{
    obj_group *g = NULL;
    size_t n = 0;
    json_t *a = NULL, *one = NULL;
    int rc = obj_group_list(op->ctx->store, &g, &n);

    if (rc == 0)
        a = json_array();
    if (rc == 0 && a == NULL)
        rc = -CN_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = group_json(op, &g[i], &one);
        if (rc == 0 && json_array_append_new(a, one) != 0)
            rc = -CN_ENOMEM;
    }
    free(g);
    if (rc != 0) {
        json_decref(a);
        return rc;
    }
    return admin__reply(op, 200, json_pack("{s:o}", "groups", a));
}

int admin__group_show(admin__op *op)
{
    obj_group g;
    json_t *v = NULL;
    int rc = obj_group_get(op->ctx->store, op->seg[1], &g);

    if (rc == 0)
        rc = group_json(op, &g, &v);
    return rc != 0 ? explain(op, rc, op->seg[1], NULL) : admin__reply(op, 200, v);
}

int admin__group_delete(admin__op *op)
{
    const char *name = op->seg[1];
    int rc = obj_group_delete(op->ctx->store, name);

    if (rc != 0)
        return explain(op, rc, name, NULL);
    admin__log(op, "deleted group %s", name);
    return admin__reply(op, 200, json_pack("{s:s, s:b}", "group", name, "deleted", 1));
}

static json_t *membership(const char *group, const char *user, int member)
{
    return json_pack("{s:s, s:s, s:b}", "group", group, "user", user, "member", member);
}

int admin__member_add(admin__op *op)
{
    const char *group = op->seg[1], *user = op->seg[3];
    int rc = obj_group_add(op->ctx->store, group, user);

    if (rc != 0)
        return explain(op, rc, group, user);
    admin__log(op, "added user %s to group %s", user, group);
    return admin__reply(op, 200, membership(group, user, 1));
}

int admin__member_remove(admin__op *op)
{
    const char *group = op->seg[1], *user = op->seg[3];
    obj_user u;
    int rc = obj_group_remove(op->ctx->store, group, user);

    /* -CN_ENO_USER is also "not a member" (obj/groups.c): say which */
    if (rc == -CN_ENO_USER && obj_user_get(op->ctx->store, user, &u) == 0) {
        op->code = "NoSuchMember";
        return admin__fail(op, rc, "user %s is not a member of group %s", user, group);
    }
    if (rc != 0)
        return explain(op, rc, group, user);
    admin__log(op, "removed user %s from group %s", user, group);
    return admin__reply(op, 200, membership(group, user, 0));
}

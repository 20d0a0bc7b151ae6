/*
 * handle: admin_handle(), the one entry point of admin/.
 *
 *   authorize (below) --> split the path --> route (table below) --> handler
 *        \__________________ error? admin__error (json.c) ___________/
 *
 * Handlers live one file per resource: users.c, groups.c, keys.c.
 *
 * Design notes:
 *  1. Authorization comes before routing: a caller who may not use the API
 *     learns nothing about it, not even which paths exist (403 for all).
 *  2. Only SigV4, in the header or presigned. SigV2 signs neither the
 *     payload nor most headers, and anonymous requests have no principal.
 *  3. Who may: root, or a member of ADMIN_GROUP. Membership is read from
 *     the store on every request, so removing someone from the group (or
 *     deleting them, or disabling their key) takes effect at the next one.
 *  4. Path segments are percent-decoded one at a time; a name in the path
 *     is checked as a name in a body is, so that a malformed one is 400
 *     InvalidName, not 404.
 *  5. shares/ (capabilities, shares.c) is the exception to note 3: every
 *     SigV4 principal may call it, users and capabilities alike, because
 *     granting is decided by ownership and by the grant itself (obj/caps.c).
 */
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "admint.h"

typedef struct route {
    const char *method;
    /* Literal segments; "{user}", "{group}" and "{key}" take a name. */
    const char *path[ADMIN__MAX_SEGS];
    admin__fn fn;
    const char *op_name; /* metrics */
} route;

static const route routes[] = {
    {"POST", {"users"}, admin__user_create, "AdminCreateUser"},
    {"GET", {"users"}, admin__user_list, "AdminListUsers"},
    {"GET", {"users", "{user}"}, admin__user_show, "AdminGetUser"},
    {"DELETE", {"users", "{user}"}, admin__user_delete, "AdminDeleteUser"},
    {"POST", {"users", "{user}", "keys"}, admin__key_create, "AdminCreateAccessKey"},
    {"GET", {"users", "{user}", "keys"}, admin__key_list, "AdminListAccessKeys"},
    {"POST", {"groups"}, admin__group_create, "AdminCreateGroup"},
    {"GET", {"groups"}, admin__group_list, "AdminListGroups"},
    {"GET", {"groups", "{group}"}, admin__group_show, "AdminGetGroup"},
    {"DELETE", {"groups", "{group}"}, admin__group_delete, "AdminDeleteGroup"},
    {"PUT", {"groups", "{group}", "members", "{user}"}, admin__member_add, "AdminAddGroupMember"},
    {"DELETE", {"groups", "{group}", "members", "{user}"}, admin__member_remove, "AdminRemoveGroupMember"},
    {"GET", {"keys", "{key}"}, admin__key_show, "AdminGetAccessKey"},
    {"DELETE", {"keys", "{key}"}, admin__key_delete, "AdminDeleteAccessKey"},
    {"POST", {"keys", "{key}", "disable"}, admin__key_disable, "AdminDisableAccessKey"},
    {"POST", {"keys", "{key}", "enable"}, admin__key_enable, "AdminEnableAccessKey"},
    {"POST", {"shares"}, admin__share_create, "AdminCreateShare"},
    {"GET", {"shares"}, admin__share_list, "AdminListShares"},
    {"DELETE", {"shares", "{share}"}, admin__share_revoke, "AdminRevokeShare"},
};

int admin_is_admin_path(const char *path)
{
    size_t n = strlen(ADMIN_PATH_PREFIX);

    /* the prefix, or the prefix without its final '/' */
    return path != NULL && (strncmp(path, ADMIN_PATH_PREFIX, n) == 0 ||
                            (strncmp(path, ADMIN_PATH_PREFIX, n - 1) == 0 && path[n - 1] == '\0'));
}

/* Note 5: shares/ is open to every signed principal. */
static int is_shares_path(const char *path)
{
    const char *rest = path + strlen(ADMIN_PATH_PREFIX);

    return strlen(path) >= strlen(ADMIN_PATH_PREFIX) && strncmp(rest, "shares", 6) == 0 &&
           (rest[6] == '\0' || rest[6] == '/');
}

static int authorize(admin__op *op)
{
    const char *who = op->ar->principal;
    int member = 0, rc = 0;

    if (op->ar->kind == AUTH_ANONYMOUS)
        return admin__fail(op, -CN_EACCESS, "the admin API needs a request signed with SigV4");
    if (op->ar->kind != AUTH_V4_HEADER && op->ar->kind != AUTH_V4_QUERY)
        return admin__fail(op, -CN_EACCESS, "the admin API accepts SigV4 signatures only");
    if (strcmp(who, OBJ_ROOT_USER) == 0 || is_shares_path(op->req->path))
        return 0;
    rc = obj_user_in_group(op->ctx->store, who, ADMIN_GROUP, &member);
    if (rc != 0 || member)
        return rc;
    return admin__fail(op, -CN_EACCESS, "user %s is neither root nor a member of the group %s", who, ADMIN_GROUP);
}

/* The decoded segments after the prefix; one trailing '/' is ignored. */
static int split_path(admin__op *op)
{
    const char *p = op->req->path + strlen(ADMIN_PATH_PREFIX) - 1;
    size_t len = strlen(p);

    if (len > 0 && p[len - 1] == '/')
        len--;
    while (len > 0) {
        const char *slash = memchr(p + 1, '/', len - 1);
        size_t n = slash != NULL ? (size_t)(slash - p - 1) : len - 1;
        int d = 0;

        if (n == 0 || n > 3 * ADMIN__SEG_MAX || op->n_seg == ADMIN__MAX_SEGS)
            return -CN_EINVALID_URI;
        d = cn_uri_decode(op->seg[op->n_seg], sizeof(op->seg[0]), p + 1, n, 0);
        if (d < 0 || memchr(op->seg[op->n_seg], '\0', (size_t)d) != NULL)
            return admin__fail(op, -CN_EINVALID_REQUEST, "malformed percent-escape in the path");
        op->n_seg++;
        p += n + 1;
        len -= n + 1;
    }
    return 0;
}

static int path_matches(const route *r, const admin__op *op)
{
    size_t n = 0;

    while (n < ADMIN__MAX_SEGS && r->path[n] != NULL)
        n++;
    if (n != op->n_seg)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (r->path[i][0] != '{' && strcmp(r->path[i], op->seg[i]) != 0)
            return 0;
    return 1;
}

static int find_route(admin__op *op, const route **out)
{
    int path_known = 0;

    for (size_t i = 0; i < CN_ARRAY_SIZE(routes); i++) {
        if (!path_matches(&routes[i], op))
            continue;
        path_known = 1;
        if (strcmp(routes[i].method, op->req->method) == 0) {
            *out = &routes[i];
            return 0;
        }
    }
    return path_known ? -CN_EMETHOD_NOT_ALLOWED : -CN_EINVALID_URI;
}

static int access_key_valid(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= 128 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == n;
}

/* Note 4. */
static int check_names(admin__op *op, const route *r)
{
    for (size_t i = 0; i < op->n_seg; i++) {
        const char *kind = r->path[i];
        if (strcmp(kind, "{share}") == 0 &&
            (strlen(op->seg[i]) != OBJ_CAP_ID_LEN || strspn(op->seg[i], "0123456789abcdef") != OBJ_CAP_ID_LEN))
            return admin__fail(op, -CN_EINVALID_ARGUMENT, "invalid capability id in the path: 16 hex digits");
        if (strcmp(kind, "{key}") == 0 && !access_key_valid(op->seg[i]))
            return admin__fail(op, -CN_EINVALID_ARGUMENT,
                               "invalid access key in the path: 1 to 128 letters and digits");
        if ((strcmp(kind, "{user}") == 0 || strcmp(kind, "{group}") == 0) && obj_principal_name_valid(op->seg[i]) != 0)
            return admin__fail(op, -CN_EINVALID_ARGUMENT,
                               "invalid %s name in the path: 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '@' "
                               "and '-'",
                               kind[1] == 'u' ? "user" : "group");
    }
    return 0;
}

void admin_handle(const admin_ctx *ctx, const cn_request *req, const auth_result *ar, cn_response *res)
{
    admin__op op;
    const route *r = NULL;
    int err = 0;

    memset(&op, 0, sizeof(op));
    op.ctx = ctx;
    op.req = req;
    op.ar = ar;
    op.res = res;
    res->op_name = "Admin";
    err = authorize(&op);
    if (err == -CN_EACCESS)
        snprintf(res->deny_reason, sizeof(res->deny_reason), "admin: %.100s", op.msg);
    if (err == 0)
        err = split_path(&op);
    if (err == 0)
        err = find_route(&op, &r);
    if (err == 0) {
        res->op_name = r->op_name;
        err = check_names(&op, r);
    }
    if (err == 0)
        err = r->fn(&op);
    if (err < 0)
        admin__error(&op, err);
}

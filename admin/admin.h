/*
 * admin: the admin API of the gateway, JSON over HTTP under /_cairn/admin/
 * (docs/ADMIN.md): users, groups, memberships and access keys.
 *
 * Requests are signed with SigV4 exactly as S3 requests are and
 * authenticated by the gateway before admin_handle() sees them; only the
 * user "root" and members of the group "admins" may use the API. It sits
 * beside s3api (same layer, below the gateway) and calls the object layer
 * only.
 *
 * Threading: admin_handle() runs on a worker thread and may block.
 */
#ifndef CN_ADMIN_H
#define CN_ADMIN_H

#include "../auth/auth.h"
#include "../common/http.h"
#include "../obj/obj.h"

/* Every admin path starts with this. A bucket name cannot start with '_',
 * so no path-style S3 request is ever taken for an admin one. */
#define ADMIN_PATH_PREFIX "/_cairn/admin/"
/* The group whose members may use the admin API, besides root. */
#define ADMIN_GROUP "admins"

typedef struct admin_ctx {
    obj_store *store;
    /* Where each change is recorded ("admin: root created user alice");
     * NULL: nowhere. */
    void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
} admin_ctx;

/* 1 if the raw request path (no query) is an admin path. The gateway asks
 * only for path-style requests: under a virtual-hosted bucket the same
 * path is an object key. */
int admin_is_admin_path(const char *path);

/* Serves one authenticated request (ar): authorization, routing, the
 * operation, and a JSON response. Always fills res: on failure with
 * {"error": code, "message": ..., "request_id": ...} and its status. */
void admin_handle(const admin_ctx *ctx, const cn_request *req, const auth_result *ar, cn_response *res);

/* Fills res with the JSON error document of err (a negative CN_E*, as
 * cn_err_info() maps it: for failures before admin_handle(), such as
 * authentication); message NULL uses the table's text. */
void admin_error(cn_response *res, const cn_request *req, int err, const char *message);

#endif

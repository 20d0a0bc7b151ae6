/*
 * admint: what the files of admin/ share and nothing else includes (as
 * SQLite's btreeInt.h): the request being served, the handlers of each
 * resource, and the JSON helpers. Functions are named admin__*.
 */
#ifndef CN_ADMINT_H
#define CN_ADMINT_H

#include <jansson.h>

#include "../common/err.h"
#include "admin.h"

/* Path segments after ADMIN_PATH_PREFIX, at most this many. */
#define ADMIN__MAX_SEGS 4
/* Longest path segment, decoded. */
#define ADMIN__SEG_MAX 256
/* Largest request body: a JSON object with a name in it. */
#define ADMIN__BODY_MAX (64u << 10)

typedef struct admin__op {
    const admin_ctx *ctx;
    const cn_request *req;
    const auth_result *ar;
    cn_response *res;
    char seg[ADMIN__MAX_SEGS][ADMIN__SEG_MAX + 1]; /* decoded */
    size_t n_seg;
    char msg[512];    /* the error message, when a handler sets one */
    const char *code; /* the error code, when the error's own would mislead */
} admin__op;

typedef int (*admin__fn)(admin__op *op);

/* Handlers: 0 with the response filled (admin__reply), or a negative CN_E*
 * with op->msg set when the table's text would not say enough. */
int admin__user_create(admin__op *op);
int admin__user_list(admin__op *op);
int admin__user_show(admin__op *op);
int admin__user_delete(admin__op *op);
int admin__group_create(admin__op *op);
int admin__group_list(admin__op *op);
int admin__group_show(admin__op *op);
int admin__group_delete(admin__op *op);
int admin__member_add(admin__op *op);
int admin__member_remove(admin__op *op);
int admin__key_create(admin__op *op);
int admin__key_list(admin__op *op);
int admin__key_show(admin__op *op);
int admin__key_disable(admin__op *op);
int admin__key_enable(admin__op *op);
int admin__key_delete(admin__op *op);
int admin__share_create(admin__op *op);
int admin__share_list(admin__op *op);
int admin__share_revoke(admin__op *op);

/* ---- json.c ---- */

/* Formats op->msg; returns err. */
int admin__fail(admin__op *op, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sends v (a JSON object; its reference is taken, NULL is -CN_ENOMEM) with
 * status. 0 or -CN_ENOMEM. */
int admin__reply(admin__op *op, int status, json_t *v);
/* The error document of a handler's failure: codes as the admin API
 * names them (NoSuchAccessKey, Conflict, ...; docs/ADMIN.md). */
void admin__error(admin__op *op, int err);
/* The body as a JSON object holding a string "name" and nothing else;
 * the name (at most OBJ_NAME_MAX) into name. The body is read through
 * auth_body_stream(), so its payload hash is checked, and must be signed:
 * -CN_EACCESS for an unsigned payload. -CN_EINVALID_REQUEST (message set)
 * for anything that is not such an object. */
int admin__body_name(admin__op *op, char name[OBJ_NAME_MAX + 1]);
/* The body as JSON (read and checked as above; any JSON value); *doc is the
 * caller's. -CN_EINVALID_REQUEST (message set) if it is not JSON. */
int admin__body_json(admin__op *op, json_t **doc);
/* "2006-02-03T16:45:09.000Z" as a JSON string. */
json_t *admin__time(time_t t);
/* A JSON array of n strings. */
json_t *admin__strings(char *const *v, size_t n);
/* {"name", "created"} of a user or group. */
json_t *admin__principal(const obj_principal *p);
/* {"access_key", "user", "created", "disabled"}; never a secret. */
json_t *admin__key(const obj_key_info *k);
/* Records a change through ctx->log: "admin: <principal> <what>". */
void admin__log(admin__op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

/*
 * json: what goes in and out of the admin API: request bodies, responses,
 * error documents, and the JSON shape of users, groups and keys.
 *
 * Design notes:
 *  1. Errors are {"error": code, "message": ..., "request_id": ...} with
 *     the HTTP status of the code. Codes come from common/err.c, as for S3,
 *     except where the admin API means something else by the same internal
 *     error (the table below): after authentication, an unknown access key
 *     is a missing resource (404), not a failed login (403).
 *  2. A body is read through auth_body_stream(), which checks it against
 *     the signed payload hash before the last byte is handed over. A body
 *     whose hash was not signed (UNSIGNED-PAYLOAD) is refused: over plain
 *     HTTP anyone on the path could rewrite it.
 *  3. A body is at most ADMIN__BODY_MAX bytes and is parsed strictly: one
 *     JSON object, no duplicate or unknown member.
 *  4. Secrets appear in exactly one response, that of key creation
 *     (keys.c); admin__key() never carries one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "admint.h"

static const struct {
    int err;
    const char *code;
    int status;
    const char *message;
} admin_codes[] = {
    {CN_ENOKEY_ID, "NoSuchAccessKey", 404, "The access key does not exist."},
    {CN_ECONFLICT, "Conflict", 409, "The request conflicts with the state of the resource."},
    {CN_ETOOLARGE, "LimitExceeded", 409, "A limit would be exceeded."},
    {CN_EINVALID_ARGUMENT, "InvalidName", 400, "A name is 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '@' and '-'."},
    {CN_EINVALID_URI, "NoSuchResource", 404, "The admin API has no such resource."},
};

static void error_doc(cn_response *res, const cn_request *req, const char *code, int status, const char *message)
{
    const char *op_name = res->op_name;
    json_t *doc = json_pack("{s:s, s:s, s:s}", "error", code, "message", message, "request_id",
                            req != NULL ? req->request_id : "");
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;

    cn_res_dispose(res); /* the response starts over */
    cn_res_init(res);
    res->op_name = op_name;
    res->status = status;
    if (text == NULL || cn_buf_puts(&res->body, text) != 0 || cn_buf_puts(&res->body, "\n") != 0) {
        cn_buf_reset(&res->body);
        cn_buf_printf(&res->body, "{\"error\":\"%s\"}\n", code);
    }
    cn_res_add_header(res, "content-type", "application/json");
    free(text);
    json_decref(doc);
}

void admin_error(cn_response *res, const cn_request *req, int err, const char *message)
{
    const cn_err_info_t *info = cn_err_info(err);

    error_doc(res, req, info->code, info->status, message != NULL ? message : info->message);
}

void admin__error(admin__op *op, int err)
{
    const char *msg = op->msg[0] != '\0' ? op->msg : NULL;

    if (op->code != NULL) {
        const cn_err_info_t *info = cn_err_info(err);
        error_doc(op->res, op->req, op->code, info->status, msg != NULL ? msg : info->message);
        return;
    }

    for (size_t i = 0; i < CN_ARRAY_SIZE(admin_codes); i++)
        if (-err == admin_codes[i].err) {
            error_doc(op->res, op->req, admin_codes[i].code, admin_codes[i].status,
                      msg != NULL ? msg : admin_codes[i].message);
            return;
        }
    admin_error(op->res, op->req, err, msg);
}

int admin__fail(admin__op *op, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
    va_end(ap);
    return err;
}

int admin__reply(admin__op *op, int status, json_t *v)
{
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    int rc = text == NULL ? -CN_ENOMEM : 0;

    if (rc == 0)
        rc = cn_buf_puts(&op->res->body, text);
    if (rc == 0)
        rc = cn_buf_puts(&op->res->body, "\n");
    if (rc == 0)
        rc = cn_res_add_header(op->res, "content-type", "application/json");
    if (rc == 0)
        op->res->status = status;
    free(text);
    json_decref(v);
    return rc != 0 ? -CN_ENOMEM : 0;
}

void admin__log(admin__op *op, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    if (op->ctx->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    op->ctx->log("admin: %s %s (request %s)", op->ar->principal, what, op->req->request_id);
}

/* ---- request bodies ---- */

static int payload_signed(const auth_result *ar)
{
    return ar->payload == AUTH_PAYLOAD_SIGNED || ar->payload == AUTH_PAYLOAD_STREAMING ||
           ar->payload == AUTH_PAYLOAD_STREAMING_TRAILER;
}

/* The whole body into buf (cap bytes): its length, or a negative CN_E*. */
static long read_body(admin__op *op, char *buf, size_t cap)
{
    cn_stream *s = NULL;
    size_t got = 0;
    long n = 1;

    if (op->req->body_len == 0)
        return 0;
    if (!payload_signed(op->ar))
        return admin__fail(op, -CN_EACCESS, "admin requests must sign their payload (x-amz-content-sha256)");
    if (auth_payload_length(op->ar, op->req->body_len) >= cap)
        return admin__fail(op, -CN_EENTITY_TOO_LARGE, "the body exceeds %zu bytes", cap - 1);
    s = auth_body_stream(op->ar, op->req->body, op->req->body_len);
    if (s == NULL)
        return -CN_ENOMEM;
    while (got < cap) {
        n = s->read(s, buf + got, cap - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    s->close(s);
    if (n < 0)
        return n; /* the hash or a chunk signature did not match (note 2) */
    return got < cap ? (long)got : admin__fail(op, -CN_EENTITY_TOO_LARGE, "the body is too large");
}

static int name_member(admin__op *op, json_t *doc, char name[OBJ_NAME_MAX + 1])
{
    json_t *v = json_object_get(doc, "name");
    size_t len = v != NULL && json_is_string(v) ? json_string_length(v) : 0;

    if (!json_is_object(doc) || json_object_size(doc) != 1 || v == NULL || !json_is_string(v))
        return admin__fail(op, -CN_EINVALID_REQUEST, "the body must be a JSON object {\"name\": \"...\"}");
    if (len == 0 || len > OBJ_NAME_MAX || memchr(json_string_value(v), '\0', len) != NULL ||
        obj_principal_name_valid(json_string_value(v)) != 0)
        return admin__fail(op, -CN_EINVALID_ARGUMENT,
                           "invalid name \"%.80s\": 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '@' and '-'",
                           json_string_value(v));
    memcpy(name, json_string_value(v), len + 1);
    return 0;
}

int admin__body_json(admin__op *op, json_t **doc)
{
    char *buf = malloc(ADMIN__BODY_MAX + 1);
    json_error_t jerr;
    long n = buf != NULL ? read_body(op, buf, ADMIN__BODY_MAX + 1) : -CN_ENOMEM;
    int rc = n < 0 ? (int)n : 0;

    *doc = NULL;
    if (rc == 0) {
        *doc = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
        if (*doc == NULL)
            rc = admin__fail(op, -CN_EINVALID_REQUEST, "the body is not JSON: %s (line %d, column %d)", jerr.text,
                             jerr.line, jerr.column);
    }
    free(buf);
    if (rc != 0) {
        json_decref(*doc);
        *doc = NULL;
    }
    return rc;
}

int admin__body_name(admin__op *op, char name[OBJ_NAME_MAX + 1])
{
    json_t *doc = NULL;
    int rc = admin__body_json(op, &doc);

    if (rc == 0)
        rc = name_member(op, doc, name);
    json_decref(doc);
    return rc;
}

/* ---- JSON shapes ---- */

json_t *admin__time(time_t t)
{
    char iso[32];

    cn_time_iso8601(iso, t);
    return json_string(iso);
}

json_t *admin__strings(char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

json_t *admin__principal(const obj_principal *p)
{
    return json_pack("{s:s, s:o}", "name", p->name, "created", admin__time(p->created));
}

json_t *admin__key(const obj_key_info *k)
{
    return json_pack("{s:s, s:s, s:o, s:b}", "access_key", k->access_key, "user", k->user, "created",
                     admin__time(k->created), "disabled", k->disabled);
}

/*
 * shares: capabilities over the admin API (docs/ADMIN.md, docs/ACCESS.md).
 *
 *   POST   shares        create  201 the capability and its "secret_key"
 *   GET    shares        list    200 {"shares": [...]}: what the caller granted
 *   DELETE shares/ID     revoke  200 the capability, "revoked" set
 *
 * Unlike the rest of the admin API, any SigV4 principal may call these
 * (handle.c): a bucket's owner grants on it, a capability's key derives a
 * narrower child or revokes its own descendants; obj/caps.c decides.
 *
 * The create body is one JSON object:
 *   {"bucket": "b", "prefix": "p/" | "key": "k" [, "history": true | "version_id": "v"],
 *    "permissions": ["read", "list", "write", "delete"],
 *    "expires_in": seconds | "expires": "2026-12-01T00:00:00Z",
 *    "not_before": ..., "not_after": ...   (ISO 8601 UTC or epoch seconds),
 *    "source": "10.0.0.0/8"}
 * Unknown members are refused (a typo must not widen a grant silently).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "../auth/policy.h"
#include "../common/util.h"
#include "admint.h"

static const char *const perm_names[] = {"read", "list", "write", "delete"};

static const char *kind_name(int kind)
{
    static const char *const names[] = {"", "bucket", "prefix", "history", "version"};

    return kind >= OBJ_CAP_BUCKET && kind <= OBJ_CAP_VERSION ? names[kind] : "";
}

static json_t *ms_time(int64_t ms)
{
    return ms != 0 ? admin__time((time_t)(ms / 1000)) : json_null();
}

static json_t *cap_json(const obj_cap *c)
{
    json_t *perms = json_array(), *o = NULL;

    for (size_t i = 0; perms != NULL && i < CN_ARRAY_SIZE(perm_names); i++)
        if (c->perms & (1u << i))
            json_array_append_new(perms, json_string(perm_names[i]));
    o = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s%, s:s?, s:o, s:o, s:o, s:o, s:s?, s:s, s:o, s:o}", "id", c->id,
                  "parent", c->parent[0] ? c->parent : NULL, "grantor", c->grantor, "bucket", c->bucket, "target",
                  kind_name(c->kind), "path", c->target, c->target_len, "version_id",
                  c->version_id[0] ? c->version_id : NULL, "permissions", perms ? perms : json_null(), "expires",
                  ms_time(c->expires_ms), "not_before", ms_time(c->not_before_ms), "not_after",
                  ms_time(c->not_after_ms), "source", c->cidr[0] ? c->cidr : NULL, "access_key", c->access_key,
                  "created", ms_time(c->created_ms), "revoked", ms_time(c->revoked_ms));
    return o;
}

/* ISO 8601 UTC ("2026-12-01T00:00:00Z") or epoch seconds, into ms. */
static int time_member(admin__op *op, json_t *doc, const char *name, int64_t *out)
{
    json_t *v = json_object_get(doc, name);
    struct tm tm;
    const char *end = NULL;

    *out = 0;
    if (v == NULL)
        return 0;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = (int64_t)json_integer_value(v) * 1000;
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    if (json_is_string(v) && (end = strptime(json_string_value(v), "%Y-%m-%dT%H:%M:%S", &tm)) != NULL &&
        (strcmp(end, "Z") == 0 || strcmp(end, ".000Z") == 0)) {
        *out = (int64_t)timegm(&tm) * 1000;
        return 0;
    }
    return admin__fail(op, -CN_EINVALID_REQUEST, "\"%s\": an ISO 8601 UTC time (2026-12-01T00:00:00Z) or epoch seconds",
                       name);
}

static int perms_member(admin__op *op, json_t *doc, unsigned *out)
{
    json_t *a = json_object_get(doc, "permissions"), *v = NULL;
    size_t i = 0;

    *out = 0;
    if (!json_is_array(a) || json_array_size(a) == 0)
        return admin__fail(op, -CN_EINVALID_REQUEST, "\"permissions\": a list of read, list, write, delete");
    json_array_foreach(a, i, v)
    {
        size_t p = 0;
        while (p < CN_ARRAY_SIZE(perm_names) &&
               !(json_is_string(v) && strcmp(json_string_value(v), perm_names[p]) == 0))
            p++;
        if (p == CN_ARRAY_SIZE(perm_names))
            return admin__fail(op, -CN_EINVALID_REQUEST, "\"permissions\": a list of read, list, write, delete");
        *out |= 1u << p;
    }
    return 0;
}

static int string_member(admin__op *op, json_t *doc, const char *name, char *out, size_t cap, size_t *len)
{
    json_t *v = json_object_get(doc, name);
    size_t n = v != NULL && json_is_string(v) ? json_string_length(v) : 0;

    if (v == NULL)
        return 0;
    if (!json_is_string(v) || n >= cap || memchr(json_string_value(v), '\0', n) != NULL)
        return admin__fail(op, -CN_EINVALID_REQUEST, "\"%s\": a string of at most %zu bytes", name, cap - 1);
    memcpy(out, json_string_value(v), n + 1);
    if (len != NULL)
        *len = n;
    return 1;
}

static int members_known(admin__op *op, json_t *doc)
{
    static const char *const known[] = {"bucket",  "prefix",     "key",        "history",   "version_id", "permissions",
                                        "expires", "expires_in", "not_before", "not_after", "source"};
    const char *k = NULL;
    json_t *v = NULL;

    json_object_foreach(doc, k, v)
    {
        size_t i = 0;
        while (i < CN_ARRAY_SIZE(known) && strcmp(k, known[i]) != 0)
            i++;
        if (i == CN_ARRAY_SIZE(known))
            return admin__fail(op, -CN_EINVALID_REQUEST, "unknown member \"%s\"", k);
    }
    return 0;
}

/* The target: bucket, then a prefix, or a key with its history or one version. */
static int target_members(admin__op *op, json_t *doc, obj_cap *c)
{
    int has_prefix = 0, has_key = 0, rc = 0;

    if ((rc = string_member(op, doc, "bucket", c->bucket, sizeof(c->bucket), NULL)) <= 0)
        return rc < 0 ? rc : admin__fail(op, -CN_EINVALID_REQUEST, "\"bucket\" is required");
    if ((has_prefix = string_member(op, doc, "prefix", c->target, sizeof(c->target), &c->target_len)) < 0)
        return has_prefix;
    if (!has_prefix && (has_key = string_member(op, doc, "key", c->target, sizeof(c->target), &c->target_len)) < 0)
        return has_key;
    if (has_prefix && json_object_get(doc, "key") != NULL)
        return admin__fail(op, -CN_EINVALID_REQUEST, "\"prefix\" and \"key\" exclude each other");
    if ((rc = string_member(op, doc, "version_id", c->version_id, sizeof(c->version_id), NULL)) < 0)
        return rc;
    if (rc && !has_key)
        return admin__fail(op, -CN_EINVALID_REQUEST, "\"version_id\" needs \"key\"");
    c->kind = has_prefix ? OBJ_CAP_PREFIX : !has_key ? OBJ_CAP_BUCKET : rc ? OBJ_CAP_VERSION : OBJ_CAP_HISTORY;
    if (has_key && !rc && !json_is_true(json_object_get(doc, "history")))
        return admin__fail(op, -CN_EINVALID_REQUEST, "a \"key\" grant names a \"version_id\" or \"history\": true");
    return 0;
}

static int parse_share(admin__op *op, json_t *doc, obj_cap *c)
{
    json_t *in = json_object_get(doc, "expires_in");
    int rc = json_is_object(doc) ? members_known(op, doc) : admin__fail(op, -CN_EINVALID_REQUEST, "not an object");

    memset(c, 0, sizeof(*c));
    if (rc == 0)
        rc = target_members(op, doc, c);
    if (rc == 0)
        rc = perms_member(op, doc, &c->perms);
    if (rc == 0)
        rc = time_member(op, doc, "expires", &c->expires_ms);
    if (rc == 0 && in != NULL && !(json_is_integer(in) && json_integer_value(in) > 0))
        rc = admin__fail(op, -CN_EINVALID_REQUEST, "\"expires_in\": seconds, more than 0");
    if (rc == 0 && in != NULL)
        c->expires_ms = (int64_t)(cn_now_us() / 1000) + (int64_t)json_integer_value(in) * 1000;
    if (rc == 0)
        rc = time_member(op, doc, "not_before", &c->not_before_ms);
    if (rc == 0)
        rc = time_member(op, doc, "not_after", &c->not_after_ms);
    if (rc == 0 && string_member(op, doc, "source", c->cidr, sizeof(c->cidr), NULL) < 0)
        rc = -CN_EINVALID_REQUEST;
    if (rc == 0 && c->cidr[0] != '\0' && !auth_cidr_valid(c->cidr))
        rc = admin__fail(op, -CN_EINVALID_REQUEST, "\"source\": an address range such as 10.0.0.0/8");
    return rc;
}

int admin__share_create(admin__op *op)
{
    json_t *doc = NULL, *o = NULL;
    char secret[OBJ_CAP_SECRET_LEN + 1];
    obj_cap c;
    int rc = admin__body_json(op, &doc);

    if (rc == 0)
        rc = parse_share(op, doc, &c);
    json_decref(doc);
    if (rc == 0)
        rc = obj_cap_create(op->ctx->store, op->ar->principal, &c, secret);
    if (rc == -CN_EACCESS)
        return admin__fail(op, rc, "%s may not grant this (not the bucket's owner, or wider than its own grant)",
                           op->ar->principal);
    if (rc == -CN_EINVALID_ARGUMENT)
        return admin__fail(op, -CN_EINVALID_REQUEST, "not a valid grant (a version is read-only; expiry in the past?)");
    if (rc != 0)
        return rc;
    o = cap_json(&c);
    if (o != NULL)
        json_object_set_new(o, "secret_key", json_string(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    admin__log(op, "granted capability %s on %s", c.id, c.bucket);
    return admin__reply(op, 201, o);
}

int admin__share_list(admin__op *op)
{
    obj_cap *v = NULL;
    json_t *a = json_array();
    size_t n = 0;
    int rc = a != NULL ? obj_cap_list(op->ctx->store, op->ar->principal, &v, &n) : -CN_ENOMEM;

    for (size_t i = 0; rc == 0 && i < n; i++)
        if (json_array_append_new(a, cap_json(&v[i])) != 0)
            rc = -CN_ENOMEM;
    free(v);
    if (rc != 0) {
        json_decref(a);
        return rc;
    }
    return admin__reply(op, 200, json_pack("{s:o}", "shares", a));
}

int admin__share_revoke(admin__op *op)
{
    obj_cap chain[OBJ_CAP_MAX_DEPTH];
    size_t n = 0;
    int rc = obj_cap_revoke(op->ctx->store, op->seg[1], op->ar->principal);

    if (rc == -CN_ENOT_FOUND)
        return admin__fail(op, rc, "capability %s does not exist", op->seg[1]);
    if (rc == -CN_EACCESS)
        return admin__fail(op, rc, "%s may not revoke capability %s", op->ar->principal, op->seg[1]);
    if (rc == 0)
        rc = obj_cap_chain(op->ctx->store, op->seg[1], chain, &n);
    if (rc != 0)
        return rc;
    admin__log(op, "revoked capability %s", chain[0].id);
    return admin__reply(op, 200, cap_json(&chain[0]));
}

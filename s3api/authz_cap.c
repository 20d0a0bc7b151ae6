/*
 * authz_cap: the capability step of the authorization chain (authz.c).
 *
 * A request signed with a capability's key (principal "cap:<id>") may do
 * exactly what the capability grants, on exactly its target, while every
 * link of its chain (the capability and the ones it was derived from,
 * obj/caps.c) is unrevoked, unexpired, inside its time window and reached
 * from its source range. It then answers ALLOW; anything else is DENY with
 * the reason, whatever the bucket's owner or ACLs would allow. Requests
 * signed by users decline.
 *
 * What each target grants (permission bits of obj.h):
 *   bucket   every key; list the bucket
 *   prefix   keys under the prefix; list with a prefix under it
 *   history  the key, any of its versions and its lineage; no listing
 *   version  that one version of the key, read only; a request must name
 *            its versionId (a presigned URL carries it)
 * Bucket configuration (S3_PERM_OWNER) is never granted.
 *
 * The chain is read on every request: revocation is one row update and
 * takes effect on the next request, presigned URLs included.
 */
#include <stdio.h>
#include <string.h>

#include "../auth/policy.h"
#include "../common/util.h"
#include "s3int.h"

#define CAP_PRINCIPAL_PREFIX "cap:"

int s3__is_capability(const s3_op *op)
{
    return strncmp(s3__principal(op), CAP_PRINCIPAL_PREFIX, strlen(CAP_PRINCIPAL_PREFIX)) == 0;
}

static int refuse(char *why, size_t whycap, const char *fmt, const char *arg)
{
    snprintf(why, whycap, fmt, arg);
    return -CN_EACCESS;
}

/* Every link alive now and reached from where the request comes. */
static int chain_alive(const s3_op *op, const obj_cap *chain, size_t n, char *why, size_t whycap)
{
    int64_t now = (int64_t)(cn_now_us() / 1000);

    for (size_t i = 0; i < n; i++) {
        const obj_cap *c = &chain[i];
        if (c->revoked_ms != 0)
            return refuse(why, whycap, "capability %s revoked", c->id);
        if (c->expires_ms != 0 && now >= c->expires_ms)
            return refuse(why, whycap, "capability %s expired", c->id);
        if ((c->not_before_ms != 0 && now < c->not_before_ms) || (c->not_after_ms != 0 && now >= c->not_after_ms))
            return refuse(why, whycap, "capability %s outside its time window", c->id);
        if (c->cidr[0] != '\0' && !auth_cidr_match(c->cidr, op->req->source_ip))
            return refuse(why, whycap, "capability %s: source address outside its range", c->id);
    }
    return 0;
}

static unsigned needed_bits(unsigned perm)
{
    unsigned bits = 0;

    bits |= perm & (S3_PERM_READ | S3_PERM_HISTORY) ? OBJ_CAP_READ : 0;
    bits |= perm & S3_PERM_LIST ? OBJ_CAP_LIST : 0;
    bits |= perm & S3_PERM_WRITE ? OBJ_CAP_WRITE : 0;
    bits |= perm & S3_PERM_DELETE ? OBJ_CAP_DELETE : 0;
    return bits;
}

static int key_is(const obj_cap *c, const char *key)
{
    return key != NULL && strlen(key) == c->target_len && memcmp(key, c->target, c->target_len) == 0;
}

/* A listing's prefix parameter must lie inside a prefix capability. */
static int list_in_scope(s3_op *op, const obj_cap *c)
{
    char prefix[OBJ_MAX_KEY + 1];
    int n = s3__qget(op, "prefix", prefix, sizeof(prefix));

    if (c->kind == OBJ_CAP_BUCKET)
        return 1;
    return c->kind == OBJ_CAP_PREFIX && n >= 0 && (size_t)n >= c->target_len &&
           memcmp(prefix, c->target, c->target_len) == 0;
}

static int version_named(s3_op *op, const s3_az_req *az, const obj_cap *c)
{
    char vid[128];
    const char *v = az->version_id;

    if (v == NULL && s3__qget(op, "versionId", vid, sizeof(vid)) >= 0)
        v = vid;
    return v != NULL && strcmp(v, c->version_id) == 0;
}

static int in_scope(s3_op *op, const s3_az_req *az, const obj_cap *c)
{
    if (strcmp(az->bucket, c->bucket) != 0)
        return 0;
    if (az->key == NULL && (az->perm & S3_PERM_DELETE))
        return c->kind == OBJ_CAP_BUCKET; /* DeleteObjects names its keys in the body */
    if (az->key == NULL)
        return (az->perm & S3_PERM_LIST) && list_in_scope(op, c);
    switch (c->kind) {
    case OBJ_CAP_BUCKET:
        return 1;
    case OBJ_CAP_PREFIX:
        return strncmp(az->key, c->target, c->target_len) == 0 && strlen(az->key) >= c->target_len;
    case OBJ_CAP_HISTORY:
        return key_is(c, az->key);
    default:
        return key_is(c, az->key) && version_named(op, az, c);
    }
}

int s3__az_capability(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap)
{
    obj_cap chain[OBJ_CAP_MAX_DEPTH];
    const obj_cap *c = &chain[0];
    unsigned need = needed_bits(az->perm);
    size_t n = 0;
    int rc = 0;

    (void)b;
    if (!s3__is_capability(op))
        return S3_AZ_DECLINED;
    rc = obj_cap_chain(op->ctx->store, s3__principal(op) + strlen(CAP_PRINCIPAL_PREFIX), chain, &n);
    if (rc != 0)
        return refuse(why, whycap, "capability %s unknown", s3__principal(op));
    if ((rc = chain_alive(op, chain, n, why, whycap)) != 0)
        return rc;
    if ((az->perm & S3_PERM_OWNER) || need == 0 || (c->perms & need) != need)
        return refuse(why, whycap, "capability %s does not grant this operation", c->id);
    if ((az->perm & S3_PERM_HISTORY) && c->kind == OBJ_CAP_VERSION)
        return refuse(why, whycap, "capability %s names one version, not the history", c->id);
    if (!in_scope(op, az, c))
        return refuse(why, whycap, "capability %s does not cover this target", c->id);
    return S3_AZ_ALLOW;
}

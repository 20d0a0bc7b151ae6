/*
 * authz: may this principal do this to that? A chain of steps in the manner
 * of nginx's access phase, each answering DECLINED ("not mine"), ALLOW or
 * DENY with a reason:
 *
 *   capability  (authz_cap.c)     the key is a capability: in scope, alive?
 *   policy      (authz_policy.c)  the bucket policy (auth/policy.c)
 *   owner       (below)           the bucket's creator
 *   acl         (authz_acl.c)     canned ACLs of the bucket and object
 *
 * Every step runs; an explicit DENY from any step wins, else one ALLOW
 * suffices, else the request is denied ("no grant": implicit deny). The
 * reason of the deciding step goes into op->res->deny_reason for the access
 * log and the denial metrics; the client gets AccessDenied only.
 *
 * Design notes:
 *  1. A bucket that does not exist is NoSuchBucket before any step runs
 *     (as S3 answers an owner; the name is not a secret here).
 *  2. Service-scope operations (ListBuckets, CreateBucket) need an
 *     authenticated user; a capability never creates or lists buckets.
 *  3. s3__authorize_on() runs the same chain for a second object in one
 *     request: the source of CopyObject and UploadPartCopy.
 */
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

typedef struct az_step {
    const char *name;
    int (*fn)(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap);
} az_step;

static int az_owner(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap)
{
    (void)az;
    (void)why;
    (void)whycap;
    return s3__principal(op)[0] != '\0' && strcmp(b->owner, s3__principal(op)) == 0 ? S3_AZ_ALLOW : S3_AZ_DECLINED;
}

static const az_step steps[] = {
    {"capability", s3__az_capability},
    {"policy", s3__az_policy},
    {"owner", az_owner},
    {"acl", s3__az_acl},
};

static int deny(s3_op *op, const char *step, const char *why)
{
    snprintf(op->res->deny_reason, sizeof(op->res->deny_reason), "%s: %s", step, why);
    return -CN_EACCESS;
}

static int service_scope(s3_op *op)
{
    if (s3__principal(op)[0] == '\0')
        return deny(op, "anonymous", "service operations need credentials");
    if (s3__is_capability(op))
        return deny(op, "capability", "a capability grants objects, not buckets");
    return 0;
}

int s3__authorize_on(s3_op *op, const s3_az_req *az, obj_bucket *b)
{
    char why[96] = "";
    int allowed = 0, err = 0;

    if (az->bucket == NULL)
        return service_scope(op);
    err = obj_bucket_get(op->ctx->store, az->bucket, b);
    if (err < 0)
        return err;
    for (size_t i = 0; i < CN_ARRAY_SIZE(steps); i++) {
        int r = steps[i].fn(op, az, b, why, sizeof(why));
        if (r < 0)
            return r == -CN_EACCESS ? deny(op, steps[i].name, why[0] ? why : "denied") : r;
        allowed |= r == S3_AZ_ALLOW;
    }
    return allowed ? 0 : deny(op, "implicit", "no grant");
}

int s3__authorize(s3_op *op, const s3_az_req *az, obj_bucket *b)
{
    obj_bucket scratch;

    return s3__authorize_on(op, az, b != NULL ? b : &scratch);
}

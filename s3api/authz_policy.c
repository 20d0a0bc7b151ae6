/*
 * authz_policy: the bucket-policy step of the authorization chain (authz.c).
 *
 * The bucket's policy (PutBucketPolicy, bucket_policy.c), parsed once and
 * cached (policy_cache.c), is evaluated against the request as
 * auth/policy.h describes it:
 *   Deny applies   -> -CN_EACCESS, "statement <Sid or index> denies"
 *   Allow applies  -> S3_AZ_ALLOW
 *   nothing        -> S3_AZ_DECLINED (the owner and ACL steps speak)
 *
 * Design notes:
 *  1. The request as the policy sees it: the operation's action (handle.c),
 *     in its ...Version form when the request names a version
 *     (s3__az_action); the resource arn:aws:s3:::bucket or
 *     arn:aws:s3:::bucket/key; the user ("" anonymous) and its groups; the
 *     peer's address; TLS or not; the server's clock now (so a policy
 *     bounded in time holds on every request, presigned ones included:
 *     nothing about a decision is kept); and the s3: keys the request
 *     carries (s3:prefix, s3:delimiter, s3:max-keys of a listing,
 *     s3:VersionId of an object request), each only when present.
 *  2. Lockout protection, as AWS gives an account's root user: the bucket
 *     owner's own Get/Put/DeleteBucketPolicy requests are not evaluated, so
 *     a policy that denies everyone ("Principal": "*", "Action": "s3:*")
 *     can still be read, fixed or removed by the owner. Everything else the
 *     owner does is evaluated: an explicit Deny beats ownership.
 *  3. A stored policy that no longer parses (the language grew stricter
 *     after it was stored) denies every request but those of note 2: failing
 *     open would ignore its Deny statements.
 *  4. Groups come from the store (obj_user_groups) on every request.
 */
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

#define ARN_S3 "arn:aws:s3:::"

/* Actions with a form that names a version (AWS's Service Authorization
 * Reference): asked for when the request carries ?versionId. */
static const struct {
    const char *plain, *version;
} version_forms[] = {
    {"s3:GetObject", "s3:GetObjectVersion"},
    {"s3:DeleteObject", "s3:DeleteObjectVersion"},
    {"s3:GetObjectAcl", "s3:GetObjectVersionAcl"},
    {"s3:PutObjectAcl", "s3:PutObjectVersionAcl"},
    {"s3:GetObjectTagging", "s3:GetObjectVersionTagging"},
    {"s3:PutObjectTagging", "s3:PutObjectVersionTagging"},
    {"s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"},
};

const char *s3__az_action(const s3_az_req *az)
{
    size_t i;

    if (az->version_id == NULL)
        return az->action;
    for (i = 0; i < CN_ARRAY_SIZE(version_forms); i++)
        if (strcmp(az->action, version_forms[i].plain) == 0)
            return version_forms[i].version;
    return az->action;
}

/* The groups of a user, read on every request (a change of membership
 * counts from the next request); none for anonymous requests and
 * capabilities. *owned is what to free (obj_names_free). */
static size_t user_groups(const s3_op *op, const char *user, const char **groups, size_t cap, char ***owned,
                          size_t *n_owned)
{
    size_t n = 0;

    *owned = NULL;
    *n_owned = 0;
    if (user[0] == '\0' || s3__is_capability(op) || obj_user_groups(op->ctx->store, user, owned, n_owned) != 0)
        return 0;
    for (n = 0; n < *n_owned && n < cap; n++)
        groups[n] = (*owned)[n];
    return n;
}

#define MAX_GROUPS 16

/* Everything the policy reads, with the storage its strings point into. */
typedef struct pol_input {
    auth_policy_req r;
    char resource[sizeof(ARN_S3) + sizeof(((obj_bucket *)0)->name) + OBJ_MAX_KEY + 1];
    auth_policy_kv kv[4];
    char prefix[S3_QVAL_MAX], delimiter[S3_QVAL_MAX], max_keys[32];
    const char *groups[MAX_GROUPS];
    char **owned; /* the group names groups[] points into */
    size_t n_owned;
} pol_input;

static int is_listing(const s3_op *op)
{
    s3_op_id id = op->rt->op;

    return id == S3_OP_LIST_OBJECTS || id == S3_OP_LIST_OBJECTS_V2 || id == S3_OP_LIST_OBJECT_VERSIONS;
}

/* Adds the query parameter name as condition key key when present. */
static int add_query_key(const s3_op *op, pol_input *in, const char *key, const char *name, char *buf, size_t cap)
{
    int n = s3__qget(op, name, buf, cap);

    if (n < -1)
        return n; /* unreadable: refused here as the listing would refuse it */
    if (n >= 0)
        in->kv[in->r.n_keys++] = (auth_policy_kv){key, buf};
    return 0;
}

static int condition_keys(const s3_op *op, const s3_az_req *az, pol_input *in)
{
    int err = 0;

    in->r.keys = in->kv;
    if (az->version_id != NULL)
        in->kv[in->r.n_keys++] = (auth_policy_kv){"s3:VersionId", az->version_id};
    /* A listing is bucket-scoped; an object checked on the side (a copy's
     * source, a key of DeleteObjects) never takes the query's keys. */
    if (az->key != NULL || !is_listing(op))
        return 0;
    err = add_query_key(op, in, "s3:prefix", "prefix", in->prefix, sizeof(in->prefix));
    if (err == 0)
        err = add_query_key(op, in, "s3:delimiter", "delimiter", in->delimiter, sizeof(in->delimiter));
    if (err == 0)
        err = add_query_key(op, in, "s3:max-keys", "max-keys", in->max_keys, sizeof(in->max_keys));
    return err;
}

static int build_input(const s3_op *op, const s3_az_req *az, pol_input *in)
{
    const char *ip = op->req->source_ip;

    memset(&in->r, 0, sizeof(in->r));
    if (az->key != NULL)
        snprintf(in->resource, sizeof(in->resource), ARN_S3 "%s/%s", az->bucket, az->key);
    else
        snprintf(in->resource, sizeof(in->resource), ARN_S3 "%s", az->bucket);
    in->r.action = s3__az_action(az);
    in->r.resource = in->resource;
    in->r.user = s3__principal(op);
    in->r.n_groups = user_groups(op, in->r.user, in->groups, MAX_GROUPS, &in->owned, &in->n_owned);
    in->r.groups = in->groups;
    /* The gateway writes "unknown" when it has no peer address. */
    in->r.source_ip = ip[0] != '\0' && strcmp(ip, "unknown") != 0 ? ip : NULL;
    in->r.secure_transport = op->req->is_tls;
    in->r.now_s = (int64_t)cn_now();
    return condition_keys(op, az, in);
}

/* Note 2. */
static int owner_manages_policy(const s3_op *op, const s3_az_req *az, const obj_bucket *b)
{
    const char *who = s3__principal(op);

    if (who[0] == '\0' || strcmp(who, b->owner) != 0)
        return 0;
    return strcmp(az->action, "s3:GetBucketPolicy") == 0 || strcmp(az->action, "s3:PutBucketPolicy") == 0 ||
           strcmp(az->action, "s3:DeleteBucketPolicy") == 0;
}

static int decide(auth_policy_effect e, const auth_policy_match *m, char *why, size_t whycap)
{
    if (e == AUTH_POLICY_ALLOW)
        return S3_AZ_ALLOW;
    if (e != AUTH_POLICY_DENY)
        return S3_AZ_DECLINED;
    if (m->sid != NULL)
        snprintf(why, whycap, "statement %s denies", m->sid);
    else
        snprintf(why, whycap, "statement %d denies", m->statement);
    return -CN_EACCESS;
}

int s3__az_policy(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap)
{
    pol_input in; /* ~10 KiB, as a listing's own query buffers: not zeroed on every request */
    auth_policy *p = NULL;
    auth_policy_match m = {-1, NULL};
    char reason[80] = "";
    int err;

    in.owned = NULL;
    in.n_owned = 0;
    if (b->policy_gen == 0 || owner_manages_policy(op, az, b))
        return S3_AZ_DECLINED;
    err = s3__policy_get(op->ctx, b, &p, reason, sizeof(reason));
    if (err == -CN_EMALFORMED_POLICY) { /* note 3 */
        snprintf(why, whycap, "stored policy does not parse: %s", reason);
        return -CN_EACCESS;
    }
    if (err == 0 && p != NULL)
        err = build_input(op, az, &in);
    if (err == 0 && p != NULL)
        err = decide(auth_policy_eval(p, &in.r, &m), &m, why, whycap);
    auth_policy_unref(p);
    obj_names_free(in.owned, in.n_owned);
    return err;
}

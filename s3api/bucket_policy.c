/*
 * bucket_policy: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy
 * (?policy on a bucket).
 *
 * Design notes:
 *  1. Put validates the whole document with auth_policy_parse() for this
 *     bucket before anything is stored; a policy that does not parse
 *     answers MalformedPolicy with the parser's one-line reason as the
 *     message and leaves the stored policy as it was. The policy step
 *     (authz_policy.c) then never meets a document it cannot read, unless
 *     the language grows stricter later (its note 3).
 *  2. The document is stored and returned byte for byte as sent (AWS
 *     returns it reformatted; clients compare it parsed, if at all).
 *  3. Who may call these: the bucket owner (handle.c: S3_PERM_OWNER, and
 *     the owner step), or anyone the policy itself allows the action
 *     s3:PutBucketPolicy etc., as in AWS. The owner can never lock
 *     themselves out (authz_policy.c, note 2).
 *  4. Bodies over AUTH_POLICY_MAX_BYTES (S3's 20 KiB) are refused as
 *     MalformedPolicy before they are read.
 */
#include <stdio.h>
#include <stdlib.h>

#include "s3int.h"

static int too_large(s3_op *op)
{
    /* The parser's words for the same refusal (auth/policy.c). */
    return s3__fail(op, -CN_EMALFORMED_POLICY, "Policy exceeds the maximum allowed document size (%d bytes)",
                    AUTH_POLICY_MAX_BYTES);
}

int s3__put_bucket_policy(s3_op *op)
{
    auth_policy *p = NULL;
    char why[200] = "";
    cn_buf body;
    int err = 0;

    if (auth_payload_length(op->ar, op->req->body_len) > AUTH_POLICY_MAX_BYTES)
        return too_large(op);
    cn_buf_init(&body, AUTH_POLICY_MAX_BYTES);
    err = s3__body_read_all(op, AUTH_POLICY_MAX_BYTES, &body);
    if (err == -CN_EMALFORMED_XML) /* the only way a capped read fails so */
        err = too_large(op);
    if (err == 0)
        err = auth_policy_parse(&p, op->rt->bucket, body.data != NULL ? body.data : "", body.len, why, sizeof(why));
    if (err == -CN_EMALFORMED_POLICY)
        err = s3__fail(op, err, "%s", why);
    if (err == 0)
        err = obj_bucket_policy_set(op->ctx->store, op->rt->bucket, body.data != NULL ? body.data : "", body.len);
    if (err == 0)
        op->res->status = 204;
    auth_policy_unref(p);
    cn_buf_dispose(&body);
    return err;
}

int s3__get_bucket_policy(s3_op *op)
{
    char *json = NULL;
    size_t len = 0;
    int err = obj_bucket_policy_get(op->ctx->store, op->rt->bucket, &json, &len, NULL);

    if (err == 0 && json == NULL)
        err = -CN_ENO_POLICY;
    if (err == 0)
        err = cn_buf_append(&op->res->body, json, len);
    if (err == 0)
        err = cn_res_add_header(op->res, "content-type", "application/json");
    free(json);
    return err;
}

int s3__delete_bucket_policy(s3_op *op)
{
    int err = obj_bucket_policy_set(op->ctx->store, op->rt->bucket, NULL, 0);

    if (err == 0)
        op->res->status = 204;
    return err;
}

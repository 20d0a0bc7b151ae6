/*
 * acl: the two ACL answers that are true of every bucket and object here, and
 * nothing more. GetBucketAcl/GetObjectAcl return the owner with FULL_CONTROL
 * (which is exactly the access rule s3api enforces today); PutBucketAcl and
 * PutObjectAcl accept only the canned "private", which changes nothing. Any
 * other grant answers NotImplemented: a client must never believe it shared
 * or hid something that it did not.
 */
#include <string.h>

#include "s3int.h"

/* Object ACLs exist only for objects that exist. */
static int object_exists(s3_op *op)
{
    char vid[128];
    obj_version v;
    int n, err;

    if (op->rt->key == NULL)
        return 0;
    n = s3__qget(op, "versionId", vid, sizeof(vid));
    if (n < -1)
        return n;
    memset(&v, 0, sizeof(v));
    err = obj_head(op->ctx->store, op->rt->bucket, op->rt->key, n >= 0 ? vid : NULL, &v);
    obj_version_dispose(&v);
    return err;
}

int s3__get_acl(s3_op *op)
{
    const char *owner = op->bucket.owner;
    s3_xw w;
    int err = object_exists(op);

    if (err < 0)
        return err;
    s3__xw_begin(&w, &op->res->body, "AccessControlPolicy");
    s3__xw_open(&w, "Owner");
    s3__xw_elem(&w, "ID", owner);
    s3__xw_elem(&w, "DisplayName", owner);
    s3__xw_close(&w, "Owner");
    s3__xw_open(&w, "AccessControlList");
    s3__xw_open(&w, "Grant");
    s3__xw_open(&w, "Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"");
    s3__xw_elem(&w, "ID", owner);
    s3__xw_elem(&w, "DisplayName", owner);
    s3__xw_close(&w, "Grantee");
    s3__xw_elem(&w, "Permission", "FULL_CONTROL");
    s3__xw_close(&w, "Grant");
    s3__xw_close(&w, "AccessControlList");
    s3__xw_close(&w, "AccessControlPolicy");
    return s3__xw_send(&w, op->res);
}

int s3__put_acl(s3_op *op)
{
    const char *acl = s3__hdr(op, "x-amz-acl");
    int err;

    if (acl == NULL || strcmp(acl, "private") != 0 || op->req->body_len > 0)
        return -CN_ENOTIMPL;
    err = object_exists(op);
    return err;
}

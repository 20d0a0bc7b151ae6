/*
 * authz_acl: the canned-ACL step of the authorization chain (authz.c).
 *
 * Every bucket and object is "private" today (PutBucketAcl accepts nothing
 * else): this step grants nothing and declines every request.
 */
#include "s3int.h"

int s3__az_acl(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap)
{
    (void)op;
    (void)az;
    (void)b;
    (void)why;
    (void)whycap;
    return S3_AZ_DECLINED;
}

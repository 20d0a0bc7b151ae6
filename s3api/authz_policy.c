/*
 * authz_policy: the bucket-policy step of the authorization chain (authz.c).
 *
 * Bucket policies are not stored yet (no PutBucketPolicy): this step
 * declines every request. auth/policy.c parses and evaluates the language;
 * wiring it here is the next step of issue 5.
 */
#include "s3int.h"

int s3__az_policy(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap)
{
    (void)op;
    (void)az;
    (void)b;
    (void)why;
    (void)whycap;
    return S3_AZ_DECLINED;
}

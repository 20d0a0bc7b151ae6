/*
 * authz_cap: the capability step of the authorization chain (authz.c).
 *
 * Capabilities (issue 5) are not built yet: a request signed with a
 * capability's key cannot exist, since no capability key can be made.
 * This step declines every request; its replacement checks the scope,
 * permissions, expiry, conditions and revocation of the key's chain.
 */
#include <string.h>

#include "s3int.h"

#define CAP_PRINCIPAL_PREFIX "cap:"

int s3__is_capability(const s3_op *op)
{
    return strncmp(s3__principal(op), CAP_PRINCIPAL_PREFIX, strlen(CAP_PRINCIPAL_PREFIX)) == 0;
}

int s3__az_capability(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap)
{
    (void)az;
    (void)b;
    if (!s3__is_capability(op))
        return S3_AZ_DECLINED;
    strncpy(why, "capabilities are not supported yet", whycap - 1);
    return -CN_EACCESS;
}

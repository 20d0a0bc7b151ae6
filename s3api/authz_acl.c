/*
 * authz_acl: the canned-ACL step of the authorization chain (authz.c).
 *
 * ACLs only grant; they never deny. What each grant allows, after AWS's
 * mapping of ACL permissions to actions:
 *
 *   bucket READ  (AllUsers: public-read, public-read-write;
 *                 AuthenticatedUsers: authenticated-read)
 *       s3:ListBucket (ListObjects, ListObjectsV2, HeadBucket),
 *       s3:ListBucketVersions, s3:ListBucketMultipartUploads
 *   bucket WRITE (AllUsers: public-read-write)
 *       s3:PutObject (put, copy into, multipart parts and completion),
 *       s3:DeleteObject - not s3:DeleteObjectVersion, which AWS gives
 *       only to the bucket owner, so history cannot be erased by a stranger;
 *       nor s3:ListMultipartUploadParts or s3:AbortMultipartUpload, which
 *       AWS ties to the upload's initiator (unknown for anonymous uploads)
 *   object READ  (the version's own ACL, as for the bucket)
 *       s3:GetObject, s3:GetObjectVersion (GET, HEAD) of that version
 *
 * AllUsers is everyone, anonymous included; AuthenticatedUsers is every
 * signed request of a user, not a capability's (a capability is scoped to
 * what it names: authz_cap.c). Everything else declines, and the owner's
 * requests decline at once: an ACL can add nothing to ownership, and this
 * spares the owner's GETs the lookup of the object's ACL.
 */
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

enum { NEED_READ, NEED_WRITE };

static const char *const bucket_read[] = {"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"};
static const char *const bucket_write[] = {"s3:PutObject", "s3:DeleteObject"};
static const char *const object_read[] = {"s3:GetObject", "s3:GetObjectVersion"};

static int one_of(const char *action, const char *const *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(action, v[i]) == 0)
            return 1;
    return 0;
}

/* Does an ACL with grants give need to this requester? */
static int covers(const s3_op *op, unsigned grants, int need)
{
    int user = s3__principal(op)[0] != '\0' && !s3__is_capability(op);

    if (need == NEED_WRITE)
        return (grants & S3_ACL_ALL_WRITE) != 0;
    return (grants & S3_ACL_ALL_READ) != 0 || ((grants & S3_ACL_AUTH_READ) != 0 && user);
}

/* The grants of the version az names; none when there is no such version
 * (the handler then answers for those allowed to know). */
static int object_grants(s3_op *op, const s3_az_req *az, const obj_bucket *b, unsigned *grants)
{
    char acl[OBJ_ACL_MAX];
    int err = obj_version_acl_get(op->ctx->store, b->name, az->key, az->version_id, acl);

    *grants = 0;
    if (err == -CN_ENO_KEY || err == -CN_ENO_VERSION || err == -CN_EMETHOD_NOT_ALLOWED)
        return 0;
    if (err == 0)
        *grants = s3__acl_grants(acl);
    return err;
}

int s3__az_acl(s3_op *op, const s3_az_req *az, const obj_bucket *b, char *why, size_t whycap)
{
    const char *who = s3__principal(op), *action = s3__az_action(az);
    unsigned grants = 0;
    int err = 0;

    (void)why;
    (void)whycap;
    if (who[0] != '\0' && strcmp(who, b->owner) == 0)
        return S3_AZ_DECLINED;
    if (one_of(action, bucket_read, CN_ARRAY_SIZE(bucket_read)))
        return covers(op, s3__acl_grants(b->acl), NEED_READ) ? S3_AZ_ALLOW : S3_AZ_DECLINED;
    if (one_of(action, bucket_write, CN_ARRAY_SIZE(bucket_write)))
        return covers(op, s3__acl_grants(b->acl), NEED_WRITE) ? S3_AZ_ALLOW : S3_AZ_DECLINED;
    if (az->key == NULL || !one_of(action, object_read, CN_ARRAY_SIZE(object_read)))
        return S3_AZ_DECLINED;
    err = object_grants(op, az, b, &grants);
    if (err < 0)
        return err;
    return covers(op, grants, NEED_READ) ? S3_AZ_ALLOW : S3_AZ_DECLINED;
}

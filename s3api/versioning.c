/*
 * versioning: GetBucketVersioning, PutBucketVersioning, and the headers S3
 * sends when a request lands on a delete marker.
 *
 * - A bucket whose versioning was never enabled answers an empty
 *   VersioningConfiguration, as S3 does; afterwards Status is Enabled or
 *   Suspended. There is no way back to "never enabled".
 * - MFA delete is not supported: MfaDelete Disabled is accepted (it is what
 *   we do anyway), Enabled answers NotImplemented rather than pretending.
 *   Any other Status or MfaDelete value is MalformedXML, as in S3.
 */
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

int s3__get_bucket_versioning(s3_op *op)
{
    int state = op->bucket.versioning;
    s3_xw w;

    s3__xw_begin(&w, &op->res->body, "VersioningConfiguration");
    if (state == OBJ_VERSIONING_ENABLED)
        s3__xw_elem(&w, "Status", "Enabled");
    else if (state == OBJ_VERSIONING_SUSPENDED)
        s3__xw_elem(&w, "Status", "Suspended");
    s3__xw_close(&w, "VersioningConfiguration");
    return s3__xw_send(&w, op->res);
}

static int parse_state(s3_op *op, const char *status, const char *mfa, obj_versioning *out)
{
    if (strcmp(mfa, "Enabled") == 0)
        return s3__fail(op, -CN_ENOTIMPL, "MFA delete is not supported");
    if (mfa[0] != '\0' && strcmp(mfa, "Disabled") != 0)
        return -CN_EMALFORMED_XML;
    if (strcmp(status, "Enabled") == 0)
        *out = OBJ_VERSIONING_ENABLED;
    else if (strcmp(status, "Suspended") == 0)
        *out = OBJ_VERSIONING_SUSPENDED;
    else
        return -CN_EMALFORMED_XML;
    return 0;
}

int s3__put_bucket_versioning(s3_op *op)
{
    char status[16], mfa[16];
    obj_versioning state = OBJ_VERSIONING_OFF;
    cn_buf body;
    int err;

    cn_buf_init(&body, S3_MAX_XML_BODY);
    err = s3__body_read_all(op, S3_MAX_XML_BODY, &body);
    if (err == 0)
        err = s3__xml_versioning(body.data, body.len, status, mfa);
    if (err == 0)
        err = parse_state(op, status, mfa, &state);
    if (err == 0)
        err = obj_bucket_versioning_set(op->ctx->store, op->rt->bucket, state);
    cn_buf_dispose(&body);
    return err;
}

int s3__version_id(s3_op *op, char *buf, size_t cap, const char **out)
{
    int n = s3__qget(op, "versionId", buf, cap);

    *out = NULL;
    if (n == -1)
        return 0;
    if (n < 0)
        return s3__fail(op, -CN_EINVALID_ARGUMENT, "Invalid version id specified");
    if (n == 0)
        return s3__fail(op, -CN_EINVALID_ARGUMENT, "Version id cannot be the empty string");
    *out = buf;
    return 0;
}

void s3__marker_error_headers(s3_op *op, const obj_version *v)
{
    char date[40];

    cn_time_rfc1123(date, (time_t)(v->mtime_ms / 1000));
    s3__err_header(op, "x-amz-delete-marker", "true");
    if (v->version_id[0] != '\0')
        s3__err_header(op, "x-amz-version-id", "%s", v->version_id);
    s3__err_header(op, "last-modified", "%s", date);
}

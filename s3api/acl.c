/*
 * acl: canned ACLs - what x-amz-acl may ask for, how they are stored, and
 * GetBucketAcl / GetObjectAcl / PutBucketAcl / PutObjectAcl.
 *
 * Design notes:
 *  1. Only canned ACLs exist here. A bucket and each version store one name
 *     (buckets.acl, versions.acl; "" is private); what it grants is fixed by
 *     the table below and enforced by authz_acl.c. bucket-owner-read and
 *     bucket-owner-full-control grant the bucket owner what the owner has
 *     anyway (the object's writer is the bucket owner or anonymous here), so
 *     they are stored as private.
 *  2. Anything that is not a canned ACL - x-amz-grant-* headers, another
 *     x-amz-acl value, an AccessControlPolicy body whose grants are not
 *     exactly those of a canned ACL plus the owner's FULL_CONTROL - answers
 *     NotImplemented: a client must never believe it shared or hid
 *     something that it did not.
 *  3. Get*Acl answer the owner's FULL_CONTROL and the grants the canned ACL
 *     implies, as AWS renders them (xsi:type Group with the global URIs).
 *     The owner shown is the bucket owner, who is also the owner of every
 *     object in it as far as access goes.
 *  4. An object's ACL is its version's: a new version gets the ACL its
 *     write asked for (private by default, never the older version's), and
 *     ?versionId reads or sets that version's.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

#define XSI "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
#define URI_ALL "http://acs.amazonaws.com/groups/global/AllUsers"
#define URI_AUTH "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define MAX_ACL_BODY (64u << 10)

static const struct {
    const char *name;   /* x-amz-acl */
    const char *stored; /* note 1 */
    unsigned grants;
} canned[] = {
    {"private", "", 0},
    {"public-read", "public-read", S3_ACL_ALL_READ},
    {"public-read-write", "public-read-write", S3_ACL_ALL_READ | S3_ACL_ALL_WRITE},
    {"authenticated-read", "authenticated-read", S3_ACL_AUTH_READ},
    {"bucket-owner-read", "", 0},
    {"bucket-owner-full-control", "", 0},
};

unsigned s3__acl_grants(const char *acl)
{
    size_t i;

    for (i = 0; acl != NULL && acl[0] != '\0' && i < CN_ARRAY_SIZE(canned); i++)
        if (strcmp(canned[i].stored, acl) == 0)
            return canned[i].grants;
    return 0;
}

/* The stored name of the canned ACL with exactly these grants. */
static const char *stored_for(unsigned grants)
{
    size_t i;

    for (i = 0; i < CN_ARRAY_SIZE(canned); i++)
        if (canned[i].grants == grants)
            return canned[i].stored;
    return NULL;
}

static int has_grant_header(const s3_op *op)
{
    static const char *const grants[] = {"x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp",
                                         "x-amz-grant-write", "x-amz-grant-write-acp"};
    size_t i;

    for (i = 0; i < CN_ARRAY_SIZE(grants); i++)
        if (s3__hdr(op, grants[i]) != NULL)
            return 1;
    return 0;
}

int s3__acl_header(s3_op *op, const char **acl)
{
    const char *h = s3__hdr(op, "x-amz-acl");
    size_t i;

    *acl = NULL;
    if (has_grant_header(op))
        return -CN_ENOTIMPL;
    if (h == NULL)
        return 0;
    for (i = 0; i < CN_ARRAY_SIZE(canned); i++) {
        if (strcmp(canned[i].name, h) == 0) {
            *acl = canned[i].stored;
            return 0;
        }
    }
    return -CN_ENOTIMPL;
}

/* ---- GetBucketAcl, GetObjectAcl ---- */

static void group_grant(s3_xw *w, const char *uri, const char *permission)
{
    s3__xw_open(w, "Grant");
    s3__xw_open(w, "Grantee " XSI " xsi:type=\"Group\"");
    s3__xw_elem(w, "URI", uri);
    s3__xw_close(w, "Grantee");
    s3__xw_elem(w, "Permission", permission);
    s3__xw_close(w, "Grant");
}

static void owner_grant(s3_xw *w, const char *owner)
{
    s3__xw_open(w, "Grant");
    s3__xw_open(w, "Grantee " XSI " xsi:type=\"CanonicalUser\"");
    s3__xw_elem(w, "ID", owner);
    s3__xw_elem(w, "DisplayName", owner);
    s3__xw_close(w, "Grantee");
    s3__xw_elem(w, "Permission", "FULL_CONTROL");
    s3__xw_close(w, "Grant");
}

static int acl_doc(s3_op *op, const char *owner, unsigned grants)
{
    s3_xw w;

    s3__xw_begin(&w, &op->res->body, "AccessControlPolicy");
    s3__xw_open(&w, "Owner");
    s3__xw_elem(&w, "ID", owner);
    s3__xw_elem(&w, "DisplayName", owner);
    s3__xw_close(&w, "Owner");
    s3__xw_open(&w, "AccessControlList");
    owner_grant(&w, owner);
    if (grants & S3_ACL_ALL_READ)
        group_grant(&w, URI_ALL, "READ");
    if (grants & S3_ACL_ALL_WRITE)
        group_grant(&w, URI_ALL, "WRITE");
    if (grants & S3_ACL_AUTH_READ)
        group_grant(&w, URI_AUTH, "READ");
    s3__xw_close(&w, "AccessControlList");
    s3__xw_close(&w, "AccessControlPolicy");
    return s3__xw_send(&w, op->res);
}

int s3__get_acl(s3_op *op)
{
    char buf[128], acl[OBJ_ACL_MAX];
    const char *vid = NULL;
    int err = 0;

    if (op->rt->key == NULL)
        return acl_doc(op, op->bucket.owner, s3__acl_grants(op->bucket.acl));
    err = s3__version_id(op, buf, sizeof(buf), &vid);
    if (err == 0)
        err = obj_version_acl_get(op->ctx->store, op->rt->bucket, op->rt->key, vid, acl);
    return err < 0 ? err : acl_doc(op, op->bucket.owner, s3__acl_grants(acl));
}

/* ---- PutBucketAcl, PutObjectAcl ---- */

/* What one grant of a body adds to the canned grants, or -CN_ENOTIMPL. */
static int grant_bits(const s3_grant *g, const char *owner, unsigned *bits, int *has_owner)
{
    int read = strcmp(g->permission, "READ") == 0, write = strcmp(g->permission, "WRITE") == 0;

    if (strcmp(g->type, "CanonicalUser") == 0 && strcmp(g->who, owner) == 0 &&
        strcmp(g->permission, "FULL_CONTROL") == 0)
        *has_owner = 1;
    else if (strcmp(g->type, "Group") == 0 && strcmp(g->who, URI_ALL) == 0 && (read || write))
        *bits |= read ? S3_ACL_ALL_READ : S3_ACL_ALL_WRITE;
    else if (strcmp(g->type, "Group") == 0 && strcmp(g->who, URI_AUTH) == 0 && read)
        *bits |= S3_ACL_AUTH_READ;
    else
        return -CN_ENOTIMPL;
    return 0;
}

/* An AccessControlPolicy body that says exactly what a canned ACL says (note 2). */
static int acl_from_body(s3_op *op, const cn_buf *body, const char **acl)
{
    s3_grant_list l = {0};
    unsigned bits = 0;
    int has_owner = 0;
    size_t i;
    int err = s3__xml_acl(body->data, body->len, &l);

    for (i = 0; err == 0 && i < l.n; i++)
        err = grant_bits(&l.v[i], op->bucket.owner, &bits, &has_owner);
    if (err == 0 && (!has_owner || (*acl = stored_for(bits)) == NULL))
        err = -CN_ENOTIMPL;
    s3__grant_list_dispose(&l);
    return err;
}

/* The ACL a Put*Acl asks for: the x-amz-acl header or the body, not both. */
static int requested_acl(s3_op *op, cn_buf *body, const char **acl)
{
    int err = s3__acl_header(op, acl);

    if (err == 0)
        err = s3__body_read_all(op, MAX_ACL_BODY, body);
    if (err < 0)
        return err;
    if (*acl != NULL && body->len > 0)
        return s3__fail(op, -CN_EINVALID_REQUEST,
                        "Specifying both Canned ACLs and an AccessControlPolicy body is "
                        "not allowed");
    if (*acl != NULL)
        return 0;
    if (body->len == 0)
        return s3__fail(op, -CN_EINVALID_REQUEST, "An ACL must be given in the x-amz-acl header or the body");
    return acl_from_body(op, body, acl);
}

int s3__put_acl(s3_op *op)
{
    char buf[128];
    const char *acl = NULL, *vid = NULL;
    cn_buf body;
    int err;

    cn_buf_init(&body, MAX_ACL_BODY);
    err = requested_acl(op, &body, &acl);
    if (err == 0 && op->rt->key == NULL)
        err = obj_bucket_acl_set(op->ctx->store, op->rt->bucket, acl);
    else if (err == 0)
        err = s3__version_id(op, buf, sizeof(buf), &vid);
    if (err == 0 && op->rt->key != NULL)
        err = obj_version_acl_set(op->ctx->store, op->rt->bucket, op->rt->key, vid, acl);
    cn_buf_dispose(&body);
    return err;
}

/*
 * object: PutObject, HeadObject, DeleteObject and CopyObject on the object
 * layer.
 *
 * obj_put, step by step (see blob.c for the blob row's states):
 *
 *   validate ──> read check: bucket, If-None-Match, If-Match ──> obj__blob_land()
 *      (intent committed; bytes streamed once to the provider, hashed;
 *       end of stream and Content-MD5 checked; on failure nothing remains)
 *   ──> attributes encoded (only now: the body's final read may have filled
 *       them in, e.g. a checksum from an aws-chunked trailer)
 *   ──> obj__meta_write(put_commit):   ONE group-committed transaction
 *          bucket still exists, If-None-Match / If-Match re-checked
 *          (authoritative), obj__blob_settle() (dedupe or make live),
 *          obj__ver_insert()
 *   ──> obj__blob_finish(): a duplicate's (or failed commit's, or refused
 *       attributes') provider object and intent are removed.
 *
 * The read checks before landing only avoid streaming gigabytes that are
 * bound to be refused; the checks inside the commit are the ones that count.
 *
 * Versioning (which id a write gets, what it replaces) is decided in
 * obj__ver_insert() from the bucket's state, inside the same transaction;
 * obj_delete() below picks between removing a version and adding a marker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

typedef struct put_ctx {
    const obj_put_args *a;
    obj_store *s;
    obj__landing land;
    char *attrs_json, *tags_json;
    char etag[48];
    obj_version *out;
} put_ctx;

int obj__etag_equal(const char *stored, const char *given)
{
    size_t sl = strlen(stored), gl = strlen(given);

    if (sl >= 2 && stored[0] == '"' && stored[sl - 1] == '"') {
        stored++;
        sl -= 2;
    }
    if (gl >= 2 && given[0] == '"' && given[gl - 1] == '"') {
        given++;
        gl -= 2;
    }
    return sl == gl && strncasecmp(stored, given, sl) == 0;
}

static int latest_etag(obj__conn *c, int64_t vid, char etag[48])
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT etag FROM versions WHERE vid = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        obj__col_copy(st, 0, etag, 48);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? -CN_ENO_KEY : obj__sqlerr(c, rc, "latest etag");
}

int obj__write_cond(obj__conn *c, const char *bucket, const char *key, int none_match_star, const char *if_match_etag)
{
    char etag[48];
    int64_t vid = 0;
    int marker = 0;
    int rc = 0;

    if (!none_match_star && if_match_etag == NULL)
        return 0;
    rc = obj__ver_find(c, bucket, key, NULL, &vid, &marker);
    if (rc != 0)
        return rc;
    if (none_match_star && vid != 0 && !marker)
        return -CN_EPRECONDITION;
    if (if_match_etag == NULL)
        return 0;
    if (vid == 0 || marker)
        return -CN_ENO_KEY;
    if (strcmp(if_match_etag, "*") == 0)
        return 0;
    rc = latest_etag(c, vid, etag);
    if (rc == 0 && !obj__etag_equal(etag, if_match_etag))
        rc = -CN_EPRECONDITION;
    return rc;
}

static int put_precheck(obj__conn *c, void *arg)
{
    put_ctx *p = arg;
    int rc = obj__bucket_exists(c, p->a->bucket);

    if (rc == 0)
        rc = obj__write_cond(c, p->a->bucket, p->a->key, p->a->if_none_match_star, p->a->if_match_etag);
    return rc;
}

static int put_commit(obj__conn *c, void *arg)
{
    put_ctx *p = arg;
    int64_t now = obj__now_ms(), bid = 0;
    obj__extent ext = {0};
    obj__newver nv = {0};
    int rc = put_precheck(c, p);

    if (rc == 0)
        rc = obj__blob_settle(c, &p->land, now, &bid);
    if (rc != 0)
        return rc;
    ext.bid = bid;
    ext.len = p->land.size;
    nv.bucket = p->a->bucket;
    nv.key = p->a->key;
    nv.size = p->land.size;
    nv.etag = p->etag;
    nv.storage_class = p->a->storage_class;
    nv.owner = p->a->owner;
    nv.region = p->s->region;
    nv.attrs_json = p->attrs_json;
    nv.tags_json = p->tags_json;
    nv.acl = p->a->acl;
    nv.ext = &ext;
    nv.n_ext = bid != 0 ? 1 : 0;
    nv.now_ms = now;
    nv.rkey = p->s->rkey;
    return obj__ver_insert(c, &nv, p->out);
}

static int put_validate(const obj_store *s, const obj_put_args *a)
{
    int rc = 0;

    if (a->bucket == NULL || a->body == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(a->key, a->key != NULL ? strlen(a->key) : 0);
    if (rc == 0 && a->size > OBJ_MAX_PUT_SIZE)
        rc = -CN_EENTITY_TOO_LARGE;
    if (rc == 0)
        rc = obj__storage_class_valid(s, a->storage_class);
    if (rc == 0)
        rc = obj__acl_valid(a->acl);
    return rc;
}

void obj__etag_plain(char out[48], const uint8_t md5[16])
{
    char hex[33];

    cn_hex(hex, md5, 16);
    snprintf(out, 48, "\"%s\"", hex);
}

int obj_put(obj_store *s, const obj_put_args *a, obj_version *out)
{
    put_ctx p = {.a = a, .s = s, .out = out};
    int rc = 0;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    rc = put_validate(s, a);
    if (rc == 0)
        rc = obj__tags_encode(a->tags, 10, &p.tags_json);
    if (rc == 0)
        rc = obj__meta_read(s->meta, put_precheck, &p);
    if (rc == 0)
        rc = obj__blob_land(s, a->body, a->size, a->content_md5, a->bucket, a->storage_class, &p.land);
    if (rc != 0)
        goto out;
    /* The body has returned its final 0: only now may a->attrs be read. */
    rc = obj__attrs_encode(a->attrs, a->n_attrs, &p.attrs_json);
    obj__etag_plain(p.etag, p.land.md5);
    if (rc == 0)
        rc = obj__meta_write(s->meta, put_commit, &p);
    obj__blob_finish(s, &p.land, rc == 0);
out:
    if (rc != 0 && out != NULL)
        obj_version_dispose(out);
    free(p.attrs_json);
    free(p.tags_json);
    return rc;
}

typedef struct head_ctx {
    const char *bucket, *key, *version_id;
    obj_version *out;
} head_ctx;

static int head_read(obj__conn *c, void *arg)
{
    head_ctx *h = arg;
    sqlite3_stmt *st = NULL;
    int64_t vid = 0;
    int rc = obj__bucket_exists(c, h->bucket);

    if (rc == 0)
        rc = obj__ver_find(c, h->bucket, h->key, h->version_id, &vid, NULL);
    if (rc != 0)
        return rc;
    if (vid == 0)
        return h->version_id != NULL ? -CN_ENO_VERSION : -CN_ENO_KEY;
    rc = obj__stmt(c, "SELECT " OBJ__VCOLS " FROM versions WHERE vid = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_ENO_KEY : obj__sqlerr(c, rc, "head");
    rc = obj__ver_from_row(st, h->bucket, 1, h->out);
    /* out stays filled: s3api answers with the marker's headers */
    if (rc == 0 && h->out->delete_marker)
        rc = h->version_id == NULL ? -CN_ENO_KEY : -CN_EMETHOD_NOT_ALLOWED;
    return rc;
}

int obj_head(obj_store *s, const char *bucket, const char *key, const char *version_id, obj_version *out)
{
    head_ctx h = {.bucket = bucket, .key = key, .version_id = version_id, .out = out};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (bucket == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(key, key != NULL ? strlen(key) : 0);
    if (rc != 0)
        return rc;
    rc = obj__meta_read(s->meta, head_read, &h);
    if (rc != 0 && !((rc == -CN_ENO_KEY || rc == -CN_EMETHOD_NOT_ALLOWED) && out->delete_marker))
        obj_version_dispose(out);
    return rc;
}

typedef struct del_ctx {
    const char *bucket, *key, *version_id;
    const char *region; /* recorded on a delete marker (which has no owner here) */
    const cn_rkey *rkey;
    obj_delete_result *out;
} del_ctx;

/* Removes exactly the version named (a marker included). */
static int delete_version(obj__conn *c, del_ctx *d)
{
    int64_t vid = 0;
    int marker = 0;
    int rc = obj__ver_find(c, d->bucket, d->key, d->version_id, &vid, &marker);

    if (rc != 0)
        return rc;
    if (vid == 0) /* S3: deleting what is not there succeeds, except an unknown real version id */
        return strcmp(d->version_id, "null") != 0 ? -CN_ENO_VERSION : 0;
    rc = obj__ver_release(c, vid, obj__now_ms());
    if (rc == 0) {
        d->out->delete_marker = marker;
        snprintf(d->out->version_id, sizeof(d->out->version_id), "%s", d->version_id);
    }
    return rc;
}

/* A delete marker as the key's new latest version; obj__ver_insert() gives
 * it a fresh id (enabled) or makes it the null version (suspended). */
static int delete_add_marker(obj__conn *c, del_ctx *d)
{
    obj_version v = {0};
    obj__newver nv = {.bucket = d->bucket, .key = d->key, .etag = "", .delete_marker = 1, .now_ms = obj__now_ms()};
    int rc = 0;

    nv.region = d->region;
    nv.rkey = d->rkey;
    rc = obj__ver_insert(c, &nv, &v);
    if (rc == 0) {
        d->out->delete_marker = 1;
        snprintf(d->out->version_id, sizeof(d->out->version_id), "%s", v.version_id);
    }
    obj_version_dispose(&v);
    return rc;
}

static int delete_commit(obj__conn *c, void *arg)
{
    del_ctx *d = arg;
    int64_t vid = 0;
    int state = 0;
    int rc = obj__bucket_versioning(c, d->bucket, &state);

    if (rc != 0)
        return rc;
    if (d->version_id != NULL)
        return delete_version(c, d);
    if (state != OBJ_VERSIONING_OFF)
        return delete_add_marker(c, d);
    rc = obj__ver_find(c, d->bucket, d->key, "null", &vid, NULL);
    if (rc == 0 && vid != 0)
        rc = obj__ver_release(c, vid, obj__now_ms());
    return rc;
}

int obj_delete(obj_store *s, const char *bucket, const char *key, const char *version_id, obj_delete_result *out)
{
    obj_delete_result scratch = {0};
    del_ctx d = {.bucket = bucket,
                 .key = key,
                 .version_id = version_id,
                 .region = s->region,
                 .rkey = s->rkey,
                 .out = out != NULL ? out : &scratch};
    int rc = 0;

    memset(d.out, 0, sizeof(*d.out));
    if (bucket == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(key, key != NULL ? strlen(key) : 0);
    if (rc == 0)
        rc = obj__meta_write(s->meta, delete_commit, &d);
    return rc;
}

typedef struct copy_ctx {
    const obj_copy_args *a;
    obj_store *s;
    char *attrs_json, *tags_json;
    obj_version *out;
} copy_ctx;

/* Reads the source row inside the commit: it may have been replaced since
 * the caller's head, and its blobs must be referenced as they are now. */
static int copy_source(obj__conn *c, copy_ctx *p, char **attrs, char **tags, obj_version *src)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT " OBJ__VCOLS " FROM versions WHERE vid = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, p->a->src->vid);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_ENO_KEY : obj__sqlerr(c, rc, "copy source");
    if (sqlite3_column_int(st, 4))
        return -CN_ENO_KEY; /* a delete marker has no bytes */
    rc = obj__ver_from_row(st, p->a->src->bucket != NULL ? p->a->src->bucket : "", 0, src);
    if (rc == 0 && sqlite3_column_type(st, 10) != SQLITE_NULL)
        *attrs = obj__col_dup(st, 10);
    if (rc == 0 && sqlite3_column_type(st, 11) != SQLITE_NULL)
        *tags = obj__col_dup(st, 11);
    return rc;
}

static int copy_commit(obj__conn *c, void *arg)
{
    copy_ctx *p = arg;
    char *src_attrs = NULL, *src_tags = NULL;
    obj__extent *ext = NULL;
    obj_version src = {0};
    obj__newver nv = {0};
    size_t n_ext = 0;
    int rc = obj__bucket_exists(c, p->a->bucket);

    if (rc == 0)
        rc = copy_source(c, p, &src_attrs, &src_tags, &src);
    if (rc == 0)
        rc = obj__ver_extents(c, p->a->src->vid, &ext, &n_ext);
    if (rc != 0)
        goto out;
    nv.bucket = p->a->bucket;
    nv.key = p->a->key;
    nv.size = src.size;
    nv.etag = src.etag;
    nv.parts_count = src.parts_count;
    nv.storage_class = p->a->storage_class != NULL ? p->a->storage_class : src.storage_class;
    nv.owner = p->a->owner != NULL ? p->a->owner : src.owner;
    nv.region = p->s->region;
    nv.attrs_json = p->a->attrs != NULL || p->a->replace_attrs ? p->attrs_json : src_attrs;
    nv.tags_json = p->a->tags != NULL ? p->tags_json : src_tags;
    nv.derived_from = src.vid;
    nv.acl = p->a->acl;
    nv.ext = ext;
    nv.n_ext = n_ext;
    nv.now_ms = obj__now_ms();
    nv.rkey = p->s->rkey;
    rc = obj__ver_insert(c, &nv, p->out);
out:
    obj_version_dispose(&src);
    free(src_attrs);
    free(src_tags);
    free(ext);
    return rc;
}

int obj_copy(obj_store *s, const obj_copy_args *a, obj_version *out)
{
    copy_ctx p = {.a = a, .s = s, .out = out};
    int rc = 0;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (a->src == NULL || a->bucket == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(a->key, a->key != NULL ? strlen(a->key) : 0);
    if (rc == 0)
        rc = obj__storage_class_valid(s, a->storage_class);
    if (rc == 0)
        rc = obj__acl_valid(a->acl);
    if (rc == 0)
        rc = obj__attrs_encode(a->attrs, a->attrs != NULL ? a->n_attrs : 0, &p.attrs_json);
    if (rc == 0)
        rc = obj__tags_encode(a->tags, 10, &p.tags_json);
    if (rc == 0)
        rc = obj__meta_write(s->meta, copy_commit, &p);
    if (rc != 0 && out != NULL)
        obj_version_dispose(out);
    free(p.attrs_json);
    free(p.tags_json);
    return rc;
}

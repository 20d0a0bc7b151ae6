/*
 * list_versions: ListObjectVersions. Every version and delete marker of the
 * keys in a range, in key order and newest first within a key, with prefix,
 * delimiter and max-keys as in obj_list (it reuses obj__list_walk), and a
 * two-part position (key-marker, version-id-marker).
 *
 *   key_marker only:          lo = key_marker + "\0" (or past its common
 *                             prefix): every version of it was returned
 *   key_marker + version id:  lo = key_marker (inclusive); rows of that key
 *                             with vid >= the marker's vid are skipped, so
 *                             the walk resumes at the next older version
 *
 * Each version counts against max-keys, as in S3. Everything runs in one
 * read snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

#define LIST_MAX 1000

typedef struct lv_ctx {
    const obj_list_versions_args *a;
    obj_list_versions_result *out;
    obj__walk w;
    size_t cap_items;
    int64_t skip_vid; /* versions of key_marker at or above it are skipped; 0: none */
} lv_ctx;

static int take_version(void *arg, sqlite3_stmt *st)
{
    lv_ctx *l = arg;
    obj_list_versions_result *r = l->out;
    if (cn_grow(&r->items, &l->cap_items, r->n_items, sizeof(r->items[0]), 16) != 0)
        return -CN_ENOMEM;
    if (obj__ver_from_row(st, l->a->bucket, 0, &r->items[r->n_items]) != 0)
        return -CN_ENOMEM;
    r->n_items++;
    return 0;
}

static int skip_newer(void *arg, sqlite3_stmt *st, const char *key, size_t klen)
{
    lv_ctx *l = arg;
    const char *km = l->a->key_marker;

    if (l->skip_vid == 0 || strlen(km) != klen || memcmp(km, key, klen) != 0)
        return 0;
    return sqlite3_column_int64(st, 0) >= l->skip_vid;
}

/* The version-id-marker's row, inside the read snapshot. */
static int marker_vid(obj__conn *c, lv_ctx *l)
{
    int64_t vid = 0;
    int rc = obj__bucket_exists(c, l->a->bucket);

    if (rc == 0)
        rc = obj__ver_find(c, l->a->bucket, l->a->key_marker, l->a->version_id_marker, &vid, NULL);
    if (rc == 0 && vid == 0)
        rc = -CN_EINVALID_ARGUMENT;
    l->skip_vid = vid;
    return rc;
}

static int next_markers(lv_ctx *l)
{
    obj_list_versions_result *r = l->out;
    const obj_version *last = NULL;

    if (!r->truncated || l->w.n == 0)
        return 0;
    if (l->w.last_prefix) {
        r->next_key_marker = strdup(r->prefixes[r->n_prefixes - 1]);
        return r->next_key_marker != NULL ? 0 : -CN_ENOMEM;
    }
    last = &r->items[r->n_items - 1];
    r->next_key_marker = strdup(last->key);
    r->next_version_id_marker = strdup(last->version_id);
    return r->next_key_marker != NULL && r->next_version_id_marker != NULL ? 0 : -CN_ENOMEM;
}

static int lv_read(obj__conn *c, void *arg)
{
    lv_ctx *l = arg;
    obj_list_versions_result *r = l->out;
    int rc = 0;

    if (l->a->version_id_marker != NULL)
        rc = marker_vid(c, l);
    if (rc == 0)
        rc = obj__list_walk(c, &l->w);
    r->prefixes = l->w.prefixes;
    r->n_prefixes = l->w.n_prefixes;
    r->truncated = l->w.truncated;
    return rc == 0 ? next_markers(l) : rc;
}

/* Bounds from prefix and the markers (see the file comment). */
static int lv_start(lv_ctx *l)
{
    const obj_list_versions_args *a = l->a;
    size_t klen = 0;
    int rc = 0;

    if (a->version_id_marker == NULL)
        return obj__list_start(&l->w.b, a->prefix, a->key_marker, a->delimiter);
    if (a->key_marker == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = obj__list_start(&l->w.b, a->prefix, NULL, a->delimiter);
    klen = strlen(a->key_marker);
    if (rc == 0 && klen > OBJ_MAX_KEY)
        rc = -CN_EINVALID_ARGUMENT;
    if (rc == 0 && obj__keycmp(a->key_marker, klen, l->w.b.lo, l->w.b.lo_len) > 0) {
        memcpy(l->w.b.lo, a->key_marker, klen + 1);
        l->w.b.lo_len = klen;
    }
    return rc;
}

int obj_list_versions(obj_store *s, const obj_list_versions_args *a, obj_list_versions_result *out)
{
    lv_ctx l = {.a = a, .out = out};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (a->bucket == NULL)
        return -CN_ENO_BUCKET;
    l.w = (obj__walk){
        .sql = "SELECT " OBJ__VCOLS " FROM versions WHERE bucket = ?1 AND key >= ?2 ORDER BY key, vid DESC",
        .what = "list versions",
        .key_col = 1,
        .bucket = a->bucket,
        .prefix = a->prefix,
        .delimiter = a->delimiter,
        .max = a->max_keys < 0 || a->max_keys > LIST_MAX ? LIST_MAX : a->max_keys,
        .skip = skip_newer,
        .take = take_version,
        .arg = &l,
    };
    rc = lv_start(&l);
    if (rc == 0)
        rc = obj__meta_read(s->meta, lv_read, &l);
    if (rc != 0)
        obj_list_versions_dispose(out);
    return rc;
}

void obj_list_versions_dispose(obj_list_versions_result *r)
{
    if (r == NULL)
        return;
    obj__list_free(r->items, r->n_items, r->prefixes, r->n_prefixes);
    free(r->next_key_marker);
    free(r->next_version_id_marker);
    memset(r, 0, sizeof(*r));
}

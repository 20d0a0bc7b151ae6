/*
 * mpu_list: ListParts and ListMultipartUploads.
 *
 * Uploads are listed in (key, upload_id) order, key in binary order, with
 * the prefix / delimiter / seek-past-common-prefix walk of list.c
 * (obj__list_walk). A key_marker alone is exclusive of that key; with an
 * upload_id_marker the walk resumes after that upload within key_marker.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

#define LIST_MAX 1000

typedef struct parts_ctx {
    const char *bucket, *key, *upload_id;
    int marker, max;
    obj_parts_result *out;
} parts_ctx;

void obj__mpu_from_row(sqlite3_stmt *st, int key_col, obj_mpu *u)
{
    u->key = obj__col_dup(st, key_col);
    obj__col_copy(st, key_col + 1, u->upload_id, sizeof(u->upload_id));
    u->initiated_ms = sqlite3_column_int64(st, key_col + 2);
    obj__col_copy(st, key_col + 3, u->owner, sizeof(u->owner));
    obj__col_copy(st, key_col + 4, u->storage_class, sizeof(u->storage_class));
    obj__col_copy(st, key_col + 5, u->checksum_algo, sizeof(u->checksum_algo));
    obj__col_copy(st, key_col + 6, u->checksum_type, sizeof(u->checksum_type));
}

static int parts_upload(obj__conn *c, parts_ctx *p)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__upload_check(c, p->bucket, p->key, p->upload_id);

    if (rc == 0)
        rc = obj__stmt(c, "SELECT " OBJ__UCOLS " FROM uploads WHERE upload_id = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, p->upload_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return -CN_ENO_UPLOAD;
    obj__mpu_from_row(st, 0, &p->out->upload);
    return p->out->upload.key != NULL ? 0 : -CN_ENOMEM;
}

static int parts_read(obj__conn *c, void *arg)
{
    parts_ctx *p = arg;
    obj_parts_result *r = p->out;
    sqlite3_stmt *st = NULL;
    int rc = parts_upload(c, p);

    if (rc == 0)
        rc = obj__stmt(c,
                       "SELECT number, size, etag, mtime_ms, ck_algo, ck_value FROM parts "
                       "WHERE upload_id = ?1 AND number > ?2 "
                       "ORDER BY number LIMIT ?3",
                       &st);
    if (rc != 0)
        return rc;
    r->parts = calloc((size_t)p->max + 1, sizeof(*r->parts));
    if (r->parts == NULL)
        return -CN_ENOMEM;
    sqlite3_bind_text(st, 1, p->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, p->marker);
    sqlite3_bind_int(st, 3, p->max + 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((int)r->n == p->max) {
            r->truncated = 1;
            break;
        }
        r->parts[r->n].number = sqlite3_column_int(st, 0);
        r->parts[r->n].size = (uint64_t)sqlite3_column_int64(st, 1);
        obj__col_copy(st, 2, r->parts[r->n].etag, sizeof(r->parts[r->n].etag));
        r->parts[r->n].mtime_ms = sqlite3_column_int64(st, 3);
        obj__col_copy(st, 4, r->parts[r->n].checksum.algo, sizeof(r->parts[r->n].checksum.algo));
        obj__col_copy(st, 5, r->parts[r->n].checksum.value, sizeof(r->parts[r->n].checksum.value));
        r->n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return obj__sqlerr(c, rc, "list parts");
    if (r->truncated && r->n > 0)
        r->next_marker = r->parts[r->n - 1].number;
    return 0;
}

int obj_mpu_list_parts(obj_store *s, const char *bucket, const char *key, const char *upload_id, int marker,
                       int max_parts, obj_parts_result *out)
{
    parts_ctx p = {.bucket = bucket, .key = key, .upload_id = upload_id, .marker = marker, .out = out};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    p.max = max_parts <= 0 || max_parts > LIST_MAX ? LIST_MAX : max_parts;
    if (bucket == NULL || upload_id == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(key, key != NULL ? strlen(key) : 0);
    if (rc == 0)
        rc = obj__meta_read(s->meta, parts_read, &p);
    if (rc != 0)
        obj_parts_dispose(out);
    return rc;
}

void obj_parts_dispose(obj_parts_result *r)
{
    if (r == NULL)
        return;
    free(r->upload.key);
    free(r->parts);
    memset(r, 0, sizeof(*r));
}

typedef struct uploads_ctx {
    const obj_mpu_list_args *a;
    obj_mpu_list_result *out;
    obj__walk w;
    const char *skip_key;  /* uploads of this key ...         */
    const char *skip_upto; /* ... up to this upload id are skipped */
    size_t cap;
} uploads_ctx;

static int take_upload(void *arg, sqlite3_stmt *st)
{
    uploads_ctx *u = arg;
    obj_mpu_list_result *r = u->out;
    if (cn_grow(&r->uploads, &u->cap, r->n, sizeof(r->uploads[0]), 16) != 0)
        return -CN_ENOMEM;
    memset(&r->uploads[r->n], 0, sizeof(r->uploads[0]));
    obj__mpu_from_row(st, 0, &r->uploads[r->n]);
    if (r->uploads[r->n].key == NULL)
        return -CN_ENOMEM;
    r->n++;
    return 0;
}

static int skipped(void *arg, sqlite3_stmt *st, const char *key, size_t klen)
{
    const uploads_ctx *u = arg;
    const char *uid = (const char *)sqlite3_column_text(st, 1);

    return u->skip_key != NULL && obj__keycmp(key, klen, u->skip_key, strlen(u->skip_key)) == 0 &&
           strcmp(uid, u->skip_upto) <= 0;
}

/* The markers of the next page: the last upload, or the last common prefix
 * when that came later in key order. */
static int set_next(uploads_ctx *u)
{
    obj_mpu_list_result *r = u->out;
    const obj_mpu *last = r->n > 0 ? &r->uploads[r->n - 1] : NULL;
    const char *cp = r->n_prefixes > 0 ? r->prefixes[r->n_prefixes - 1] : NULL;

    if (cp != NULL && (last == NULL || strcmp(cp, last->key) > 0)) {
        r->next_key_marker = strdup(cp);
        return r->next_key_marker != NULL ? 0 : -CN_ENOMEM;
    }
    if (last == NULL)
        return 0;
    r->next_key_marker = strdup(last->key);
    r->next_upload_id_marker = strdup(last->upload_id);
    return r->next_key_marker != NULL && r->next_upload_id_marker != NULL ? 0 : -CN_ENOMEM;
}

static int uploads_read(obj__conn *c, void *arg)
{
    uploads_ctx *u = arg;
    obj_mpu_list_result *r = u->out;
    int rc = obj__list_walk(c, &u->w);

    r->prefixes = u->w.prefixes;
    r->n_prefixes = u->w.n_prefixes;
    r->truncated = u->w.truncated;
    if (rc == 0 && r->truncated)
        rc = set_next(u);
    return rc;
}

int obj_mpu_list(obj_store *s, const obj_mpu_list_args *a, obj_mpu_list_result *out)
{
    uploads_ctx u = {.a = a, .out = out};
    int with_uid = a->upload_id_marker != NULL && a->upload_id_marker[0] != '\0';
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (a->bucket == NULL)
        return -CN_ENO_BUCKET;
    u.w = (obj__walk){
        .sql = "SELECT " OBJ__UCOLS " FROM uploads WHERE bucket = ?1 AND key >= ?2 ORDER BY key, upload_id",
        .what = "list uploads",
        .key_col = 0,
        .bucket = a->bucket,
        .prefix = a->prefix,
        .delimiter = a->delimiter,
        .max = a->max_uploads < 0 || a->max_uploads > LIST_MAX ? LIST_MAX : a->max_uploads,
        .skip = skipped,
        .take = take_upload,
        .arg = &u,
    };
    /* With an upload-id marker the marker key itself is still visited. */
    rc = obj__list_start(&u.w.b, a->prefix, with_uid ? NULL : a->key_marker, a->delimiter);
    if (rc == 0 && with_uid && a->key_marker != NULL) {
        size_t klen = strlen(a->key_marker);
        if (obj__keycmp(a->key_marker, klen, u.w.b.lo, u.w.b.lo_len) > 0) {
            memcpy(u.w.b.lo, a->key_marker, klen);
            u.w.b.lo_len = klen;
        }
        u.skip_key = a->key_marker;
        u.skip_upto = a->upload_id_marker;
    }
    if (rc == 0)
        rc = obj__meta_read(s->meta, uploads_read, &u);
    if (rc != 0)
        obj_mpu_list_dispose(out);
    return rc;
}

void obj_mpu_list_dispose(obj_mpu_list_result *r)
{
    size_t i = 0;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++)
        free(r->uploads[i].key);
    for (i = 0; i < r->n_prefixes; i++)
        free(r->prefixes[i]);
    free(r->uploads);
    free(r->prefixes);
    free(r->next_key_marker);
    free(r->next_upload_id_marker);
    memset(r, 0, sizeof(*r));
}

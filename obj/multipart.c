/*
 * multipart: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * AbortMultipartUpload. Completion lives in mpu_complete.c, listings in
 * mpu_list.c.
 *
 * An upload's life:
 *
 *                obj_mpu_create()
 *   (none) ------------------------> OPEN (uploads row)
 *                                     |  obj_mpu_put_part()  / obj_mpu_copy_part():
 *                                     |  part row + part_extents, each extent one
 *                                     |  blob reference; a part number uploaded
 *                                     |  again replaces the old part (released)
 *                                     v
 *     obj_mpu_complete(): one transaction: version with the named parts'
 *     extents (references taken first), then every part released and the
 *     upload row deleted ----------------------------------------------> (none)
 *     obj_mpu_abort(): every part released, upload row deleted ---------> (none)
 *
 * A part is a blob landed like any put (blob.c), so a crash while a part is
 * uploading leaves only a pending intent that recovery removes. A part that
 * commits after its upload was completed or aborted finds no upload row and
 * its blob is discarded.
 *
 * Checksums: an upload may carry the checksum algorithm and type its creator
 * asked for; a part may carry a checksum (algorithm, base64 value), which the
 * caller hands over only once the part's body has ended (it may come from an
 * aws-chunked trailer). Both are opaque labels here: s3api verifies them
 * against the bytes and derives the object's checksum at completion; what
 * this file guarantees is that a part's checksum names the upload's algorithm
 * when the upload has one. A copied part (obj_mpu_copy_part) has none: its
 * bytes are never read.
 *
 * Lineage: a copied part keeps the vid and record hash of its source, read
 * in the part's transaction, so that completion can name the sources in the
 * new version's record (schema.c, note 12) even if they are deleted first.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

int obj__upload_check(obj__conn *c, const char *bucket, const char *key, const char *upload_id)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__bucket_exists(c, bucket);

    if (rc == 0)
        rc = obj__stmt(c, "SELECT 1 FROM uploads WHERE upload_id = ?1 AND bucket = ?2 AND key = ?3", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, bucket, -1, SQLITE_STATIC);
    obj__bind_key(st, 3, key, strlen(key));
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? -CN_ENO_UPLOAD : obj__sqlerr(c, rc, "upload check");
}

static const obj__extent_table part_extents = {
    .select = "SELECT bid, off, len FROM part_extents WHERE pid = ?1 ORDER BY idx",
    .insert = "INSERT INTO part_extents(pid, idx, bid, off, len) VALUES (?1, ?2, ?3, ?4, ?5)",
    .remove = "DELETE FROM part_extents WHERE pid = ?1",
    .what = "part extents",
};

int obj__part_extents(obj__conn *c, int64_t pid, obj__extent **out, size_t *n)
{
    return obj__extents_load(c, &part_extents, pid, out, n);
}

static int part_release(obj__conn *c, int64_t pid, int64_t now_ms)
{
    int rc = obj__extents_release(c, &part_extents, pid, now_ms);

    if (rc == 0)
        rc = obj__exec_id(c, "DELETE FROM parts WHERE pid = ?1", pid);
    return rc;
}

int obj__upload_release(obj__conn *c, const char *upload_id, int64_t now_ms)
{
    sqlite3_stmt *st = NULL;
    int64_t *pids = NULL;
    size_t n = 0, cap = 0, i = 0;
    int rc = obj__stmt(c, "SELECT pid FROM parts WHERE upload_id = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cn_grow(&pids, &cap, n, sizeof(*pids), 16) != 0) {
            free(pids);
            return -CN_ENOMEM;
        }
        pids[n++] = sqlite3_column_int64(st, 0);
    }
    rc = rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "upload parts");
    for (i = 0; rc == 0 && i < n; i++)
        rc = part_release(c, pids[i], now_ms);
    free(pids);
    if (rc == 0)
        rc = obj__stmt(c, "DELETE FROM uploads WHERE upload_id = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    return obj__step_done(c, st);
}

typedef struct part_new {
    const char *upload_id;
    int number;
    uint64_t size;
    uint8_t md5[16];
    char etag[48];
    obj_checksum ck; /* algo "" for none */
    int64_t src_vid; /* copied from (0: uploaded) and that version's record hash */
    char src_hash[CN_LIN_HASH_HEX];
    const obj__extent *ext;
    size_t n_ext;
    int64_t now_ms;
} part_new;

static int part_row(obj__conn *c, const part_new *p, int64_t *pid)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "INSERT INTO parts(upload_id, number, size, etag, md5, mtime_ms, ck_algo, ck_value,"
                       " src_vid, src_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, p->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, p->number);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)p->size);
    sqlite3_bind_text(st, 4, p->etag, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, p->md5, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, p->now_ms);
    if (p->ck.algo[0] != '\0') {
        sqlite3_bind_text(st, 7, p->ck.algo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, p->ck.value, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 7);
        sqlite3_bind_null(st, 8);
    }
    if (p->src_vid != 0) { /* else NULL: an uploaded part */
        sqlite3_bind_int64(st, 9, p->src_vid);
        sqlite3_bind_text(st, 10, p->src_hash, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 9);
        sqlite3_bind_null(st, 10);
    }
    rc = obj__step_done(c, st);
    if (rc == 0)
        *pid = sqlite3_last_insert_rowid(obj__db(c));
    return rc;
}

/* References first, then the replaced part is released (a re-upload of the
 * same bytes shares the blob and must not let it reach 0), then the rows. */
static int part_insert(obj__conn *c, const part_new *p)
{
    sqlite3_stmt *st = NULL;
    int64_t old = 0, pid = 0;
    size_t i = 0;
    int rc = obj__stmt(c, "SELECT pid FROM parts WHERE upload_id = ?1 AND number = ?2", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, p->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, p->number);
    if (sqlite3_step(st) == SQLITE_ROW)
        old = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    for (i = 0; rc == 0 && i < p->n_ext; i++)
        rc = obj__blob_ref(c, p->ext[i].bid);
    if (rc == 0 && old != 0)
        rc = part_release(c, old, p->now_ms);
    if (rc == 0)
        rc = part_row(c, p, &pid);
    if (rc == 0)
        rc = obj__extents_insert(c, &part_extents, pid, p->ext, p->n_ext);
    return rc;
}

/* ---- create ---- */

/* An empty checksum label is stored as none. */
static const char *label(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static int label_valid(const char *s)
{
    return s == NULL || strlen(s) < sizeof(((obj_checksum *)0)->algo);
}

typedef struct create_ctx {
    const obj_mpu_create_args *a;
    const char *upload_id;
    char *attrs_json, *tags_json;
} create_ctx;

static int create_commit(obj__conn *c, void *arg)
{
    create_ctx *m = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__bucket_exists(c, m->a->bucket);

    if (rc == 0)
        rc = obj__stmt(c,
                       "INSERT INTO uploads(upload_id, bucket, key, initiated_ms, owner, storage_class, attrs, tags,"
                       " ck_algo, ck_type, acl) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                       &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, m->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->a->bucket, -1, SQLITE_STATIC);
    obj__bind_key(st, 3, m->a->key, strlen(m->a->key));
    sqlite3_bind_int64(st, 4, obj__now_ms());
    sqlite3_bind_text(st, 5, m->a->owner != NULL ? m->a->owner : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, m->a->storage_class != NULL ? m->a->storage_class : "STANDARD", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, m->attrs_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, m->tags_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, label(m->a->checksum_algo), -1, SQLITE_STATIC); /* NULL binds NULL */
    sqlite3_bind_text(st, 10, label(m->a->checksum_type), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, label(m->a->acl), -1, SQLITE_STATIC); /* private stays NULL */
    return obj__step_done(c, st);
}

int obj_mpu_create(obj_store *s, const obj_mpu_create_args *a, char upload_id[64])
{
    create_ctx m = {.a = a, .upload_id = upload_id};
    uint8_t r[16];
    int rc = 0;

    upload_id[0] = '\0';
    if (a->bucket == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(a->key, a->key != NULL ? strlen(a->key) : 0);
    if (rc == 0)
        rc = obj__storage_class_valid(s, a->storage_class);
    if (rc == 0 && (!label_valid(a->checksum_algo) || !label_valid(a->checksum_type)))
        rc = -CN_EINVALID_ARGUMENT;
    if (rc == 0)
        rc = obj__acl_valid(a->acl);
    if (rc == 0)
        rc = obj__attrs_encode(a->attrs, a->n_attrs, &m.attrs_json);
    if (rc == 0)
        rc = obj__tags_encode(a->tags, 10, &m.tags_json);
    if (rc == 0)
        rc = cn_random(r, sizeof(r));
    if (rc == 0) {
        cn_hex(upload_id, r, sizeof(r));
        rc = obj__meta_write(s->meta, create_commit, &m);
    }
    if (rc != 0)
        upload_id[0] = '\0';
    free(m.attrs_json);
    free(m.tags_json);
    return rc;
}

/* ---- get ---- */

typedef struct get_ctx {
    const char *bucket, *key, *upload_id;
    obj_mpu *out;
} get_ctx;

static int get_read(obj__conn *c, void *arg)
{
    get_ctx *g = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__upload_check(c, g->bucket, g->key, g->upload_id);

    if (rc == 0)
        rc = obj__stmt(c, "SELECT " OBJ__UCOLS " FROM uploads WHERE upload_id = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, g->upload_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_ENO_UPLOAD : obj__sqlerr(c, rc, "upload get");
    obj__mpu_from_row(st, 0, g->out);
    sqlite3_reset(st);
    return g->out->key != NULL ? 0 : -CN_ENOMEM;
}

int obj_mpu_get(obj_store *s, const char *bucket, const char *key, const char *upload_id, obj_mpu *out)
{
    get_ctx g = {.bucket = bucket, .key = key, .upload_id = upload_id, .out = out};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (bucket == NULL || upload_id == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(key, key != NULL ? strlen(key) : 0);
    if (rc == 0)
        rc = obj__meta_read(s->meta, get_read, &g);
    if (rc != 0)
        obj_mpu_dispose(out);
    return rc;
}

void obj_mpu_dispose(obj_mpu *u)
{
    if (u == NULL)
        return;
    free(u->key);
    memset(u, 0, sizeof(*u));
}

/* ---- upload part ---- */

typedef struct put_part_ctx {
    const char *bucket, *key;
    part_new p;
    char storage_class[SEAL_NAME_MAX + 1]; /* the upload's: its parts' placement */
    obj__landing land;
} put_part_ctx;

static int upload_precheck(obj__conn *c, void *arg)
{
    put_part_ctx *u = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__upload_check(c, u->bucket, u->key, u->p.upload_id);

    if (rc == 0)
        rc = obj__stmt(c, "SELECT storage_class FROM uploads WHERE upload_id = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, u->p.upload_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        obj__col_copy(st, 0, u->storage_class, sizeof(u->storage_class));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : obj__sqlerr(c, rc, "upload storage class");
}

/* A part's checksum must use the upload's algorithm, when it has one: the
 * object's checksum is derived from the parts' at completion. */
static int part_algo_check(obj__conn *c, const part_new *p)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (p->ck.algo[0] == '\0')
        return 0;
    rc = obj__stmt(c, "SELECT ck_algo FROM uploads WHERE upload_id = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, p->upload_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *want = (const char *)sqlite3_column_text(st, 0);
        rc = want == NULL || strcmp(want, p->ck.algo) == 0 ? 0 : -CN_EINVALID_REQUEST;
    } else {
        rc = rc == SQLITE_DONE ? -CN_ENO_UPLOAD : obj__sqlerr(c, rc, "upload checksum");
    }
    sqlite3_reset(st);
    return rc;
}

static int put_part_commit(obj__conn *c, void *arg)
{
    put_part_ctx *u = arg;
    obj__extent ext = {0};
    int rc = obj__upload_check(c, u->bucket, u->key, u->p.upload_id);

    if (rc == 0)
        rc = part_algo_check(c, &u->p);
    if (rc == 0)
        rc = obj__blob_settle(c, &u->land, u->p.now_ms, &ext.bid);
    if (rc != 0)
        return rc;
    ext.len = u->land.size;
    u->p.ext = &ext;
    u->p.n_ext = ext.bid != 0 ? 1 : 0;
    rc = part_insert(c, &u->p);
    u->p.ext = NULL;
    return rc;
}

static void part_out(const part_new *p, obj_part *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof(*out));
    out->number = p->number;
    out->size = p->size;
    snprintf(out->etag, sizeof(out->etag), "%s", p->etag);
    out->mtime_ms = p->now_ms;
    out->checksum = p->ck;
}

/* Copies a caller's checksum, which must be two NUL-terminated strings,
 * the value non-empty when an algorithm is named. */
static int checksum_take(const obj_checksum *in, obj_checksum *out)
{
    memset(out, 0, sizeof(*out));
    if (in == NULL || in->algo[0] == '\0')
        return 0;
    if (memchr(in->algo, '\0', sizeof(in->algo)) == NULL || memchr(in->value, '\0', sizeof(in->value)) == NULL ||
        in->value[0] == '\0')
        return -CN_EINVALID_ARGUMENT;
    *out = *in;
    return 0;
}

int obj_mpu_put_part(obj_store *s, const char *bucket, const char *key, const char *upload_id, int part_number,
                     cn_stream *body, uint64_t size, const uint8_t *content_md5, const obj_checksum *checksum,
                     obj_part *out)
{
    put_part_ctx u = {.bucket = bucket, .key = key};
    int rc = 0;

    u.p.upload_id = upload_id;
    u.p.number = part_number;
    u.p.size = size;
    if (bucket == NULL || upload_id == NULL || body == NULL || part_number < 1 || part_number > OBJ_MAX_PARTS)
        return -CN_EINVALID_ARGUMENT;
    if (size > OBJ_MAX_PART_SIZE)
        return -CN_EENTITY_TOO_LARGE;
    rc = obj_key_valid(key, key != NULL ? strlen(key) : 0);
    if (rc == 0)
        rc = obj__meta_read(s->meta, upload_precheck, &u);
    if (rc == 0)
        rc = obj__blob_land(s, body, size, content_md5, bucket, u.storage_class, &u.land);
    if (rc != 0)
        return rc;
    /* The body has returned its final 0: only now may the checksum be read. */
    rc = checksum_take(checksum, &u.p.ck);
    if (rc != 0) {
        obj__blob_finish(s, &u.land, 0);
        return rc;
    }
    memcpy(u.p.md5, u.land.md5, 16);
    obj__etag_plain(u.p.etag, u.p.md5);
    u.p.now_ms = obj__now_ms();
    rc = obj__meta_write(s->meta, put_part_commit, &u);
    obj__blob_finish(s, &u.land, rc == 0);
    if (rc == 0)
        part_out(&u.p, out);
    return rc;
}

/* ---- upload part copy ---- */

typedef struct copy_part_ctx {
    const char *bucket, *key;
    const obj_version *src;
    uint64_t off, len;
    part_new p;
} copy_part_ctx;

/* The extents covering [off, off+len) of a version's extents. */
static int slice(const obj__extent *e, size_t n, uint64_t off, uint64_t len, obj__extent **out, size_t *n_out)
{
    uint64_t pos = 0, end = off + len;
    size_t i = 0;

    *out = calloc(n != 0 ? n : 1, sizeof(**out));
    *n_out = 0;
    if (*out == NULL)
        return -CN_ENOMEM;
    for (i = 0; i < n; pos += e[i].len, i++) {
        uint64_t a = pos > off ? pos : off, b = pos + e[i].len < end ? pos + e[i].len : end;
        if (a >= b)
            continue;
        (*out)[*n_out].bid = e[i].bid;
        (*out)[*n_out].off = e[i].off + (a - pos);
        (*out)[*n_out].len = b - a;
        (*n_out)++;
    }
    return 0;
}

/* The part's MD5 without reading bytes: a whole single-part source keeps its
 * content MD5; any other slice gets the MD5 of its extents' identities (blob
 * sha256, offset, length). Deterministic and content-derived, but not the
 * MD5 of the bytes: AWS computes that, we refuse to copy 5 GiB to do so. */
static int slice_md5(obj__conn *c, const copy_part_ctx *u, const obj__extent *e, size_t n, uint8_t md5[16])
{
    const char *etag = u->src->etag;
    sqlite3_stmt *st = NULL;
    EVP_MD_CTX *ctx = NULL;
    size_t i = 0;
    unsigned len = 0;
    int rc = 0;

    if (u->off == 0 && u->len == u->src->size && strchr(etag, '-') == NULL && strlen(etag) == 34 &&
        cn_unhex(md5, 16, etag + 1, 32) == 16)
        return 0;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        rc = -CN_EINTERNAL;
        goto out;
    }
    for (i = 0; rc == 0 && i < n; i++) {
        char buf[128];
        rc = obj__stmt(c, "SELECT sha256 FROM blobs WHERE bid = ?1", &st);
        if (rc != 0)
            break;
        sqlite3_bind_int64(st, 1, e[i].bid);
        if (sqlite3_step(st) != SQLITE_ROW) {
            rc = -CN_EINTERNAL;
            break;
        }
        snprintf(buf, sizeof(buf), "%s:%llu:%llu;", (const char *)sqlite3_column_text(st, 0),
                 (unsigned long long)e[i].off, (unsigned long long)e[i].len);
        sqlite3_reset(st);
        EVP_DigestUpdate(ctx, buf, strlen(buf));
    }
    if (rc == 0 && EVP_DigestFinal_ex(ctx, md5, &len) != 1)
        rc = -CN_EINTERNAL;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* The source may have been replaced since the caller's head. */
static int source_alive(obj__conn *c, int64_t vid)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT 1 FROM versions WHERE vid = ?1 AND delete_marker = 0", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? -CN_ENO_KEY : obj__sqlerr(c, rc, "copy source");
}

static int copy_part_commit(obj__conn *c, void *arg)
{
    copy_part_ctx *u = arg;
    obj__extent *all = NULL, *part = NULL;
    size_t n_all = 0, n_part = 0;
    int rc = obj__upload_check(c, u->bucket, u->key, u->p.upload_id);

    if (rc == 0)
        rc = source_alive(c, u->src->vid);
    if (rc == 0)
        rc = obj__lineage_hash(c, u->src->vid, u->p.src_hash);
    if (rc == 0)
        rc = obj__ver_extents(c, u->src->vid, &all, &n_all);
    if (rc == 0)
        rc = slice(all, n_all, u->off, u->len, &part, &n_part);
    if (rc == 0)
        rc = slice_md5(c, u, part, n_part, u->p.md5);
    if (rc == 0) {
        obj__etag_plain(u->p.etag, u->p.md5);
        u->p.ext = part;
        u->p.n_ext = n_part;
        rc = part_insert(c, &u->p);
        u->p.ext = NULL;
    }
    free(all);
    free(part);
    return rc;
}

int obj_mpu_copy_part(obj_store *s, const char *bucket, const char *key, const char *upload_id, int part_number,
                      const obj_version *src, uint64_t off, uint64_t len, obj_part *out)
{
    copy_part_ctx u = {.bucket = bucket, .key = key, .src = src, .off = off, .len = len};
    int rc = 0;

    u.p.upload_id = upload_id;
    u.p.number = part_number;
    u.p.size = len;
    u.p.now_ms = obj__now_ms();
    u.p.src_vid = src != NULL ? src->vid : 0;
    if (bucket == NULL || upload_id == NULL || src == NULL || part_number < 1 || part_number > OBJ_MAX_PARTS)
        return -CN_EINVALID_ARGUMENT;
    if (src->delete_marker)
        return -CN_ENO_KEY;
    if (off > src->size || len > src->size - off)
        return -CN_ERANGE;
    if (len > OBJ_MAX_PART_SIZE)
        return -CN_EENTITY_TOO_LARGE;
    rc = obj_key_valid(key, key != NULL ? strlen(key) : 0);
    if (rc == 0)
        rc = obj__meta_write(s->meta, copy_part_commit, &u);
    if (rc == 0)
        part_out(&u.p, out);
    return rc;
}

/* ---- abort ---- */

typedef struct abort_ctx {
    const char *bucket, *key, *upload_id;
} abort_ctx;

static int abort_commit(obj__conn *c, void *arg)
{
    abort_ctx *a = arg;
    int rc = obj__upload_check(c, a->bucket, a->key, a->upload_id);

    if (rc == 0)
        rc = obj__upload_release(c, a->upload_id, obj__now_ms());
    return rc;
}

int obj_mpu_abort(obj_store *s, const char *bucket, const char *key, const char *upload_id)
{
    abort_ctx a = {.bucket = bucket, .key = key, .upload_id = upload_id};
    int rc = 0;

    if (bucket == NULL || upload_id == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(key, key != NULL ? strlen(key) : 0);
    if (rc == 0)
        rc = obj__meta_write(s->meta, abort_commit, &a);
    return rc;
}

/*
 * mpu_complete: CompleteMultipartUpload.
 *
 * Everything happens in one commit transaction, so the new version appears
 * with all its bytes or not at all, and a concurrent abort or part upload is
 * ordered strictly before or after:
 *
 *   upload open?  ──no──> -CN_ENO_UPLOAD
 *   part list non-empty, strictly ascending   (-CN_EMALFORMED_XML, -CN_EINVALID_PART_ORDER)
 *   each part stored with that ETag           (-CN_EINVALID_PART)
 *   all but the last >= 5 MiB                 (-CN_EENTITY_TOO_SMALL)
 *   version = concatenated part extents, ETag = md5(md5_1 || ... || md5_N) "-N",
 *     references taken (obj__ver_insert)
 *   every part released, upload row deleted   (unnamed parts' blobs may die)
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

typedef struct complete_ctx {
    obj_store *s;
    const char *bucket, *key, *upload_id;
    const obj_part_ref *parts;
    size_t n;
    obj_version *out;
    /* gathered in the transaction */
    obj__extent *ext;
    size_t n_ext, cap_ext;
    uint64_t size;
    char *attrs, *tags;
    char owner[128], storage_class[32];
} complete_ctx;

static int load_upload(obj__conn *c, complete_ctx *m)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT owner, storage_class, attrs, tags FROM uploads WHERE upload_id = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, m->upload_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_ENO_UPLOAD : obj__sqlerr(c, rc, "upload load");
    obj__col_copy(st, 0, m->owner, sizeof(m->owner));
    obj__col_copy(st, 1, m->storage_class, sizeof(m->storage_class));
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
        m->attrs = obj__col_dup(st, 2);
    if (sqlite3_column_type(st, 3) != SQLITE_NULL)
        m->tags = obj__col_dup(st, 3);
    return 0;
}

/* ETags compare without their quotes and without regard to hex case. */
static int etag_equal(const char *stored, const char *given)
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

static int append_extents(complete_ctx *m, const obj__extent *e, size_t n)
{
    obj__extent *grown = NULL;

    if (m->n_ext + n > m->cap_ext) {
        size_t cap = m->cap_ext != 0 ? m->cap_ext : 16;
        while (cap < m->n_ext + n)
            cap *= 2;
        grown = realloc(m->ext, cap * sizeof(*grown));
        if (grown == NULL)
            return -CN_ENOMEM;
        m->ext = grown;
        m->cap_ext = cap;
    }
    memcpy(m->ext + m->n_ext, e, n * sizeof(*e));
    m->n_ext += n;
    return 0;
}

/* Checks one named part and adds its extents and MD5. */
static int take_part(obj__conn *c, complete_ctx *m, size_t i, EVP_MD_CTX *md5)
{
    sqlite3_stmt *st = NULL;
    obj__extent *e = NULL;
    int64_t pid = 0;
    uint64_t size = 0;
    size_t n = 0;
    int rc = obj__stmt(c, "SELECT pid, size, etag, md5 FROM parts WHERE upload_id = ?1 AND number = ?2", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, m->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, m->parts[i].number);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_EINVALID_PART : obj__sqlerr(c, rc, "part lookup");
    if (!etag_equal((const char *)sqlite3_column_text(st, 2), m->parts[i].etag))
        return -CN_EINVALID_PART;
    pid = sqlite3_column_int64(st, 0);
    size = (uint64_t)sqlite3_column_int64(st, 1);
    if (i + 1 < m->n && size < OBJ_MIN_PART_SIZE)
        return -CN_EENTITY_TOO_SMALL;
    if (sqlite3_column_bytes(st, 3) != 16 || EVP_DigestUpdate(md5, sqlite3_column_blob(st, 3), 16) != 1)
        return -CN_EINTERNAL;
    sqlite3_reset(st);
    m->size += size;
    rc = obj__part_extents(c, pid, &e, &n);
    if (rc == 0)
        rc = append_extents(m, e, n);
    free(e);
    return rc;
}

static int check_order(const complete_ctx *m)
{
    size_t i = 0;

    if (m->n == 0)
        return -CN_EMALFORMED_XML; /* S3: at least one part must be named */
    if (m->n > OBJ_MAX_PARTS)
        return -CN_EINVALID_ARGUMENT;
    for (i = 0; i < m->n; i++) {
        if (m->parts[i].number < 1 || m->parts[i].number > OBJ_MAX_PARTS)
            return -CN_EINVALID_PART;
        if (i > 0 && m->parts[i].number <= m->parts[i - 1].number)
            return -CN_EINVALID_PART_ORDER;
    }
    return 0;
}

static int gather(obj__conn *c, complete_ctx *m, char etag[48])
{
    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    uint8_t digest[16];
    char hex[33];
    unsigned len = 0;
    size_t i = 0;
    int rc = 0;

    if (md5 == NULL || EVP_DigestInit_ex(md5, EVP_md5(), NULL) != 1) {
        rc = -CN_EINTERNAL;
        goto out;
    }
    for (i = 0; rc == 0 && i < m->n; i++)
        rc = take_part(c, m, i, md5);
    if (rc == 0 && m->size > OBJ_MAX_OBJECT_SIZE)
        rc = -CN_EENTITY_TOO_LARGE;
    if (rc == 0 && EVP_DigestFinal_ex(md5, digest, &len) != 1)
        rc = -CN_EINTERNAL;
    if (rc == 0) {
        cn_hex(hex, digest, sizeof(digest));
        snprintf(etag, 48, "\"%s-%zu\"", hex, m->n);
    }
out:
    EVP_MD_CTX_free(md5);
    return rc;
}

static int complete_commit(obj__conn *c, void *arg)
{
    complete_ctx *m = arg;
    obj__newver nv = {0};
    char etag[48];
    int rc = obj__upload_check(c, m->bucket, m->key, m->upload_id);

    if (rc == 0)
        rc = load_upload(c, m);
    if (rc == 0)
        rc = check_order(m);
    if (rc == 0)
        rc = gather(c, m, etag);
    if (rc != 0)
        return rc;
    nv.bucket = m->bucket;
    nv.key = m->key;
    nv.size = m->size;
    nv.etag = etag;
    nv.parts_count = (int)m->n;
    nv.storage_class = m->storage_class;
    nv.owner = m->owner;
    nv.region = m->s->region;
    nv.attrs_json = m->attrs;
    nv.tags_json = m->tags;
    nv.ext = m->ext;
    nv.n_ext = m->n_ext;
    nv.now_ms = obj__now_ms();
    rc = obj__ver_insert(c, &nv, m->out);
    if (rc == 0)
        rc = obj__upload_release(c, m->upload_id, nv.now_ms);
    return rc;
}

int obj_mpu_complete(obj_store *s, const char *bucket, const char *key, const char *upload_id,
                     const obj_part_ref *parts, size_t n, obj_version *out)
{
    complete_ctx m = {.s = s, .bucket = bucket, .key = key, .upload_id = upload_id, .parts = parts, .n = n};
    obj_version scratch = {0};
    int rc = 0;

    m.out = out != NULL ? out : &scratch;
    memset(m.out, 0, sizeof(*m.out));
    if (bucket == NULL || upload_id == NULL || (parts == NULL && n > 0))
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(key, key != NULL ? strlen(key) : 0);
    if (rc == 0)
        rc = obj__meta_write(s->meta, complete_commit, &m);
    if (rc != 0 || out == NULL)
        obj_version_dispose(m.out);
    free(m.ext);
    free(m.attrs);
    free(m.tags);
    return rc;
}

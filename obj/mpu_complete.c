/*
 * mpu_complete: CompleteMultipartUpload.
 *
 * Everything happens in one commit transaction, so the new version appears
 * with all its bytes or not at all, and a concurrent abort or part upload is
 * ordered strictly before or after:
 *
 *   upload open?  ──no──> -CN_ENO_UPLOAD
 *   If-None-Match: * / If-Match on the key    (-CN_EPRECONDITION, -CN_ENO_KEY)
 *   part list non-empty, strictly ascending   (-CN_EMALFORMED_XML, -CN_EINVALID_PART_ORDER)
 *   each part stored with that ETag, and with
 *     that checksum when one is named         (-CN_EINVALID_PART)
 *   all but the last >= 5 MiB                 (-CN_EENTITY_TOO_SMALL)
 *   version = concatenated part extents, ETag = md5(md5_1 || ... || md5_N) "-N",
 *     attributes = the upload's + the caller's, references taken (obj__ver_insert),
 *     sources = distinct record hashes of the copied parts' sources, signed
 *     as a version 2 lineage record (none: version 1, as before)
 *   every part released, upload row deleted   (unnamed parts' blobs may die)
 *
 * Because every named checksum is checked against the stored one here, in
 * the transaction that commits, a checksum the caller derived from the named
 * ones (S3's checksum of checksums, passed in as an attribute) describes
 * exactly the parts that become the object.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

typedef struct complete_ctx {
    obj_store *s;
    const obj_mpu_complete_args *a;
    const char *bucket, *key, *upload_id;
    const obj_part_ref *parts;
    size_t n;
    obj_version *out;
    /* gathered in the transaction */
    obj__extent *ext;
    size_t n_ext, cap_ext;
    uint64_t size;
    obj__source *src; /* one per copied part named; sorted and deduplicated after gather() */
    size_t n_src, cap_src;
    char *attrs, *tags;
    char owner[128], storage_class[32], acl[OBJ_ACL_MAX];
} complete_ctx;

static int load_upload(obj__conn *c, complete_ctx *m)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT owner, storage_class, attrs, tags, acl FROM uploads WHERE upload_id = ?1", &st);

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
    obj__col_copy(st, 4, m->acl, sizeof(m->acl)); /* NULL reads as "" (private) */
    return 0;
}

/* A checksum named for a part must be the one stored with it, byte for
 * byte (base64 is canonical for a given digest). NULL columns read as "". */
static int checksum_equal(sqlite3_stmt *st, int col, const obj_checksum *given)
{
    const char *algo = (const char *)sqlite3_column_text(st, col);
    const char *value = (const char *)sqlite3_column_text(st, col + 1);

    if (given->algo[0] == '\0')
        return 1;
    return algo != NULL && value != NULL && strncmp(algo, given->algo, sizeof(given->algo)) == 0 &&
           strncmp(value, given->value, sizeof(given->value)) == 0;
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

/* Notes the source of a copied part (columns col, col + 1: src_vid, src_hash). */
static int note_source(complete_ctx *m, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return 0;
    if (cn_grow(&m->src, &m->cap_src, m->n_src, sizeof(*m->src), 4) != 0)
        return -CN_ENOMEM;
    m->src[m->n_src].vid = sqlite3_column_int64(st, col);
    obj__col_copy(st, col + 1, m->src[m->n_src].hash, sizeof(m->src[m->n_src].hash));
    m->n_src++;
    return 0;
}

static int source_cmp(const void *a, const void *b)
{
    return strcmp(((const obj__source *)a)->hash, ((const obj__source *)b)->hash);
}

/* Ascending and distinct by hash, as the canonical record wants them. Equal
 * hashes name one version (or several unsigned ones): one vid is kept. */
static void sources_settle(complete_ctx *m)
{
    size_t n = 0;

    if (m->n_src == 0)
        return;
    qsort(m->src, m->n_src, sizeof(*m->src), source_cmp);
    for (size_t i = 1; i < m->n_src; i++)
        if (strcmp(m->src[i].hash, m->src[n].hash) != 0)
            m->src[++n] = m->src[i];
    m->n_src = n + 1;
}

/* Checks one named part and adds its extents, MD5 and source. */
static int take_part(obj__conn *c, complete_ctx *m, size_t i, EVP_MD_CTX *md5)
{
    sqlite3_stmt *st = NULL;
    obj__extent *e = NULL;
    int64_t pid = 0;
    uint64_t size = 0;
    size_t n = 0;
    int rc = obj__stmt(c,
                       "SELECT pid, size, etag, md5, ck_algo, ck_value, src_vid, src_hash FROM parts "
                       "WHERE upload_id = ?1 AND number = ?2",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, m->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, m->parts[i].number);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -CN_EINVALID_PART : obj__sqlerr(c, rc, "part lookup");
    if (!obj__etag_equal((const char *)sqlite3_column_text(st, 2), m->parts[i].etag) ||
        !checksum_equal(st, 4, &m->parts[i].checksum)) {
        sqlite3_reset(st);
        return -CN_EINVALID_PART;
    }
    pid = sqlite3_column_int64(st, 0);
    size = (uint64_t)sqlite3_column_int64(st, 1);
    rc = 0;
    if (i + 1 < m->n && size < OBJ_MIN_PART_SIZE)
        rc = -CN_EENTITY_TOO_SMALL;
    else if (sqlite3_column_bytes(st, 3) != 16 || EVP_DigestUpdate(md5, sqlite3_column_blob(st, 3), 16) != 1)
        rc = -CN_EINTERNAL;
    else
        rc = note_source(m, st, 6);
    sqlite3_reset(st);
    if (rc != 0)
        return rc;
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
    if (rc == 0)
        sources_settle(m);
    if (rc == 0) {
        cn_hex(hex, digest, sizeof(digest));
        snprintf(etag, 48, "\"%s-%zu\"", hex, m->n);
    }
out:
    EVP_MD_CTX_free(md5);
    return rc;
}

/* The upload's attributes followed by the caller's, re-encoded. */
static int merge_attrs(complete_ctx *m)
{
    obj_attr *stored = NULL, *all = NULL;
    size_t n = 0, i = 0;
    char *json = NULL;
    int rc = 0;

    if (m->a->n_attrs == 0)
        return 0;
    rc = obj__attrs_decode(m->attrs, &stored, &n);
    if (rc != 0)
        return rc;
    all = calloc(n + m->a->n_attrs, sizeof(*all));
    if (all == NULL) {
        rc = -CN_ENOMEM;
        goto out;
    }
    if (n > 0)
        memcpy(all, stored, n * sizeof(*all));
    memcpy(all + n, m->a->attrs, m->a->n_attrs * sizeof(*all));
    rc = obj__attrs_encode(all, n + m->a->n_attrs, &json);
    if (rc == 0) {
        free(m->attrs);
        m->attrs = json;
    }
out:
    for (i = 0; i < n; i++) {
        free(stored[i].name);
        free(stored[i].value);
    }
    free(stored);
    free(all);
    return rc;
}

static int complete_commit(obj__conn *c, void *arg)
{
    complete_ctx *m = arg;
    obj__newver nv = {0};
    char etag[48];
    int rc = obj__upload_check(c, m->bucket, m->key, m->upload_id);

    if (rc == 0)
        rc = obj__write_cond(c, m->bucket, m->key, m->a->if_none_match_star, m->a->if_match_etag);
    if (rc == 0)
        rc = load_upload(c, m);
    if (rc == 0)
        rc = merge_attrs(m);
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
    nv.acl = m->acl;
    nv.ext = m->ext;
    nv.n_ext = m->n_ext;
    nv.sources = m->src;
    nv.n_sources = m->n_src;
    nv.now_ms = obj__now_ms();
    nv.rkey = m->s->rkey;
    rc = obj__ver_insert(c, &nv, m->out);
    if (rc == 0)
        rc = obj__upload_release(c, m->upload_id, nv.now_ms);
    return rc;
}

int obj_mpu_complete(obj_store *s, const obj_mpu_complete_args *a, obj_version *out)
{
    complete_ctx m = {
        .s = s, .a = a, .bucket = a->bucket, .key = a->key, .upload_id = a->upload_id, .parts = a->parts, .n = a->n};
    obj_version scratch = {0};
    int rc = 0;

    m.out = out != NULL ? out : &scratch;
    memset(m.out, 0, sizeof(*m.out));
    if (a->bucket == NULL || a->upload_id == NULL || (a->parts == NULL && a->n > 0) ||
        (a->attrs == NULL && a->n_attrs > 0))
        return -CN_EINVALID_ARGUMENT;
    rc = obj_key_valid(a->key, a->key != NULL ? strlen(a->key) : 0);
    if (rc == 0)
        rc = obj__meta_write(s->meta, complete_commit, &m);
    if (rc != 0 || out == NULL)
        obj_version_dispose(m.out);
    free(m.ext);
    free(m.src);
    free(m.attrs);
    free(m.tags);
    return rc;
}

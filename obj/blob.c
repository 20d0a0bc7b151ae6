/*
 * blob: how bytes become a blob, and reference counting.
 *
 * Commit of a body (obj_put, obj_mpu_put_part), one blob row's life:
 *
 *         obj__blob_land()                  obj__blob_settle() in the caller's
 *   (none) ---------------> PENDING ------> commit transaction:
 *          intent committed    |              no live twin:  ---> LIVE (refcount = extents)
 *          before any byte     |              live twin:  the twin is referenced,
 *          reaches provider    |                          this row stays PENDING
 *                              |
 *                              |  obj__blob_finish() after the commit (twin or
 *                              |  failed commit): provider del, then row delete
 *                              v
 *                           (none)          crash anywhere above: obj__blob_recover()
 *                                           at open deletes every PENDING object + row
 *
 *   LIVE --obj__blob_unref() to 0--> DEAD(dead_since) --obj_gc() after grace:
 *                                    provider del, then row delete--> (none)
 *
 * Invariants:
 *  1. No provider object exists without a blob row naming its locator
 *     (the intent is durable before the provider put starts; GC and finish
 *     delete the object before the row).
 *  2. A LIVE blob's refcount equals the number of extent rows naming it.
 *  3. DEAD never returns to LIVE: GC may be deleting its object right now.
 *
 * The body is read exactly once: the provider pulls it through a stream
 * that feeds MD5 (ETag) and SHA-256 (blob address) as bytes pass.
 *
 * Inline blobs: a body of at most s->inline_max bytes skips the intent and
 * the provider. It is read into memory while hashed, and obj__blob_settle()
 * inserts it LIVE with its bytes (table blob_data) inside the caller's commit
 * transaction, so the version and its bytes become durable in one group
 * commit, and a crash leaves nothing to recover. Inline locators start with
 * '=', which no provider name can, so they never reach a provider.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

typedef struct hash_stream {
    cn_stream base;
    cn_stream *src;
    EVP_MD_CTX *md5, *sha;
    uint64_t n;
} hash_stream;

static long hash_read(cn_stream *s, void *buf, size_t n)
{
    hash_stream *h = (hash_stream *)s;
    long got = h->src->read(h->src, buf, n);

    if (got > 0) {
        if (EVP_DigestUpdate(h->md5, buf, (size_t)got) != 1 || EVP_DigestUpdate(h->sha, buf, (size_t)got) != 1)
            return -CN_EINTERNAL;
        h->n += (uint64_t)got;
    }
    return got;
}

static void hash_close(cn_stream *s)
{
    (void)s; /* lives on the caller's stack; the source belongs to the caller */
}

typedef struct intent_arg {
    const obj__landing *l;
    const char *layout;
    int64_t bid;
} intent_arg;

static int intent_insert(obj__conn *c, void *arg)
{
    intent_arg *a = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "INSERT INTO blobs(locator, size, refcount, state, created_ms, cls, layout) "
                       "VALUES (?1, ?2, 0, 'pending', ?3, ?4, ?5)",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, a->l->locator, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)a->l->size);
    sqlite3_bind_int64(st, 3, obj__now_ms());
    sqlite3_bind_text(st, 4, a->l->cls, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->layout, -1, SQLITE_STATIC);
    rc = obj__step_done(c, st);
    if (rc == 0)
        a->bid = sqlite3_last_insert_rowid(obj__db(c));
    return rc;
}

static int intent_delete(obj__conn *c, void *arg)
{
    int64_t *bid = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "DELETE FROM blobs WHERE bid = ?1 AND state = 'pending'", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, *bid);
    return obj__step_done(c, st);
}

typedef struct state_arg {
    int64_t bid;
    int pending;
} state_arg;

static int intent_state(obj__conn *c, void *arg)
{
    state_arg *a = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT state = 'pending' FROM blobs WHERE bid = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, a->bid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        a->pending = sqlite3_column_int(st, 0);
    else if (rc != SQLITE_DONE)
        return obj__sqlerr(c, rc, "intent state");
    return 0;
}

/* Shards first, then the row: a crash in between leaves a pending row
 * whose shards are already gone, which recovery handles. */
static void discard(obj_store *s, int64_t bid, const seal_ref *ref)
{
    if (seal_delete(s->vault, ref) != 0)
        return;
    obj__meta_write(s->meta, intent_delete, &bid);
}

/* Writes 32 hex digits and a NUL. */
static int new_locator(char *out)
{
    uint8_t r[16];
    int rc = cn_random(r, sizeof(r));

    if (rc == 0)
        cn_hex(out, r, sizeof(r));
    return rc;
}

/* The stream must end exactly at size: one more read confirms it (and lets
 * a signed-chunk stream verify its final chunk). */
static int confirm_end(cn_stream *body)
{
    char extra = 0;
    long got = body->read(body, &extra, 1);

    if (got < 0)
        return (int)got;
    return got == 0 ? 0 : -CN_EINVALID_REQUEST;
}

/* Reads a small body whole, through the hashing stream. */
static int land_inline(hash_stream *h, obj__landing *l)
{
    uint64_t got = 0;

    l->inline_data = malloc(l->size);
    if (l->inline_data == NULL)
        return -CN_ENOMEM;
    l->locator[0] = '=';
    while (got < l->size) {
        long n = h->base.read(&h->base, l->inline_data + got, (size_t)(l->size - got));
        if (n <= 0)
            return n < 0 ? (int)n : -CN_EINCOMPLETE_BODY;
        got += (uint64_t)n;
    }
    return new_locator(l->locator + 1);
}

static int digests_init(hash_stream *h, cn_stream *body)
{
    memset(h, 0, sizeof(*h));
    h->base.read = hash_read;
    h->base.close = hash_close;
    h->src = body;
    h->md5 = EVP_MD_CTX_new();
    h->sha = EVP_MD_CTX_new();
    if (h->md5 == NULL || h->sha == NULL)
        return -CN_ENOMEM;
    if (EVP_DigestInit_ex(h->md5, EVP_md5(), NULL) != 1 || EVP_DigestInit_ex(h->sha, EVP_sha256(), NULL) != 1)
        return -CN_EINTERNAL;
    return 0;
}

static int digests_final(hash_stream *h, obj__landing *l)
{
    uint8_t sha[32];
    unsigned n = 0;

    if (EVP_DigestFinal_ex(h->md5, l->md5, &n) != 1 || EVP_DigestFinal_ex(h->sha, sha, &n) != 1)
        return -CN_EINTERNAL;
    cn_hex(l->sha256, sha, sizeof(sha));
    return 0;
}

const char *obj__placement(const obj_store *s, const char *sc)
{
    return sc == NULL || strcmp(sc, "STANDARD") == 0 ? seal_vault_default_class(s->vault) : sc;
}

typedef struct bucket_class {
    const char *bucket;
    char cls[SEAL_NAME_MAX + 1];
} bucket_class;

static int bucket_class_read(obj__conn *c, void *arg)
{
    bucket_class *b = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT placement FROM buckets WHERE name = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, b->bucket, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        obj__col_copy(st, 0, b->cls, sizeof(b->cls));
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "bucket placement");
}

/* The placement of a body of bucket: its storage class, else the bucket's
 * default placement, else the store's. */
static int resolve_class(obj_store *s, const char *bucket, const char *sc, char out[SEAL_NAME_MAX + 1])
{
    bucket_class b = {.bucket = bucket};
    int rc = 0;

    if (sc != NULL && strcmp(sc, "STANDARD") != 0) {
        snprintf(out, SEAL_NAME_MAX + 1, "%s", sc);
        return 0;
    }
    rc = obj__meta_read(s->meta, bucket_class_read, &b);
    snprintf(out, SEAL_NAME_MAX + 1, "%s", b.cls[0] != '\0' ? b.cls : seal_vault_default_class(s->vault));
    return rc;
}

int obj__storage_class_valid(const obj_store *s, const char *sc)
{
    return seal_vault_has_class(s->vault, obj__placement(s, sc)) ? 0 : -CN_EINVALID_STORAGE_CLASS;
}

int obj__blob_layout(const char *locator, uint64_t size, const char *layout, seal_ref *out)
{
    return seal_ref_parse(out, locator, size, layout != NULL ? layout : "1 - plain 1048576 default -");
}

/* Intent first (invariant 1), then the shards. */
static int land_sealed(obj_store *s, hash_stream *h, obj__landing *l)
{
    intent_arg ia = {.l = l};
    char layout[SEAL_LAYOUT_MAX];
    int rc = new_locator(l->locator);

    if (rc == 0)
        rc = seal_ref_new(s->vault, l->cls, l->locator, l->size, &l->ref);
    if (rc == 0)
        rc = seal_ref_format(&l->ref, layout, sizeof(layout));
    ia.layout = layout;
    if (rc == 0)
        rc = obj__meta_write(s->meta, intent_insert, &ia);
    if (rc != 0)
        return rc;
    l->bid = ia.bid;
    return seal_put(s->vault, &l->ref, &h->base, &l->missing);
}

int obj__blob_land(obj_store *s, cn_stream *body, uint64_t size, const uint8_t *content_md5, const char *bucket,
                   const char *sc, obj__landing *l)
{
    hash_stream h;
    int rc = 0;

    memset(l, 0, sizeof(*l));
    l->size = size;
    /* inline bodies stay in the metadata store whatever their class */
    snprintf(l->cls, sizeof(l->cls), "%s", obj__placement(s, sc));
    rc = digests_init(&h, body);
    if (rc == 0 && size > 0 && size <= s->inline_max)
        rc = land_inline(&h, l);
    else if (rc == 0 && size > 0 && (rc = resolve_class(s, bucket, sc, l->cls)) == 0)
        rc = land_sealed(s, &h, l);
    if (rc == 0)
        rc = confirm_end(body);
    if (rc == 0)
        rc = digests_final(&h, l);
    if (rc == 0 && content_md5 != NULL && memcmp(content_md5, l->md5, 16) != 0)
        rc = -CN_EBAD_DIGEST;
    if (rc != 0 && l->bid != 0) {
        discard(s, l->bid, &l->ref);
        l->bid = 0;
    }
    if (rc != 0) {
        free(l->inline_data);
        l->inline_data = NULL;
    }
    EVP_MD_CTX_free(h.md5);
    EVP_MD_CTX_free(h.sha);
    return rc;
}

static int settle_inline(obj__conn *c, obj__landing *l, int64_t now_ms, int64_t *bid)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "INSERT INTO blobs(locator, sha256, size, refcount, state, created_ms, cls) "
                       "VALUES (?1, ?2, ?3, 0, 'live', ?4, ?5)",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, l->locator, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, l->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)l->size);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_text(st, 5, l->cls, -1, SQLITE_STATIC);
    if ((rc = obj__step_done(c, st)) != 0)
        return rc;
    *bid = sqlite3_last_insert_rowid(obj__db(c));
    if ((rc = obj__stmt(c, "INSERT INTO blob_data(bid, data) VALUES (?1, ?2)", &st)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, *bid);
    sqlite3_bind_blob64(st, 2, l->inline_data, l->size, SQLITE_STATIC);
    return obj__step_done(c, st);
}

int obj__blob_settle(obj__conn *c, obj__landing *l, int64_t now_ms, int64_t *bid)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    *bid = 0;
    l->dup = 0;
    if (l->bid == 0 && l->inline_data == NULL)
        return 0;
    rc = obj__stmt(c, "SELECT bid FROM blobs WHERE sha256 = ?1 AND cls = ?2 AND state = 'live'", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, l->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, l->cls, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *bid = sqlite3_column_int64(st, 0);
        l->dup = 1;
        sqlite3_reset(st);
        return 0;
    }
    if (rc != SQLITE_DONE)
        return obj__sqlerr(c, rc, "blob dedupe");
    if (l->inline_data != NULL)
        return settle_inline(c, l, now_ms, bid);
    rc = obj__stmt(c, "UPDATE blobs SET state = 'live', sha256 = ?2, bad = ?3 WHERE bid = ?1 AND state = 'pending'",
                   &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, l->bid);
    sqlite3_bind_text(st, 2, l->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, l->missing);
    rc = obj__step_done(c, st);
    if (rc != 0)
        return rc;
    if (sqlite3_changes(obj__db(c)) != 1)
        return -CN_EINTERNAL; /* the intent vanished: only recovery deletes intents */
    *bid = l->bid;
    return 0;
}

void obj__blob_finish(obj_store *s, obj__landing *l, int committed)
{
    state_arg sa = {.bid = l->bid};

    free(l->inline_data);
    l->inline_data = NULL;
    if (l->bid == 0 || (committed && !l->dup))
        return;
    /* A commit that reported failure might still have become durable (an
     * I/O error after the WAL write); never delete an object a live row names. */
    if (obj__meta_read(s->meta, intent_state, &sa) != 0 || !sa.pending)
        return;
    discard(s, l->bid, &l->ref);
}

int obj__blob_ref(obj__conn *c, int64_t bid)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "UPDATE blobs SET refcount = refcount + 1 WHERE bid = ?1 AND state = 'live'", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, bid);
    rc = obj__step_done(c, st);
    if (rc == 0 && sqlite3_changes(obj__db(c)) != 1)
        rc = -CN_EINTERNAL; /* extents name only live blobs (invariant 2) */
    return rc;
}

int obj__blob_unref(obj__conn *c, int64_t bid, int64_t now_ms)
{
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "UPDATE blobs SET refcount = refcount - 1,"
                       " state = CASE WHEN refcount = 1 THEN 'dead' ELSE state END,"
                       " dead_since = CASE WHEN refcount = 1 THEN ?2 ELSE dead_since END "
                       "WHERE bid = ?1 AND state = 'live' AND refcount > 0",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, bid);
    sqlite3_bind_int64(st, 2, now_ms);
    rc = obj__step_done(c, st);
    if (rc == 0 && sqlite3_changes(obj__db(c)) != 1)
        rc = -CN_EINTERNAL;
    return rc;
}

typedef struct pending_list {
    int64_t *bid;
    seal_ref *ref;
    size_t n, cap;
} pending_list;

static int pending_collect(obj__conn *c, void *arg)
{
    pending_list *p = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "SELECT bid, locator, size, layout FROM blobs WHERE state = 'pending' ORDER BY bid", &st);

    if (rc != 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t cap = p->cap;
        char loc[40];
        if (cn_grow(&p->bid, &cap, p->n, sizeof(*p->bid), 64) != 0 ||
            cn_grow(&p->ref, &p->cap, p->n, sizeof(*p->ref), 64) != 0)
            return -CN_ENOMEM;
        p->bid[p->n] = sqlite3_column_int64(st, 0);
        obj__col_copy(st, 1, loc, sizeof(loc));
        if (obj__blob_layout(loc, (uint64_t)sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3),
                             &p->ref[p->n]) != 0)
            continue; /* unreadable layout: the row stays, to be looked at */
        p->n++;
    }
    return rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "pending intents");
}

int obj__blob_recover(obj_store *s)
{
    pending_list p = {0};
    size_t i = 0;
    int rc = 0;

    rc = obj__meta_read(s->meta, pending_collect, &p);
    for (i = 0; rc == 0 && i < p.n; i++) {
        /* a provider that is down keeps its intent for the next start */
        if (seal_delete(s->vault, &p.ref[i]) != 0)
            continue;
        rc = obj__meta_write(s->meta, intent_delete, &p.bid[i]);
    }
    free(p.bid);
    free(p.ref);
    return rc;
}

/*
 * read: the byte stream of a version (obj_open).
 *
 * The extents and their blobs' locators are read once, in one snapshot, when
 * the stream is opened; after that the stream only talks to the provider.
 * A version deleted while it is being read keeps its bytes for the GC grace
 * period (blobs are never deleted synchronously), which is what lets a
 * reader that opened just before the delete finish.
 *
 * Each read() serves at most what the caller asked for, with one provider
 * get per extent touched; the caller's buffer size (~1 MiB) sets the chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

typedef struct rextent {
    int64_t bid;
    seal_ref *ref;     /* sealed blobs: the layout, read at open */
    seal_reader *rd;   /* opened at the first read */
    uint64_t off, len; /* within the blob */
    uint8_t *data;     /* inline blobs: bytes [off, off+len), loaded at open */
} rextent;

typedef struct obj_reader {
    cn_stream base;
    obj_store *s;
    rextent *ext;
    size_t n_ext;
    size_t cur;       /* extent holding pos */
    uint64_t cur_off; /* pos within that extent */
    uint64_t left;    /* bytes still to deliver */
} obj_reader;

typedef struct open_ctx {
    const obj_version *v;
    obj_reader *r;
} open_ctx;

/* Copies an inline extent's bytes out of the row (column 3), in the same
 * snapshot as the extents, so that GC cannot take them from under us. */
static int load_inline(sqlite3_stmt *st, rextent *e)
{
    const uint8_t *p = sqlite3_column_blob(st, 3);

    if ((uint64_t)sqlite3_column_bytes(st, 3) < e->off + e->len || (p == NULL && e->len > 0))
        return -CN_EIO;
    e->data = malloc(e->len ? e->len : 1);
    if (e->data == NULL)
        return -CN_ENOMEM;
    memcpy(e->data, p + e->off, e->len);
    return 0;
}

/* One row of load_extents(): inline bytes, or the blob's layout. */
static int load_extent(sqlite3_stmt *st, rextent *e)
{
    char loc[40];

    memset(e, 0, sizeof(*e));
    obj__col_copy(st, 0, loc, sizeof(loc));
    e->off = (uint64_t)sqlite3_column_int64(st, 1);
    e->len = (uint64_t)sqlite3_column_int64(st, 2);
    e->bid = sqlite3_column_int64(st, 4);
    if (loc[0] == '=')
        return load_inline(st, e);
    if ((e->ref = malloc(sizeof(*e->ref))) == NULL)
        return -CN_ENOMEM;
    return obj__blob_layout(loc, (uint64_t)sqlite3_column_int64(st, 5), (const char *)sqlite3_column_text(st, 6),
                            e->ref);
}

static int load_extents(obj__conn *c, void *arg)
{
    open_ctx *o = arg;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = obj__stmt(c,
                       "SELECT b.locator, e.off, e.len, d.data, b.bid, b.size, b.layout FROM extents e "
                       "JOIN blobs b ON b.bid = e.bid "
                       "LEFT JOIN blob_data d ON d.bid = e.bid WHERE e.vid = ?1 ORDER BY e.idx",
                       &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, o->v->vid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cn_grow(&o->r->ext, &cap, o->r->n_ext, sizeof(rextent), 4) != 0)
            return -CN_ENOMEM;
        if ((rc = load_extent(st, &o->r->ext[o->r->n_ext++])) != 0)
            return rc;
    }
    if (rc != SQLITE_DONE)
        return obj__sqlerr(c, rc, "open extents");
    rc = obj__stmt(c, "SELECT 1 FROM versions WHERE vid = ?1", &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, o->v->vid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? -CN_ENO_KEY : obj__sqlerr(c, rc, "open version");
}

static long reader_read(cn_stream *s, void *buf, size_t n)
{
    obj_reader *r = (obj_reader *)s;
    size_t done = 0;
    int rc = 0;

    while (done < n && r->left > 0) {
        rextent *e = NULL;
        uint64_t avail = 0;
        size_t take = 0;
        if (r->cur >= r->n_ext)
            return -CN_EIO; /* extents shorter than the version's size */
        e = &r->ext[r->cur];
        avail = e->len - r->cur_off;
        if (avail == 0) {
            r->cur++;
            r->cur_off = 0;
            continue;
        }
        take = n - done;
        if (take > avail)
            take = (size_t)avail;
        if (take > r->left)
            take = (size_t)r->left;
        if (e->data != NULL)
            memcpy((char *)buf + done, e->data + r->cur_off, take);
        else if (e->rd == NULL && (rc = seal_reader_open(r->s->vault, e->ref, &e->rd)) != 0)
            return rc;
        else if ((rc = seal_read(e->rd, e->off + r->cur_off, (char *)buf + done, take)) != 0)
            return rc;
        done += take;
        r->cur_off += take;
        r->left -= take;
    }
    return (long)done;
}

static void reader_close(cn_stream *s)
{
    obj_reader *r = (obj_reader *)s;

    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_ext; i++) {
        rextent *e = &r->ext[i];
        if (e->rd != NULL && seal_reader_bad(e->rd) != 0)
            obj__blob_mark_bad(r->s, e->bid, seal_reader_bad(e->rd));
        seal_reader_close(e->rd);
        free(e->ref);
        free(e->data);
    }
    free(r->ext);
    free(r);
}

/* Positions the reader at byte off of the version. */
static void reader_seek(obj_reader *r, uint64_t off)
{
    while (r->cur < r->n_ext && off >= r->ext[r->cur].len) {
        off -= r->ext[r->cur].len;
        r->cur++;
    }
    r->cur_off = off;
}

/* Decodes the first segment the read needs now, so that a blob that cannot
 * be read fails the open (an error status) rather than the body after a
 * 200. The segment stays in the reader's cache for the first read. */
static int prime(obj_reader *r)
{
    rextent *e = r->cur < r->n_ext ? &r->ext[r->cur] : NULL;
    uint8_t one = 0;
    int rc = 0;

    if (r->left == 0 || e == NULL || e->data != NULL)
        return 0;
    rc = seal_reader_open(r->s->vault, e->ref, &e->rd);
    if (rc == 0)
        rc = seal_read(e->rd, e->off + r->cur_off, &one, 1);
    return rc;
}

int obj_open(obj_store *s, const obj_version *v, uint64_t off, uint64_t len, cn_stream **out)
{
    open_ctx o = {.v = v};
    int rc = 0;

    *out = NULL;
    if (v->delete_marker)
        return -CN_ENO_KEY;
    if (off > v->size || len > v->size - off)
        return -CN_ERANGE;
    o.r = calloc(1, sizeof(*o.r));
    if (o.r == NULL)
        return -CN_ENOMEM;
    o.r->base.read = reader_read;
    o.r->base.close = reader_close;
    o.r->s = s;
    o.r->left = len;
    rc = obj__meta_read(s->meta, load_extents, &o);
    if (rc != 0) {
        reader_close(&o.r->base);
        return rc;
    }
    reader_seek(o.r, off);
    rc = prime(o.r);
    if (rc != 0) {
        reader_close(&o.r->base);
        return rc;
    }
    *out = &o.r->base;
    return 0;
}

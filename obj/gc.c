/*
 * gc: deletion of dead blobs' bytes.
 *
 *   LIVE --last reference dropped (obj__blob_unref)--> DEAD, dead_since = now
 *   DEAD --obj_gc(), dead_since older than the grace period:
 *          1. provider del(locator)      (idempotent: a missing object is fine)
 *          2. DELETE the row, if still DEAD
 *        --> (none)
 *
 * Crash-safety: the object goes before the row, so a crash between the two
 * leaves a DEAD row whose object is already gone; the next obj_gc deletes
 * "again" (a no-op) and removes the row. Never the reverse, which would leak
 * an object no row names.
 *
 * Why a grace period: a reader may have loaded a version's locators just
 * before the version was replaced; its stream keeps working until then.
 * DEAD rows never return to LIVE (blob.c invariant 3), so a provider delete
 * can never destroy bytes that a new version references.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

#define GC_BATCH 256

typedef struct gc_ctx {
    int64_t cutoff_ms;
    int64_t bid[GC_BATCH];
    char loc[GC_BATCH][40];
    char *layout[GC_BATCH]; /* NULL: inline, or a blob of a store made before sealing */
    uint64_t size[GC_BATCH];
    int ok[GC_BATCH];
    size_t n;
} gc_ctx;

static int gc_collect(obj__conn *c, void *arg)
{
    gc_ctx *g = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "SELECT bid, locator, size, layout FROM blobs WHERE state = 'dead' AND dead_since <= ?1 "
                       "ORDER BY dead_since LIMIT ?2",
                       &st);

    g->n = 0;
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, g->cutoff_ms);
    sqlite3_bind_int(st, 2, GC_BATCH);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && g->n < GC_BATCH) {
        g->bid[g->n] = sqlite3_column_int64(st, 0);
        obj__col_copy(st, 1, g->loc[g->n], sizeof(g->loc[0]));
        g->size[g->n] = (uint64_t)sqlite3_column_int64(st, 2);
        free(g->layout[g->n]);
        g->layout[g->n] = sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL : obj__col_dup(st, 3);
        g->n++;
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "gc collect");
}

static int gc_delete_rows(obj__conn *c, void *arg)
{
    gc_ctx *g = arg;
    sqlite3_stmt *st = NULL;
    size_t i = 0;
    int rc = 0;

    for (i = 0; i < g->n && rc == 0; i++) {
        if (!g->ok[i])
            continue;
        rc = obj__stmt(c, "DELETE FROM blob_data WHERE bid = ?1", &st);
        if (rc != 0)
            break;
        sqlite3_bind_int64(st, 1, g->bid[i]);
        rc = obj__step_done(c, st);
        if (rc == 0)
            rc = obj__stmt(c, "DELETE FROM blobs WHERE bid = ?1 AND state = 'dead'", &st);
        if (rc != 0)
            break;
        sqlite3_bind_int64(st, 1, g->bid[i]);
        rc = obj__step_done(c, st);
    }
    return rc;
}

/* 1 once the blob's bytes are gone from every provider. */
static int delete_blob(obj_store *s, const gc_ctx *g, size_t i)
{
    seal_ref ref;

    /* inline blobs ('=') have no provider object: their row holds the bytes */
    if (g->loc[i][0] == '=')
        return 1;
    return obj__blob_layout(g->loc[i], g->size[i], g->layout[i], &ref) == 0 && seal_delete(s->vault, &ref) == 0;
}

int obj_gc(obj_store *s)
{
    gc_ctx *g = calloc(1, sizeof(*g));
    size_t i = 0, removed_now = 0;
    int rc = 0, removed = 0;

    if (g == NULL)
        return -CN_ENOMEM;
    g->cutoff_ms = obj__now_ms() - s->gc_grace_ms;
    do {
        rc = obj__meta_read(s->meta, gc_collect, g);
        if (rc != 0 || g->n == 0)
            break;
        removed_now = 0;
        for (i = 0; i < g->n; i++) {
            g->ok[i] = delete_blob(s, g, i);
            removed_now += (size_t)g->ok[i];
        }
        rc = obj__meta_write(s->meta, gc_delete_rows, g);
        if (rc == 0)
            removed += (int)removed_now;
    } while (rc == 0 && g->n == GC_BATCH && removed_now > 0);
    for (i = 0; i < GC_BATCH; i++)
        free(g->layout[i]);
    free(g);
    return rc != 0 ? rc : removed;
}

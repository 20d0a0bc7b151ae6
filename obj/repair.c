/*
 * repair: keeping every live blob's shards whole (seal/repair.c does the
 * work; this file chooses the blobs and keeps blobs.bad).
 *
 *   read finds shard i bad --obj__blob_mark_bad()--> bad |= 1<<i
 *   obj_repair() (tiering thread, every pass): blobs with bad != 0
 *   obj_scrub() (cairn scrub): every live blob
 *       both: seal_verify() --found--> seal_repair(found) --> bad = 0, or
 *       bad = found when it could not be rebuilt (fewer than k good)
 *
 * Design notes:
 *  1. Repair rewrites whole shards under their old names with their old
 *     bytes (seal/repair.c), so a reader racing a repair reads either the
 *     bad shard (and skips it) or the good one; nothing in the metadata
 *     but the bad bits changes.
 *  2. A blob that died during its repair may get a shard back after GC
 *     deleted it: the repair then deletes what it wrote when the final
 *     update finds the row gone, so no provider object outlives its row.
 *     (A dead row still in its grace period keeps its shards: GC takes them.)
 *  4. Recorded bits are hints: a shard that failed a read because its
 *     provider was down may be whole again, so every repair verifies first
 *     and records what it found.
 *  3. Batches of at most REPAIR_BATCH blobs, by ascending bid: a pass never
 *     holds a transaction while it talks to providers.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

#define REPAIR_BATCH 64

typedef struct mark_arg {
    int64_t bid;
    uint32_t set, clear;
    int exists; /* out: the row is still there (GC has not taken it) */
} mark_arg;

static int mark(obj__conn *c, void *arg)
{
    mark_arg *m = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c, "UPDATE blobs SET bad = (bad | ?2) & ~?3 WHERE bid = ?1", &st);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, m->bid);
    sqlite3_bind_int64(st, 2, m->set);
    sqlite3_bind_int64(st, 3, m->clear);
    rc = obj__step_done(c, st);
    m->exists = rc == 0 && sqlite3_changes(obj__db(c)) == 1;
    return rc;
}

void obj__blob_mark_bad(obj_store *s, int64_t bid, uint32_t bad)
{
    mark_arg m = {.bid = bid, .set = bad};

    obj__meta_write(s->meta, mark, &m); /* best effort: a scrub finds it again */
}

typedef struct batch {
    int64_t after; /* bids above this */
    int only_bad;  /* blobs with bad != 0 only */
    int64_t bid[REPAIR_BATCH];
    uint32_t bad[REPAIR_BATCH];
    seal_ref ref[REPAIR_BATCH];
    size_t n, rows; /* usable blobs, rows read */
} batch;

static int batch_load(obj__conn *c, void *arg)
{
    batch *b = arg;
    sqlite3_stmt *st = NULL;
    int rc = obj__stmt(c,
                       "SELECT bid, locator, size, layout, bad FROM blobs WHERE state = 'live' AND bid > ?1 "
                       "AND (bad != 0 OR ?2 = 0) AND substr(locator, 1, 1) != '=' ORDER BY bid LIMIT ?3",
                       &st);

    b->n = b->rows = 0;
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, b->after);
    sqlite3_bind_int(st, 2, b->only_bad);
    sqlite3_bind_int(st, 3, REPAIR_BATCH);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && b->n < REPAIR_BATCH) {
        char loc[40];
        b->rows++;
        b->after = b->bid[b->n] = sqlite3_column_int64(st, 0);
        obj__col_copy(st, 1, loc, sizeof(loc));
        b->bad[b->n] = (uint32_t)sqlite3_column_int64(st, 4);
        if (obj__blob_layout(loc, (uint64_t)sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3),
                             &b->ref[b->n]) == 0)
            b->n++;
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : obj__sqlerr(c, rc, "repair batch");
}

/* Verifies the blob, rebuilds the shards found bad and records the truth
 * in blobs.bad (bits recorded earlier may be stale: a shard that failed a
 * read because its provider was down may be fine now, and must then serve
 * as a source). 1 if the blob is whole now, 0 if not. */
static int check_and_repair(obj_store *s, int64_t bid, const seal_ref *ref, uint32_t recorded, uint32_t *found)
{
    mark_arg m = {.bid = bid};
    int whole = 0;

    *found = 0;
    if (seal_verify(s->vault, ref, found) != 0)
        return 0;
    whole = *found == 0 || seal_repair(s->vault, ref, *found) == 0;
    m.set = whole ? 0 : *found;
    m.clear = whole ? recorded | *found : recorded & ~*found;
    if (obj__meta_write(s->meta, mark, &m) == 0 && !m.exists && *found != 0)
        seal_delete(s->vault, ref); /* note 2 */
    return whole;
}

int obj_repair(obj_store *s)
{
    batch *b = calloc(1, sizeof(*b));
    int rc = 0, repaired = 0;

    if (b == NULL)
        return -CN_ENOMEM;
    b->only_bad = 1;
    do {
        rc = obj__meta_read(s->meta, batch_load, b);
        for (size_t i = 0; rc == 0 && i < b->n; i++) {
            uint32_t found = 0;
            repaired += check_and_repair(s, b->bid[i], &b->ref[i], b->bad[i], &found) && found != 0;
        }
    } while (rc == 0 && b->rows == REPAIR_BATCH);
    free(b);
    return rc != 0 ? rc : repaired;
}

static void scrub_one(obj_store *s, batch *b, size_t i, obj_scrub_report *out)
{
    uint32_t found = 0;
    int whole = check_and_repair(s, b->bid[i], &b->ref[i], b->bad[i], &found);

    out->blobs++;
    out->shards += (uint64_t)(b->ref[i].k + b->ref[i].m);
    out->bad_shards += (uint64_t)__builtin_popcount(found);
    if (whole)
        out->repaired_shards += (uint64_t)__builtin_popcount(found);
    else
        out->unrecoverable++;
}

int obj_scrub(obj_store *s, obj_scrub_report *out)
{
    batch *b = calloc(1, sizeof(*b));
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (b == NULL)
        return -CN_ENOMEM;
    do {
        rc = obj__meta_read(s->meta, batch_load, b);
        for (size_t i = 0; rc == 0 && i < b->n; i++)
            scrub_one(s, b, i, out);
    } while (rc == 0 && b->rows == REPAIR_BATCH);
    free(b);
    return rc;
}

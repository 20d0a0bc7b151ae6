/*
 * repair: verification of every shard of a blob (cairn scrub) and rebuilding
 * of the shards found missing or bad.
 *
 * Design notes:
 *  1. Verification reads each shard whole, in fragments: the header, then
 *     every fragment, each authenticated (format.c). A shard is bad as soon
 *     as one get fails or one fragment does not authenticate; a shard with
 *     extra bytes past its end is not read that far and not reported.
 *  2. Repair re-encodes the blob: a stream reads it segment by segment from
 *     the shards not being repaired (seal__segment, so any k good fragments
 *     of each segment will do), and the writer of write.c seals and puts only
 *     the shards being repaired. The cipher is deterministic per fragment
 *     (format.c note 2), so a repaired shard is byte for byte the original,
 *     under the same name: readers holding the old layout are unaffected.
 *  3. A put replaces the provider object atomically (driver contract), so a
 *     repair interrupted half-way leaves the bad shard as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "sealint.h"

static int verify_shard(seal_vault *v, const seal_ref *r, const seal__keys *k, int i, uint8_t *buf)
{
    char name[SEAL__NAME_LEN + 1];
    be_provider *p = seal__provider(v, r, i, NULL);
    uint64_t nseg = seal__nseg(r);
    int rc = 0;

    if (p == NULL)
        return -CN_EIO;
    seal__shard_name(k, r, i, name);
    rc = p->driver->get(p, name, 0, buf, SEAL__HDR);
    if (rc == 0)
        rc = seal__header_check(k, r, i, buf);
    for (uint64_t j = 0; rc == 0 && j < nseg; j++) {
        size_t flen = seal__flen(r, j);
        rc = p->driver->get(p, name, seal__frag_off(r, j), buf, flen + SEAL__TAG);
        if (rc == 0)
            rc = seal__frag_open(k, r, i, j, buf, flen, buf);
    }
    return rc;
}

int seal_verify(seal_vault *v, const seal_ref *r, uint32_t *bad)
{
    seal__keys k = {0};
    uint8_t *buf = NULL;
    int rc = 0;

    *bad = 0;
    if (r->plain) {
        uint8_t one = 0;
        be_provider *p = seal__provider(v, r, 0, NULL);
        /* unsealed: only presence and length can be checked (a 0-byte get
         * checks presence) */
        if (p == NULL || p->driver->get(p, r->locator, r->size > 0 ? r->size - 1 : 0, &one, r->size > 0) != 0)
            *bad = 1;
        return 0;
    }
    rc = seal__keys_open(v->mk, r, &k);
    buf = malloc((r->segment + (size_t)r->k - 1) / (size_t)r->k + SEAL__TAG + SEAL__HDR);
    if (rc == 0 && buf == NULL)
        rc = -CN_ENOMEM;
    for (int i = 0; rc == 0 && i < r->k + r->m; i++)
        if (verify_shard(v, r, &k, i, buf) != 0)
            *bad |= 1u << i;
    free(buf);
    seal__keys_wipe(&k);
    return rc;
}

/* The blob's plaintext as a stream, rebuilt from the shards not in skip. */
typedef struct rebuild {
    cn_stream base;
    seal_vault *v;
    const seal_ref *r;
    const seal__keys *k;
    uint8_t *scratch, *seg;
    uint64_t next; /* next segment to decode */
    size_t pos, len;
    uint32_t bad;
} rebuild;

static long rebuild_read(cn_stream *s, void *buf, size_t n)
{
    rebuild *b = (rebuild *)s;
    size_t take = 0;

    if (b->pos == b->len) {
        int rc = 0;
        if (b->next == seal__nseg(b->r))
            return 0;
        rc = seal__segment(b->v, b->r, b->k, b->next, b->scratch, b->seg, &b->bad);
        if (rc != 0)
            return rc;
        b->len = seal__seglen(b->r, b->next++);
        b->pos = 0;
    }
    take = b->len - b->pos < n ? b->len - b->pos : n;
    memcpy(buf, b->seg + b->pos, take);
    b->pos += take;
    return (long)take;
}

static void rebuild_close(cn_stream *s)
{
    (void)s;
}

int seal_repair(seal_vault *v, const seal_ref *r, uint32_t mask)
{
    seal__keys k = {0};
    rebuild b = {.base = {.read = rebuild_read, .close = rebuild_close}, .v = v, .r = r, .k = &k, .bad = mask};
    seal_ref rr = *r;
    uint32_t missing = 0;
    int rc = 0;

    mask &= (1u << (r->k + r->m)) - 1;
    if (r->plain || mask == 0)
        return r->plain && mask ? -CN_EIO : 0; /* one unsealed copy: nothing to rebuild from */
    rr.quorum = 0;                             /* every shard in mask must be written */
    rc = seal__keys_open(v->mk, r, &k);
    b.scratch = malloc((size_t)(r->k + r->m) * ((r->segment + (size_t)r->k - 1) / (size_t)r->k + SEAL__TAG));
    b.seg = malloc(seal__seg_cap(r));
    if (rc == 0 && (b.scratch == NULL || b.seg == NULL))
        rc = -CN_ENOMEM;
    if (rc == 0)
        rc = seal__write(v, &rr, &k, &b.base, mask, &missing);
    if (rc == 0 && missing != 0)
        rc = -CN_EIO;
    free(b.scratch);
    free(b.seg);
    seal__keys_wipe(&k);
    return rc;
}
